// Checks of nft objects before any text exists: names egw may use, interface names, comments,
// element values against their set's type, and a table's internal consistency (every set, map
// and chain a rule names exists with the right type, no jump loops). Each check returns the
// first problem, naming the object and what would be valid, or undefined. Pure.
import type {
  Chain,
  Element,
  KeyType,
  Match,
  MapElement,
  NftMap,
  NftSet,
  Rule,
  Selector,
  SimpleVerdict,
  Statement,
  Table,
  Value,
} from "./objects.js";
import { CT_STATES, FIELD_TYPES, PRIORITIES } from "./objects.js";

/** Interface names as the kernel allows them, minus anything that could break out of a quote. */
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;
export const validIfname = (name: string): boolean => IFNAME.test(name) && name !== "." && name !== "..";
/** An interface-name prefix used as an nft wildcard (`"ew*"`). */
export const validIfnamePrefix = (prefix: string): boolean => /^[A-Za-z0-9_.:@+-]{1,14}$/.test(prefix);

/** nft words a name must never be (egw's `egw_` prefix already rules them out; kept explicit). */
const KEYWORDS = new Set(
  "table chain set map element rule ip ip6 inet arp bridge netdev meta ct fwd counter log accept drop return jump goto continue queue reject limit flags type hook priority policy elements comment".split(
    " ",
  ),
);
/** Object names: egw's prefix, nft-safe characters, short enough for every kernel limit. */
const OBJECT_NAME = /^egw_[a-z0-9_]{1,59}$/;
const TABLE_NAME = /^egw(_[a-z0-9_]{1,59})?$/;
/** Printable ASCII without quote or backslash: nft strings have no escapes. */
const SAFE_TEXT = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
/** nft rejects longer comments; the kernel rejects log prefixes of 128 bytes or more. */
export const COMMENT_MAX = 128;
export const LOG_PREFIX_MAX = 127;

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/** Dotted-quad IPv4 (no leading zeros, as api/ip.ts), optionally a prefix: a regex is the fastest check for 100,000-element sets. */
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const IPV4_PREFIX = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}(?:/(?:3[0-2]|[12]?[0-9]))?$`);

const isUint = (v: unknown, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

export function checkTableName(name: string): string | undefined {
  if (!TABLE_NAME.test(name) || KEYWORDS.has(name))
    return `table name "${name}" must be "egw" or "egw_" followed by 1-59 of [a-z0-9_]`;
  return undefined;
}

export function checkObjectName(what: string, name: string): string | undefined {
  if (!OBJECT_NAME.test(name) || KEYWORDS.has(name))
    return `${what} name "${name}" must be "egw_" followed by 1-59 of [a-z0-9_] (never an nft keyword)`;
  return undefined;
}

export function checkText(what: string, text: string, max: number): string | undefined {
  if (text.length > max) return `${what} "${text}" is ${text.length} characters long; at most ${max} fit`;
  if (!SAFE_TEXT.test(text)) return `${what} "${text}" must be printable ASCII without '"' or '\\'`;
  return undefined;
}

/** Whether `v` is a valid value of `type` (in an interval set when `interval`). */
function validValue(type: KeyType, v: Value, interval: boolean): boolean {
  switch (type) {
    case "ifname":
    case "iface_index":
      return typeof v === "string" && validIfname(v);
    case "ipv4_addr":
      return typeof v === "string" && (interval ? IPV4_PREFIX : IPV4).test(v);
    case "mark":
      return isUint(v, 0xffffffff);
    case "inet_proto":
      return isUint(v, 255);
    case "inet_service":
      return isUint(v, 65535);
    case "nf_proto":
      return v === "ipv4" || v === "ipv6";
    case "ct_dir":
      return v === "original" || v === "reply";
    case "ct_state":
      return (CT_STATES as readonly Value[]).includes(v);
  }
}

const expected: Record<KeyType, string> = {
  ifname: "an interface name (1-15 of [A-Za-z0-9_.:@+-])",
  iface_index: "an interface name (1-15 of [A-Za-z0-9_.:@+-])",
  ipv4_addr: "an IPv4 address",
  mark: "an integer 0-0xffffffff",
  inet_proto: "a protocol number 0-255",
  inet_service: "a port 0-65535",
  nf_proto: '"ipv4" or "ipv6"',
  ct_dir: '"original" or "reply"',
  ct_state: CT_STATES.join(", "),
};

/** A set element against its set's key type. */
export function checkElement(type: readonly KeyType[], interval: boolean, e: Element): string | undefined {
  const values = typeof e === "object" ? e : undefined;
  if (type.length === 1 ? values !== undefined : values?.length !== type.length)
    return `element ${JSON.stringify(e)} does not fit the set's type ${type.join(" . ")}: ${type.length === 1 ? "one bare value" : `an array of ${type.length} values`} is needed`;
  for (let i = 0; i < type.length; i++) {
    const t = type[i] as KeyType;
    const v = (values === undefined ? e : values[i]) as Value;
    if (!validValue(t, v, interval && type.length === 1))
      return `element ${JSON.stringify(e)}: ${JSON.stringify(v)} is not ${t === "ipv4_addr" && interval ? "an IPv4 address or prefix" : expected[t]}`;
  }
  return undefined;
}

const keyOf = (e: Element): string => (typeof e === "object" ? e.join("\u0000") : String(e));

/** Elements of one set or map: valid values, and no key twice where the kernel counts elements. */
export const checkElements = (
  what: string,
  type: readonly KeyType[],
  interval: boolean,
  keys: readonly Element[],
): string | undefined => checkKeys(what, type, interval, keys.length, (i) => keys[i] as Element);

function checkKeys(
  what: string,
  type: readonly KeyType[],
  interval: boolean,
  count: number,
  keyAt: (i: number) => Element,
): string | undefined {
  if (type.length === 0) return `${what}: a set needs a key type`;
  for (const t of type) if (!(t in expected)) return `${what}: key type "${t}" is not one egw uses`;
  if (interval && (type.length !== 1 || type[0] !== "ipv4_addr"))
    return `${what}: only ipv4_addr sets can be interval sets`;
  const seen = interval ? undefined : new Set<string>();
  const single = type.length === 1 ? (type[0] as KeyType) : undefined;
  for (let i = 0; i < count; i++) {
    const e = keyAt(i);
    // The common case (one key type, a valid value) without building a message.
    const fine = single !== undefined && typeof e !== "object" && validValue(single, e, interval);
    const problem = fine ? undefined : checkElement(type, interval, e);
    if (problem !== undefined) return `${what}: ${problem}`;
    if (seen === undefined) continue;
    const k = keyOf(e);
    // The kernel keeps one copy, so the read-back count would never match the rendered one.
    if (seen.has(k)) return `${what}: element ${JSON.stringify(e)} is listed twice`;
    seen.add(k);
  }
  return undefined;
}

function checkVerdictTarget(
  what: string,
  v: SimpleVerdict,
  chains: ReadonlyMap<string, Chain>,
): string | undefined {
  if (v.kind !== "jump" && v.kind !== "goto") return undefined;
  const target = chains.get(v.chain);
  if (target === undefined) return `${what}: ${v.kind} to chain "${v.chain}", which the table does not have`;
  if (target.base !== undefined)
    return `${what}: ${v.kind} to base chain "${v.chain}" (only regular chains can be targets)`;
  return undefined;
}

export const checkMapElements = (
  what: string,
  m: Pick<NftMap, "type">,
  elements: readonly MapElement[],
  chains?: ReadonlyMap<string, Chain>,
): string | undefined => {
  const problem = checkKeys(what, m.type, false, elements.length, (i) => (elements[i] as MapElement).key);
  if (problem !== undefined || chains === undefined) return problem;
  for (const e of elements) {
    const p = checkVerdictTarget(`${what}: element ${JSON.stringify(e.key)}`, e.verdict, chains);
    if (p !== undefined) return p;
  }
  return undefined;
};

const sameTypes = (a: readonly KeyType[], b: readonly KeyType[]): boolean =>
  a.length === b.length && a.every((t, i) => t === b[i]);

interface Scope {
  sets: ReadonlyMap<string, NftSet>;
  maps: ReadonlyMap<string, NftMap>;
  chains: ReadonlyMap<string, Chain>;
}

function checkSelector(s: Selector): string | undefined {
  if (s.fields.length === 0) return "a selector needs a field";
  for (const f of s.fields) if (!(f in FIELD_TYPES)) return `field "${f}" is not one egw uses`;
  if (s.mask !== undefined) {
    if (s.fields.length !== 1 || FIELD_TYPES[s.fields[0] as keyof typeof FIELD_TYPES] !== "mark")
      return "only a single mark field can be masked";
    if (!isUint(s.mask, 0xffffffff) || s.mask === 0)
      return `mask ${s.mask} must be a non-zero 32-bit integer`;
  }
  return undefined;
}

function checkMatch(m: Match, scope: Scope): string | undefined {
  const bad = checkSelector(m.left);
  if (bad !== undefined) return bad;
  const types = m.left.fields.map((f) => FIELD_TYPES[f]);
  const single = types.length === 1 ? types[0] : undefined;
  const r = m.right;
  switch (r.kind) {
    case "set": {
      const s = scope.sets.get(r.name);
      if (s === undefined) return `set "${r.name}" does not exist in the table`;
      if (!sameTypes(s.type, types))
        return `set "${r.name}" holds ${s.type.join(" . ")}, but the match compares ${types.join(" . ")}`;
      return undefined;
    }
    case "value":
      if (single === undefined) return "a concatenation can only be looked up in a set";
      if (single === "ifname" && typeof r.value === "string" && r.value.endsWith("*"))
        return validIfnamePrefix(r.value.slice(0, -1))
          ? undefined
          : `"${r.value}" is not a valid interface-name wildcard (1-14 of [A-Za-z0-9_.:@+-] then *)`;
      if (single === "ct_state") return "ct state is matched with a list of states";
      return validValue(single, r.value, false)
        ? undefined
        : `${JSON.stringify(r.value)} is not ${expected[single]}`;
    case "range":
    case "anonymous": {
      if (single !== "inet_service" && single !== "inet_proto")
        return `ranges and inline sets are for ports and protocols, not ${types.join(" . ")}`;
      const max = single === "inet_service" ? 65535 : 255;
      const items = r.kind === "range" ? [r] : r.elements;
      if (items.length === 0) return "an inline set needs elements";
      for (const x of items) {
        const [from, to] = typeof x === "number" ? [x, x] : [x.from, x.to];
        if (!isUint(from, max) || !isUint(to, max) || from > to)
          return `${typeof x === "number" ? x : `${x.from}-${x.to}`} is not a value or range within 0-${max}`;
      }
      return undefined;
    }
    case "states":
      if (single !== "ct_state") return "a list of states needs the ct state field";
      if (r.states.length === 0 || r.states.some((s) => !CT_STATES.includes(s)))
        return `ct states ${JSON.stringify(r.states)} must be some of ${CT_STATES.join(", ")}`;
      return undefined;
  }
}

function checkStatement(s: Statement, c: Chain): string | undefined {
  switch (s.kind) {
    case "counter":
      if ((s.packets === undefined) !== (s.bytes === undefined))
        return "a counter start value needs both packets and bytes";
      if (
        s.packets !== undefined &&
        (!isUint(s.packets, Number.MAX_SAFE_INTEGER) || !isUint(s.bytes, Number.MAX_SAFE_INTEGER))
      )
        return `counter values ${s.packets}/${s.bytes} must be non-negative integers`;
      return undefined;
    case "log":
      if (!isUint(s.group, 65535)) return `log group ${s.group} must be 0-65535`;
      return checkText("log prefix", s.prefix, LOG_PREFIX_MAX);
    case "mark":
      if (!isUint(s.mask, 0xffffffff) || s.mask === 0)
        return `mark mask ${s.mask} must be a non-zero 32-bit integer`;
      if (!isUint(s.value, 0xffffffff) || (s.value & ~s.mask) !== 0)
        return `mark value ${s.value} must lie inside its mask ${s.mask}`;
      return undefined;
    case "snat":
      if (c.base?.type !== "nat" || c.base.hook !== "postrouting")
        return "snat belongs in a nat postrouting chain";
      return IPV4.test(s.to) ? undefined : `snat address "${s.to}" is not an IPv4 address`;
  }
}

function checkRule(r: Rule, c: Chain, scope: Scope): string | undefined {
  for (const [i, m] of r.match.entries()) {
    const p = checkMatch(m, scope);
    if (p !== undefined) return `match ${i}: ${p}`;
  }
  for (const [i, s] of r.statements.entries()) {
    const p = checkStatement(s, c);
    if (p !== undefined) return `statement ${i}: ${p}`;
  }
  if (r.comment !== undefined) {
    const p = checkText("comment", r.comment, COMMENT_MAX);
    if (p !== undefined) return p;
  }
  const v = r.verdict;
  if (v === undefined) return undefined;
  if (v.kind !== "vmap") return checkVerdictTarget("verdict", v, scope.chains);
  const bad = checkSelector(v.key);
  if (bad !== undefined) return `vmap key: ${bad}`;
  const m = scope.maps.get(v.map);
  if (m === undefined) return `verdict map "${v.map}" does not exist in the table`;
  const types = v.key.fields.map((f) => FIELD_TYPES[f]);
  if (!sameTypes(m.type, types))
    return `verdict map "${v.map}" is keyed by ${m.type.join(" . ")}, not ${types.join(" . ")}`;
  return undefined;
}

function checkBase(c: Chain): string | undefined {
  const b = c.base;
  if (b === undefined) return undefined;
  if (!["prerouting", "input", "forward", "output", "postrouting"].includes(b.hook))
    return `hook "${b.hook}" is not valid`;
  if (b.type === "nat" && b.hook === "forward") return "nat chains cannot hook forward";
  if (!(b.priority.base in PRIORITIES) || !Number.isInteger(b.priority.offset))
    return `priority ${JSON.stringify(b.priority)} must be a named priority plus an integer`;
  return b.policy === "accept" || b.policy === "drop"
    ? undefined
    : `policy "${b.policy}" must be accept or drop`;
}

/** Chains reachable by jump/goto (rules and verdict-map elements) form no loop: the kernel refuses loops. */
function checkLoops(scope: Scope): string | undefined {
  const edges = new Map<string, string[]>();
  const targets = (v: SimpleVerdict | undefined): string[] =>
    v !== undefined && (v.kind === "jump" || v.kind === "goto") ? [v.chain] : [];
  for (const c of scope.chains.values()) {
    const out: string[] = [];
    for (const r of c.rules) {
      if (r.verdict?.kind === "vmap") {
        for (const e of scope.maps.get(r.verdict.map)?.elements ?? []) out.push(...targets(e.verdict));
      } else out.push(...targets(r.verdict));
    }
    edges.set(c.name, out);
  }
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): string | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return `chains loop: ${[...path, name].join(" -> ")}`;
    state.set(name, "visiting");
    for (const next of edges.get(name) ?? []) {
      const p = visit(next, [...path, name]);
      if (p !== undefined) return p;
    }
    state.set(name, "done");
    return undefined;
  };
  for (const name of edges.keys()) {
    const p = visit(name, []);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** The first problem of a whole table, or undefined. */
export function checkTable(t: Table): string | undefined {
  const at = `table inet ${t.name}`;
  const nameProblem = checkTableName(t.name);
  if (nameProblem !== undefined) return nameProblem;
  const sets = new Map<string, NftSet>();
  const maps = new Map<string, NftMap>();
  const chains = new Map<string, Chain>();
  const names = new Set<string>();
  for (const o of t.objects) {
    const p = checkObjectName(o.kind, o.name);
    if (p !== undefined) return `${at}: ${p}`;
    if (names.has(o.name)) return `${at}: "${o.name}" is declared twice`;
    names.add(o.name);
    if (o.kind === "set") sets.set(o.name, o);
    else if (o.kind === "map") maps.set(o.name, o);
    else chains.set(o.name, o);
  }
  const scope: Scope = { sets, maps, chains };
  for (const s of sets.values()) {
    const p = checkElements(`${at}: set ${s.name}`, s.type, s.interval === true, s.elements);
    if (p !== undefined) return p;
  }
  for (const m of maps.values()) {
    const p = checkMapElements(`${at}: map ${m.name}`, m, m.elements, chains);
    if (p !== undefined) return p;
  }
  for (const c of chains.values()) {
    const base = checkBase(c);
    if (base !== undefined) return `${at}: chain ${c.name}: ${base}`;
    for (const [i, r] of c.rules.entries()) {
      const p = checkRule(r, c, scope);
      if (p !== undefined) return `${at}: chain ${c.name}: rule ${i}: ${p}`;
    }
  }
  const loop = checkLoops(scope);
  return loop === undefined ? undefined : `${at}: ${loop}`;
}
