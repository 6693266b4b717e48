// An in-memory nft ruleset for unit tests: runs a Transaction the way the kernel does — on a
// copy, so a transaction that fails anywhere changes nothing — and hands the ruleset back as
// model values (for the tracer) or as text (Dump). Element semantics follow the kernel's: adding
// an element that is there is a no-op, adding a map key with another verdict fails ("File
// exists"), deleting an element that is not there fails, setting a set's elements flushes it
// first (and fails when it does not exist). Interval sets
// auto-merge as egw declares them: overlapping and adjacent prefixes become one element (listed
// back as the fewest prefixes covering it), so deleting a prefix that was merged fails as it does
// in the kernel ("element does not exist"). Only `inet` tables exist.
import { err, ok, type Result } from "../../util/result.js";
import type {
  Chain,
  Element,
  MapElement,
  NftMap,
  NftSet,
  SimpleVerdict,
  Table,
  TableObject,
} from "./objects.js";
import { mergeRanges, rangePrefixes, addressRange, type AddressRange } from "./elements.js";
import { elementKey } from "./objects.js";
import { tableText } from "./text.js";
import type { Operation, SetRef, Transaction } from "./transaction.js";

/**
 * A set or map: its declaration and its elements by key. An interval set holds merged address
 * ranges instead, keyed by `lo-hi`: the kernel's elements after auto-merge.
 */
interface ElementsState {
  readonly decl: NftSet | NftMap;
  readonly elements: Map<string, Element | MapElement>;
  readonly ranges?: Map<string, AddressRange>;
}
type ObjectState = Chain | ElementsState;
type TableState = Map<string, ObjectState>;

const rangeKey = ([lo, hi]: AddressRange): string => `${lo}-${hi}`;
const isInterval = (d: NftSet | NftMap): boolean => d.kind === "set" && d.interval === true;

/** What auto-merge leaves of `held` plus `added`, or the first element that is no prefix. */
function merged(held: Iterable<AddressRange>, added: readonly Element[]): Map<string, AddressRange> | string {
  const all = [...held];
  for (const e of added) {
    const r = typeof e === "object" ? undefined : addressRange(String(e));
    if (r === undefined) return `${JSON.stringify(e)} is not an IPv4 address or prefix`;
    all.push(r);
  }
  return new Map(mergeRanges(all).map((r) => [rangeKey(r), r]));
}

function setState(decl: NftSet | NftMap, elements: readonly (Element | MapElement)[]): ElementsState {
  if (decl.kind === "set" && isInterval(decl)) {
    const ranges = merged([], elements as readonly Element[]);
    // Validated tables hold prefixes only; anything else is kept as given.
    if (typeof ranges !== "string") return { decl, elements: new Map(), ranges };
  }
  const byKey = new Map<string, Element | MapElement>();
  if (decl.kind === "set") for (const e of elements as readonly Element[]) byKey.set(elementKey(e), e);
  else for (const e of elements as readonly MapElement[]) byKey.set(elementKey(e.key), e);
  return { decl, elements: byKey };
}

const sameVerdict = (a: SimpleVerdict, b: SimpleVerdict): boolean =>
  a.kind === b.kind && ("chain" in a ? a.chain : "") === ("chain" in b ? b.chain : "");

function stateOf(t: Table): TableState {
  const s: TableState = new Map();
  for (const o of t.objects) {
    if (o.kind === "chain") s.set(o.name, o);
    else s.set(o.name, setState(o, o.elements));
  }
  return s;
}

function tableOf(name: string, s: TableState): Table {
  const objects: TableObject[] = [];
  for (const o of s.values()) {
    if ("kind" in o) objects.push(o);
    else if (o.ranges !== undefined)
      objects.push({ ...o.decl, elements: [...o.ranges.values()].flatMap(rangePrefixes) } as NftSet);
    else if (o.decl.kind === "set")
      objects.push({ ...o.decl, elements: [...o.elements.values()] as Element[] });
    else objects.push({ ...o.decl, elements: [...o.elements.values()] as MapElement[] });
  }
  return { name, objects };
}

export class FakeNft {
  private tables = new Map<string, TableState>();

  /** Applies every operation of `tx`, or none: the first problem is returned and nothing changes. */
  run(tx: Transaction): Result<void, string> {
    if (tx.error !== undefined) return err(tx.error);
    const next = new Map(this.tables);
    // Tables and element maps are copied when an operation first touches them.
    const copied = new Set<ObjectState | TableState>();
    for (const [i, op] of tx.operations.entries()) {
      const problem = apply(next, op, copied);
      if (problem !== undefined) return err(`operation ${i} (${op.kind}): ${problem}`);
    }
    this.tables = next;
    return ok(undefined);
  }

  /** One table as model values, or undefined when it does not exist. */
  table(name: string): Table | undefined {
    const s = this.tables.get(name);
    return s === undefined ? undefined : tableOf(name, s);
  }

  /** Every table, in the order they were created. */
  ruleset(): Table[] {
    return [...this.tables].map(([name, s]) => tableOf(name, s));
  }

  /** The ruleset as `nft list ruleset` would show it (without counter values or handles). */
  dump(): string {
    return this.ruleset()
      .map((t) => `${tableText(t)}\n`)
      .join("");
  }
}

function apply(
  tables: Map<string, TableState>,
  op: Operation,
  copied: Set<ObjectState | TableState>,
): string | undefined {
  switch (op.kind) {
    case "replace-table": {
      const s = stateOf(op.table);
      copied.add(s);
      for (const o of s.values()) copied.add(o);
      tables.set(op.table.name, s);
      return undefined;
    }
    case "delete-table":
      tables.delete(op.name);
      return undefined;
    case "add-elements":
    case "add-map-elements":
    case "delete-elements":
    case "set-elements":
    case "set-map-elements": {
      const found = target(tables, op.set, copied);
      if (typeof found === "string") return found;
      const { table, state } = found;
      if (op.kind === "set-elements" || op.kind === "set-map-elements") {
        // A flush, then the elements added again.
        state.elements.clear();
        state.ranges?.clear();
        const add: Operation =
          op.kind === "set-elements"
            ? { kind: "add-elements", set: op.set, elements: op.elements }
            : { kind: "add-map-elements", set: op.set, elements: op.elements };
        return apply(tables, add, copied);
      }
      if (state.ranges !== undefined) return intervalUpdate(op, state.ranges);
      if (op.kind === "add-elements") {
        for (const e of op.elements) state.elements.set(elementKey(e), e);
        return undefined;
      }
      if (op.kind === "delete-elements") {
        for (const k of op.keys) {
          // The kernel says "No such file or directory".
          if (!state.elements.delete(elementKey(k)))
            return `${op.set.name} has no element ${JSON.stringify(k)}`;
        }
        return undefined;
      }
      const elements = state.elements as Map<string, MapElement>;
      for (const e of op.elements) {
        const key = elementKey(e.key);
        const have = elements.get(key);
        // The kernel says "File exists".
        if (have !== undefined && !sameVerdict(have.verdict, e.verdict))
          return `${op.set.name} already maps ${JSON.stringify(e.key)} to another verdict`;
        const v = e.verdict;
        if (v.kind === "jump" || v.kind === "goto") {
          const c = table.get(v.chain);
          if (c === undefined || !("kind" in c) || c.base !== undefined)
            return `${op.set.name}: ${v.kind} to "${v.chain}", which is not a regular chain of table ${op.set.table}`;
        }
        elements.set(key, e);
      }
      return undefined;
    }
  }
}

/** Adds to or deletes from an interval set's merged ranges; deleting needs an exact element. */
function intervalUpdate(
  op: Extract<Operation, { kind: "add-elements" | "add-map-elements" | "delete-elements" }>,
  ranges: Map<string, AddressRange>,
): string | undefined {
  if (op.kind === "add-elements") {
    const next = merged(ranges.values(), op.elements);
    if (typeof next === "string") return `${op.set.name}: ${next}`;
    ranges.clear();
    for (const [k, r] of next) ranges.set(k, r);
    return undefined;
  }
  if (op.kind === "add-map-elements") return `${op.set.name} is a set, not a map`;
  for (const k of op.keys) {
    const r = typeof k === "object" ? undefined : addressRange(String(k));
    // The kernel says "No such file or directory": a merged element is not one of its prefixes.
    if (r === undefined || !ranges.delete(rangeKey(r)))
      return `${op.set.name} has no element ${JSON.stringify(k)} (interval elements merge when added)`;
  }
  return undefined;
}

/** The set or map an element operation names, copied for writing; or what is wrong with the name. */
function target(
  tables: Map<string, TableState>,
  ref: SetRef,
  copied: Set<ObjectState | TableState>,
): { table: TableState; state: ElementsState } | string {
  let table = tables.get(ref.table);
  if (table === undefined) return `table inet ${ref.table} does not exist`;
  const o = table.get(ref.name);
  if (o === undefined || "kind" in o) return `table inet ${ref.table} has no set or map "${ref.name}"`;
  const d = o.decl;
  const interval = d.kind === "set" && d.interval === true;
  if (d.kind !== ref.kind || d.type.join(" . ") !== ref.type.join(" . ") || interval !== ref.interval)
    return `${ref.name} is a ${d.kind} of ${d.type.join(" . ")}${interval ? " (interval)" : ""}, not what the operation expects`;
  if (!copied.has(table)) {
    table = new Map(table);
    copied.add(table);
    tables.set(ref.table, table);
  }
  let state = o;
  if (!copied.has(state)) {
    state = {
      decl: d,
      elements: new Map(o.elements),
      ...(o.ranges !== undefined ? { ranges: new Map(o.ranges) } : {}),
    };
    copied.add(state);
    table.set(ref.name, state);
  }
  return { table, state };
}
