// The one place nft text is written: values, matches, rules, declarations, tables and the
// operations of a transaction, in the syntax `nft -f` reads. Total and pure: it assumes the
// objects passed validation (validate.ts), which is what makes quoting without escapes safe —
// names, interface names, comments and log prefixes never contain a quote or a backslash.
import type {
  Chain,
  Element,
  KeyType,
  Match,
  NftMap,
  NftSet,
  Operand,
  Rule,
  Selector,
  SimpleVerdict,
  Statement,
  Table,
  TableObject,
  Value,
  Verdict,
} from "./objects.js";
import { FIELD_TYPES } from "./objects.js";

/** nft's family of every egw table. */
export const FAMILY = "inet";

export const hex = (n: number, width = 8): string => `0x${(n >>> 0).toString(16).padStart(width, "0")}`;
const quoted = (s: string): string => `"${s}"`;

/** A value of a field or set of type `type` as nft writes it. */
export function valueText(type: KeyType, v: Value): string {
  switch (type) {
    case "ifname":
    case "iface_index":
      return quoted(String(v));
    case "mark":
      // Zero is "no mark": written as 0, every other mark in hex like the masks around it.
      return v === 0 ? "0" : hex(Number(v));
    default:
      return String(v);
  }
}

export const elementText = (type: readonly KeyType[], e: Element): string =>
  typeof e === "object"
    ? e.map((v, i) => valueText(type[i] ?? "mark", v)).join(" . ")
    : valueText(type[0] ?? "mark", e);

/** Types whose values are written as they are held (no quotes, no hex). */
const PLAIN: ReadonlySet<KeyType> = new Set(["ipv4_addr", "inet_proto", "inet_service", "nf_proto"]);

export const typeText = (type: readonly KeyType[]): string => type.join(" . ");

const selectorTypes = (s: Selector): KeyType[] => s.fields.map((f) => FIELD_TYPES[f]);

export const selectorText = (s: Selector): string =>
  s.fields.length === 1 && s.mask === undefined
    ? (s.fields[0] as string)
    : s.fields.join(" . ") + (s.mask !== undefined ? ` and ${hex(s.mask)}` : "");

const rangeText = (r: number | { from: number; to: number }): string =>
  typeof r === "number" ? String(r) : r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;

function operandText(left: Selector, o: Operand): string {
  switch (o.kind) {
    case "value":
      return valueText(selectorTypes(left)[0] ?? "mark", o.value);
    case "range":
      return rangeText(o);
    case "set":
      return `@${o.name}`;
    case "anonymous":
      return `{ ${o.elements.map(rangeText).join(", ")} }`;
    case "states":
      return o.states.join(",");
  }
}

export const matchText = (m: Match): string =>
  `${selectorText(m.left)} ${m.op === "!=" ? "!= " : ""}${operandText(m.left, m.right)}`;

export function statementText(s: Statement): string {
  switch (s.kind) {
    case "counter":
      return s.packets !== undefined ? `counter packets ${s.packets} bytes ${s.bytes ?? 0}` : "counter";
    case "log":
      return `log prefix ${quoted(s.prefix)} group ${s.group}`;
    case "mark":
      return `${s.target} mark set ${s.target} mark and ${hex(~s.mask)} or ${hex(s.value)}`;
    case "snat":
      return `snat ip to ${s.to}`;
  }
}

export function verdictText(v: Verdict): string {
  switch (v.kind) {
    case "jump":
    case "goto":
      return `${v.kind} ${v.chain}`;
    case "vmap":
      return `${selectorText(v.key)} vmap @${v.map}`;
    default:
      return v.kind;
  }
}

export function ruleText(r: Rule): string {
  const parts: string[] = [];
  for (const m of r.match) parts.push(matchText(m));
  for (const s of r.statements) parts.push(statementText(s));
  if (r.verdict !== undefined) parts.push(verdictText(r.verdict));
  if (r.comment !== undefined) parts.push(`comment ${quoted(r.comment)}`);
  return parts.join(" ");
}

const elementsText = (items: readonly (string | Element)[]): string =>
  items.length === 0 ? "" : ` elements = { ${items.join(", ")} }`;

export const mapElementText = (
  type: readonly KeyType[],
  e: { key: Element; verdict: SimpleVerdict },
): string => `${elementText(type, e.key)} : ${verdictText(e.verdict)}`;

function setLine(s: NftSet): string {
  const flags = s.interval ? " flags interval; auto-merge;" : "";
  const plain = s.type.length === 1 && PLAIN.has(s.type[0] as KeyType);
  // Plain single values are their own text: join them without a copy (sets of 100,000 prefixes).
  const items = plain ? s.elements : s.elements.map((e) => elementText(s.type, e));
  return `set ${s.name} { type ${typeText(s.type)};${flags}${elementsText(items)} }`;
}

const mapLine = (m: NftMap): string =>
  `map ${m.name} { type ${typeText(m.type)} : verdict;${elementsText(m.elements.map((e) => mapElementText(m.type, e)))} }`;

function priorityText(p: { base: string; offset: number }): string {
  if (p.offset === 0) return p.base;
  return p.offset > 0 ? `${p.base} + ${p.offset}` : `${p.base} - ${-p.offset}`;
}

function chainLines(c: Chain): string[] {
  const lines = [`chain ${c.name} {`];
  if (c.base)
    lines.push(
      `  type ${c.base.type} hook ${c.base.hook} priority ${priorityText(c.base.priority)}; policy ${c.base.policy};`,
    );
  for (const r of c.rules) lines.push(`  ${ruleText(r)}`);
  lines.push("}");
  return lines;
}

// Sets and maps are immutable values, so the text of a big one is kept: a table re-rendered with
// counter values in a few chains does not write its 100,000-element sets again. (Small ones are
// not kept: every entry costs the garbage collector more than writing them.)
const setLines = new WeakMap<NftSet | NftMap, readonly string[]>();
const KEEP_FROM = 1000;

/** One declaration inside `table inet … { }`, as lines without the table's indent. */
export function objectLines(o: TableObject): readonly string[] {
  if (o.kind === "chain") return chainLines(o);
  let lines = setLines.get(o);
  if (lines === undefined) {
    lines = [o.kind === "set" ? setLine(o) : mapLine(o)];
    if (o.elements.length >= KEEP_FROM) setLines.set(o, lines);
  }
  return lines;
}

/**
 * One declaration without its elements: a chain in full, a set or map as its name, type and
 * flags. What stays the same while only elements change (a node table's outline is hashed over it).
 */
export function outlineLines(o: TableObject): readonly string[] {
  if (o.kind === "chain") return chainLines(o);
  if (o.kind === "map") return [`map ${o.name} { type ${typeText(o.type)} : verdict; }`];
  return [`set ${o.name} { type ${typeText(o.type)};${o.interval ? " flags interval; auto-merge;" : ""} }`];
}

/** The declaration lines of a table's objects (what the table's plan hash is taken over). */
export function tableBodyLines(objects: readonly TableObject[]): string[] {
  const lines: string[] = [];
  for (const o of objects) for (const l of objectLines(o)) lines.push(l);
  return lines;
}

/** `table inet <name> { … }` with every declaration indented. */
export const tableText = (t: Table, bodyLines: readonly string[] = tableBodyLines(t.objects)): string =>
  [`table ${FAMILY} ${t.name} {`, ...bodyLines.map((l) => `  ${l}`), "}"].join("\n");

/**
 * Atomic replacement of a whole table: declaring the table first makes the delete valid when it
 * does not exist yet; in one `nft -f` either everything applies or nothing does.
 */
export const replaceTableText = (t: Table, bodyLines?: readonly string[]): string =>
  `table ${FAMILY} ${t.name}\ndelete table ${FAMILY} ${t.name}\n${tableText(t, bodyLines)}\n`;

export const deleteTableText = (name: string): string =>
  `table ${FAMILY} ${name}\ndelete table ${FAMILY} ${name}\n`;

export const addElementsText = (table: string, set: string, items: readonly string[]): string =>
  `add element ${FAMILY} ${table} ${set} { ${items.join(", ")} }\n`;

export const deleteElementsText = (table: string, set: string, items: readonly string[]): string =>
  `delete element ${FAMILY} ${table} ${set} { ${items.join(", ")} }\n`;

/**
 * A set or map holding exactly `items` afterwards: flushed, then its declaration repeated with the
 * elements. The flush fails when the set does not exist, so the declaration never creates one.
 * Written as a declaration, not `add element`: nft 1.0.6 reads every interval set of the ruleset
 * back before it adds or deletes elements (for its auto-merge), which costs about a second per
 * 100,000 prefixes; a declaration skips that.
 */
export function setElementsText(
  s: { table: string; name: string; kind: "set" | "map"; type: readonly KeyType[]; interval: boolean },
  items: readonly string[],
): string {
  const flush = `flush ${s.kind} ${FAMILY} ${s.table} ${s.name}\n`;
  if (items.length === 0) return flush;
  const type = s.kind === "map" ? `${typeText(s.type)} : verdict` : typeText(s.type);
  const flags = s.interval ? " flags interval; auto-merge;" : "";
  return `${flush}table ${FAMILY} ${s.table} { ${s.kind} ${s.name} { type ${type};${flags} elements = { ${items.join(", ")} }; }; }\n`;
}
