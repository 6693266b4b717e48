// Set and map elements as values that can be compared and diffed: an element's identity in its
// set (what the kernel compares), the merged address ranges an interval set stands for (what
// auto-merge leaves in the kernel, whatever prefixes were added), and the element operations
// that turn one table's elements into another's. Whether two tables differ only in elements is
// decided here for sets and maps; chains are the caller's to compare. Pure.
import { compareStrings } from "../../util/compare.js";
import { parseIpv4Number } from "../../util/ip.js";
import {
  elementKey,
  type Element,
  type MapElement,
  type NftMap,
  type NftSet,
  type SimpleVerdict,
  type Table,
} from "./objects.js";
import { setRef, Transaction } from "./transaction.js";
import { verdictText } from "./text.js";

/** An inclusive range of IPv4 addresses as numbers. */
export type AddressRange = readonly [number, number];

/** An address or prefix (`a.b.c.d[/n]`, host bits ignored as nft does) as a range, or undefined. */
export function addressRange(text: string): AddressRange | undefined {
  const slash = text.indexOf("/");
  const n = parseIpv4Number(slash < 0 ? text : text.slice(0, slash));
  if (n === undefined) return undefined;
  if (slash < 0) return [n, n];
  const len = text.slice(slash + 1);
  if (!/^([0-9]|[12][0-9]|3[0-2])$/.test(len)) return undefined;
  const size = 2 ** (32 - Number(len));
  const first = n - (n % size);
  return [first, first + size - 1];
}

/**
 * Sorted, disjoint ranges covering exactly the addresses of `ranges` (overlapping and adjacent
 * ones merged): two interval sets hold the same addresses when these are equal.
 */
export function mergeRanges(ranges: Iterable<AddressRange>): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export const sameRanges = (a: readonly AddressRange[], b: readonly AddressRange[]): boolean =>
  a.length === b.length && a.every((r, i) => r[0] === b[i]?.[0] && r[1] === b[i]?.[1]);

/** The fewest prefixes covering exactly `range` (how a merged range is written back as elements). */
export function rangePrefixes([lo, hi]: AddressRange): string[] {
  const out: string[] = [];
  let at = lo;
  while (at <= hi) {
    // The largest aligned block starting at `at` that stays inside the range.
    let size = 1;
    while (size < 2 ** 32 && at % (size * 2) === 0 && at + size * 2 - 1 <= hi) size *= 2;
    const len = 32 - Math.log2(size);
    const text = [24, 16, 8, 0].map((s) => Math.floor(at / 2 ** s) % 256).join(".");
    out.push(len === 32 ? text : `${text}/${len}`);
    at += size;
  }
  return out;
}

// Element lists are immutable and calc hands the same big ones (a policy's 100,000 nets) to every
// render, so an interval set's ranges are kept by list identity.
const rangesOf = new WeakMap<readonly Element[], readonly AddressRange[] | undefined>();

/**
 * What an interval set's elements cover, merged; undefined when one of them is not an address or
 * prefix. The result is shared: never change it.
 */
export function intervalRanges(elements: readonly Element[]): readonly AddressRange[] | undefined {
  if (rangesOf.has(elements)) return rangesOf.get(elements);
  let merged: AddressRange[] | undefined = [];
  for (const e of elements) {
    const r = typeof e === "object" ? undefined : addressRange(String(e));
    if (r === undefined) {
      merged = undefined;
      break;
    }
    merged.push(r);
  }
  if (merged !== undefined) merged = mergeRanges(merged);
  rangesOf.set(elements, merged);
  return merged;
}

/** A map element's verdict as text, for comparing verdicts. */
export const verdictKey = (v: SimpleVerdict): string => verdictText(v);

function keysOfSet(elements: readonly Element[]): Map<string, Element> {
  const keys = new Map<string, Element>();
  for (const e of elements) keys.set(elementKey(e), e);
  return keys;
}

function keysOfMap(elements: readonly MapElement[]): Map<string, MapElement> {
  const keys = new Map<string, MapElement>();
  for (const e of elements) keys.set(elementKey(e.key), e);
  return keys;
}

const sameDeclaration = (a: NftSet | NftMap, b: NftSet | NftMap): boolean =>
  a.kind === b.kind &&
  a.name === b.name &&
  a.type.length === b.type.length &&
  a.type.every((t, i) => t === b.type[i]) &&
  (a.kind === "set" && a.interval === true) === (b.kind === "set" && b.interval === true);

const elementHolders = (t: Table): (NftSet | NftMap)[] => t.objects.filter((o) => o.kind !== "chain");

/** How many elements an element update adds and removes, and in how many sets and maps. */
export interface ElementChangeCount {
  added: number;
  removed: number;
  /** Sets and maps written whole (flushed and filled again) instead of element by element. */
  rewritten: number;
  sets: number;
}

export interface ElementUpdate {
  /** The operations: deletions first (a map key changing verdict is deleted, then added). */
  transaction: Transaction;
  count: ElementChangeCount;
}

/**
 * Interval-set elements from which changed plain sets may be written whole instead of element by
 * element. nft 1.0.6 lists every interval set of the ruleset before it runs `add element` or
 * `delete element` (about a second for 100,000 prefixes on the test machines), while writing a
 * set whole lists nothing and costs about as much per element written as the listing does per
 * element listed. So with big CIDR sets (a 100,000-prefix policy) rewriting the few sets a pod
 * touches is cheaper — measured at 2,000 pods: 0.23–0.29 s against about 1 s — and on a node
 * without them single elements are.
 */
const REWRITE_FROM = 1000;

interface Change {
  a: NftSet | NftMap;
  deleted: Element[];
  added: (Element | MapElement)[];
  /** Interval sets are always written whole: merged elements cannot be deleted one by one. */
  whole: boolean;
}

/**
 * The element operations that turn the elements of `before` into those of `after`, as one
 * transaction; undefined when the two tables do not declare the same sets and maps (name, kind,
 * type and flags, in the same order), which only a whole-table replacement can change.
 *
 * Plain sets and maps change element by element. An interval set that changed is written whole
 * (flushed and filled again in the same transaction): the kernel's auto-merge joins adjacent
 * prefixes into one element, so a prefix that was added can no longer be deleted on its own
 * ("element does not exist"). When the table's interval sets are big, changed plain sets are
 * written whole too (see REWRITE_FROM).
 */
export function elementUpdate(before: Table, after: Table): ElementUpdate | undefined {
  if (before.name !== after.name) return undefined;
  const was = elementHolders(before);
  const now = elementHolders(after);
  if (was.length !== now.length) return undefined;
  const changes: Change[] = [];
  let intervalElements = 0;
  for (let i = 0; i < now.length; i++) {
    const b = was[i] as NftSet | NftMap;
    const a = now[i] as NftSet | NftMap;
    if (!sameDeclaration(a, b)) return undefined;
    if (a.kind === "set" && a.interval === true) intervalElements += a.elements.length;
    if (a.elements === b.elements) continue;
    const change = changeOf(b, a);
    if (change !== undefined) changes.push(change);
  }
  let plainSize = 0;
  for (const c of changes) if (!c.whole) plainSize += c.a.elements.length;
  const rewrite = intervalElements >= REWRITE_FROM && intervalElements > plainSize;

  const transaction = new Transaction();
  const count: ElementChangeCount = { added: 0, removed: 0, rewritten: 0, sets: changes.length };
  const additions: (() => void)[] = [];
  for (const c of changes) {
    const ref = setRef(after.name, c.a);
    if (c.whole || rewrite) {
      if (c.a.kind === "map") transaction.setMapElements(ref, c.a.elements);
      else transaction.setElements(ref, c.a.elements);
      count.rewritten++;
      count.added += c.a.elements.length;
      continue;
    }
    transaction.deleteElements(ref, c.deleted);
    const added = c.added;
    additions.push(() =>
      c.a.kind === "map"
        ? transaction.addMapElements(ref, added as MapElement[])
        : transaction.addElements(ref, added as Element[]),
    );
    count.removed += c.deleted.length;
    count.added += added.length;
  }
  for (const add of additions) add();
  return { transaction, count };
}

const byKey = (x: Element, y: Element): number => compareStrings(elementKey(x), elementKey(y));

const sameElement = (x: Element, y: Element): boolean => {
  if (x === y) return true;
  if (typeof x !== "object" || typeof y !== "object" || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
};
const sameVerdict = (x: SimpleVerdict, y: SimpleVerdict): boolean =>
  x === y || (x.kind === y.kind && ("chain" in x ? x.chain : "") === ("chain" in y ? y.chain : ""));
const sameMapElement = (x: MapElement, y: MapElement): boolean =>
  x === y || (sameElement(x.key, y.key) && sameVerdict(x.verdict, y.verdict));

/**
 * The parts of two element lists that differ: the lists without their longest common head and
 * tail. A renderer lists elements in a stable order, so a pod coming or going leaves a short
 * middle, and the rest is compared without building key maps of thousands of elements. Keys are
 * unique within a list (the model's checks refuse a key listed twice), so a key in one middle can
 * only be in the other list's middle.
 */
function middles<T>(was: readonly T[], now: readonly T[], same: (x: T, y: T) => boolean): [T[], T[]] {
  const shorter = Math.min(was.length, now.length);
  let head = 0;
  while (head < shorter && same(was[head] as T, now[head] as T)) head++;
  let tail = 0;
  while (tail < shorter - head && same(was[was.length - 1 - tail] as T, now[now.length - 1 - tail] as T))
    tail++;
  return [was.slice(head, was.length - tail), now.slice(head, now.length - tail)];
}

/** What changed between two versions of one set or map; undefined when they hold the same. */
function changeOf(b: NftSet | NftMap, a: NftSet | NftMap): Change | undefined {
  if (a.kind === "set" && a.interval === true) {
    const old = intervalRanges(b.elements as readonly Element[]);
    const fresh = intervalRanges(a.elements);
    if (old !== undefined && fresh !== undefined && sameRanges(old, fresh)) return undefined;
    return { a, deleted: [], added: [], whole: true };
  }
  const deleted: Element[] = [];
  if (a.kind === "set") {
    const [wasMiddle, nowMiddle] = middles(b.elements as readonly Element[], a.elements, sameElement);
    const old = keysOfSet(wasMiddle);
    const fresh = keysOfSet(nowMiddle);
    const added: Element[] = [];
    for (const [k, e] of old) if (!fresh.has(k)) deleted.push(e);
    for (const [k, e] of fresh) if (!old.has(k)) added.push(e);
    if (deleted.length === 0 && added.length === 0) return undefined;
    // Sorted: the same change always gives the same text.
    return { a, deleted: deleted.sort(byKey), added: added.sort(byKey), whole: false };
  }
  const [wasMiddle, nowMiddle] = middles(b.elements as readonly MapElement[], a.elements, sameMapElement);
  const old = keysOfMap(wasMiddle);
  const fresh = keysOfMap(nowMiddle);
  const added: MapElement[] = [];
  for (const [k, e] of old) {
    const next = fresh.get(k);
    if (next === undefined || !sameVerdict(next.verdict, e.verdict)) deleted.push(e.key);
  }
  for (const [k, e] of fresh) {
    const prev = old.get(k);
    if (prev === undefined || !sameVerdict(prev.verdict, e.verdict)) added.push(e);
  }
  if (deleted.length === 0 && added.length === 0) return undefined;
  return {
    a,
    deleted: deleted.sort(byKey),
    added: added.sort((x, y) => byKey(x.key, y.key)),
    whole: false,
  };
}
