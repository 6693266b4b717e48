// What the kernel holds in a table's sets and maps, read from `nft -j list table` output, in a
// form that compares with rendered sets: plain set elements and map keys as element keys
// (objects.ts elementKey), verdicts as text, interval sets as merged address ranges (auto-merge
// and nft's listing turn prefixes into ranges, so only the addresses covered can be compared).
// Unknown shapes make a set unreadable, never a silent match. Pure.
import {
  addressRange,
  intervalRanges,
  mergeRanges,
  sameRanges,
  verdictKey,
  type AddressRange,
} from "./elements.js";
import { elementKey, type NftMap, type NftSet, type Value } from "./objects.js";

/** One set or map as the kernel lists it; undefined parts could not be read. */
export type KernelElements =
  | { readonly kind: "set"; readonly keys: ReadonlySet<string> | undefined }
  | { readonly kind: "interval"; readonly ranges: readonly AddressRange[] | undefined }
  | { readonly kind: "map"; readonly verdicts: ReadonlyMap<string, string> | undefined };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** `{"elem": {"val": …, "comment": …}}` wraps an element that carries more than its value. */
const unwrap = (e: unknown): unknown => {
  const inner = isObject(e) && isObject(e.elem) ? e.elem.val : undefined;
  return inner === undefined ? e : inner;
};

/** A plain element's key, or undefined for a shape egw does not write. */
function keyOf(e: unknown): string | undefined {
  const v = unwrap(e);
  if (typeof v === "string" || typeof v === "number") return elementKey(v);
  if (isObject(v) && Array.isArray(v.concat)) {
    const parts = v.concat as unknown[];
    if (parts.every((p): p is Value => typeof p === "string" || typeof p === "number"))
      return elementKey(parts);
  }
  return undefined;
}

function rangeOf(e: unknown): AddressRange | undefined {
  const v = unwrap(e);
  if (typeof v === "string") return addressRange(v);
  if (!isObject(v)) return undefined;
  if (isObject(v.prefix) && typeof v.prefix.addr === "string" && typeof v.prefix.len === "number")
    return addressRange(`${v.prefix.addr}/${v.prefix.len}`);
  if (Array.isArray(v.range) && typeof v.range[0] === "string" && typeof v.range[1] === "string") {
    const lo = addressRange(v.range[0]);
    const hi = addressRange(v.range[1]);
    return lo !== undefined && hi !== undefined && lo[0] <= hi[1] ? [lo[0], hi[1]] : undefined;
  }
  return undefined;
}

/** `{"jump": {"target": "c"}}`, `{"accept": null}` → the verdict as nft writes it. */
function verdictOf(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  for (const kind of ["jump", "goto"] as const) {
    const target = isObject(v[kind]) ? (v[kind] as Json).target : undefined;
    if (typeof target === "string") return verdictKey({ kind, chain: target });
  }
  for (const kind of ["accept", "drop", "return"] as const) if (kind in v) return verdictKey({ kind });
  return undefined;
}

function setOf(set: Json): KernelElements {
  const elems = Array.isArray(set.elem) ? (set.elem as unknown[]) : [];
  const flags = Array.isArray(set.flags) ? set.flags : [];
  if (flags.includes("interval")) {
    const ranges: AddressRange[] = [];
    for (const e of elems) {
      const r = rangeOf(e);
      if (r === undefined) return { kind: "interval", ranges: undefined };
      ranges.push(r);
    }
    return { kind: "interval", ranges: mergeRanges(ranges) };
  }
  const keys = new Set<string>();
  for (const e of elems) {
    const k = keyOf(e);
    if (k === undefined) return { kind: "set", keys: undefined };
    keys.add(k);
  }
  return { kind: "set", keys };
}

function mapOf(map: Json): KernelElements {
  const verdicts = new Map<string, string>();
  for (const e of Array.isArray(map.elem) ? (map.elem as unknown[]) : []) {
    const pair = Array.isArray(e) ? e : undefined;
    const k = pair === undefined ? undefined : keyOf(pair[0]);
    const v = pair === undefined ? undefined : verdictOf(pair[1]);
    if (k === undefined || v === undefined) return { kind: "map", verdicts: undefined };
    verdicts.set(k, v);
  }
  return { kind: "map", verdicts };
}

/** The sets and maps of `nft -j list table …` output by name, with what they hold. */
export function kernelElements(json: unknown): Map<string, KernelElements> {
  const out = new Map<string, KernelElements>();
  const items = isObject(json) && Array.isArray(json.nftables) ? (json.nftables as unknown[]) : [];
  for (const item of items) {
    if (!isObject(item)) continue;
    if (isObject(item.set) && typeof item.set.name === "string") out.set(item.set.name, setOf(item.set));
    else if (isObject(item.map) && typeof item.map.name === "string") out.set(item.map.name, mapOf(item.map));
  }
  return out;
}

/** Whether the kernel's set or map holds exactly the rendered one's elements. */
export function holdsElements(want: NftSet | NftMap, have: KernelElements | undefined): boolean {
  if (have === undefined) return false;
  if (want.kind === "map") {
    if (have.kind !== "map" || have.verdicts === undefined || have.verdicts.size !== want.elements.length)
      return false;
    return want.elements.every((e) => have.verdicts?.get(elementKey(e.key)) === verdictKey(e.verdict));
  }
  if (want.interval === true) {
    if (have.kind !== "interval" || have.ranges === undefined) return false;
    const ranges = intervalRanges(want.elements);
    return ranges !== undefined && sameRanges(ranges, have.ranges);
  }
  if (have.kind !== "set" || have.keys === undefined || have.keys.size !== want.elements.length) return false;
  return want.elements.every((e) => have.keys?.has(elementKey(e)) === true);
}
