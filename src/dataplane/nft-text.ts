// What the renderers put around their nft objects: canonical MACs, the version
// marker that lets a read-back recognise the rendered table (a hash of its text, kept in a rule
// comment of a never-hooked chain), the table's expected shape, and the carry-over of counter
// values into a replacement table. Text itself is written by nft/text.ts only.
import { createHash } from "node:crypto";
import { isIpv4 } from "../util/ip.js";
import type { CounterValue, CounterValues, NftShape } from "./model.js";
import {
  chain,
  countsElements,
  RETURN,
  rule,
  type Chain,
  type Rule,
  type Table,
  type TableObject,
} from "./nft/objects.js";
import { objectLines, replaceTableText, tableBodyLines } from "./nft/text.js";

// Thin re-exports kept for render-node.ts; other modules import these from where they are defined
// (nft/text.ts, nft/values.ts, util/ip.ts).
export { hex } from "./nft/text.js";
export { validIfname, validIfnamePrefix } from "./nft/values.js";
export { canonicalCidr4 as cidr4 } from "../util/ip.js";

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export const canonicalMac = (mac: string): string | undefined => {
  const m = mac.toLowerCase();
  return MAC.test(m) ? m : undefined;
};

/** util/ip.ts isIpv4 in the form render-node.ts uses: the address itself, or undefined. */
export const ipv4 = (text: string): string | undefined => (isIpv4(text) ? text : undefined);

export const VERSION_CHAIN = "egw_version";
const VERSION_PREFIX = "egw-plan ";

export const versionComment = (hash: string): string => `${VERSION_PREFIX}${hash}`;
export const hashFromComment = (comment: string): string | undefined =>
  comment.startsWith(VERSION_PREFIX) ? comment.slice(VERSION_PREFIX.length) : undefined;

/** Chain rule counts and the element counts the kernel reports as rendered (see NftShape). */
export function shapeOf(table: Table, hash: string): NftShape {
  const chains: Record<string, number> = {};
  const sets: Record<string, number> = {};
  for (const o of table.objects) {
    if (o.kind === "chain") chains[o.name] = o.rules.length;
    else if (countsElements(o)) sets[o.name] = o.elements.length;
  }
  return { table: table.name, hash, chains, sets };
}

export interface VersionedTable {
  /** The table with the version chain first. */
  table: Table;
  /** Its whole-table replacement as `nft -f` text. */
  text: string;
  shape: NftShape;
}

/**
 * A table made of `objects` plus the version chain holding the hash of their text, for
 * read-back comparison. Counter values are left out of the hash (they are added later by
 * withCounterValues), so they never make a table look different.
 */
export function versionedTable(name: string, objects: readonly TableObject[]): VersionedTable {
  const body = tableBodyLines(objects);
  const hash = createHash("sha256").update(body.join("\n")).digest("hex").slice(0, 16);
  const version = chain(VERSION_CHAIN, [rule([], [], RETURN, versionComment(hash))]);
  const table: Table = { name, objects: [version, ...objects] };
  const lines = [...objectLines(version)];
  for (const l of body) lines.push(l);
  return { table, text: replaceTableText(table, lines), shape: shapeOf(table, hash) };
}

const countedComment = (r: Rule): string | undefined =>
  r.comment !== undefined && r.statements.some((s) => s.kind === "counter") ? r.comment : undefined;

/**
 * Starts every counted rule whose comment has a value in `counters` at that value (`counter
 * packets N bytes M`), so replacing a table does not reset its counters. A comment on several
 * counted rules is left alone (the value would be counted twice), and so is a counter that
 * already has a value. Returns `table` itself when nothing changes.
 */
export function withCounterValues(table: Table, counters: CounterValues | undefined): Table {
  if (counters === undefined || counters.size === 0) return table;
  const seen = new Map<string, number>();
  for (const o of table.objects)
    if (o.kind === "chain")
      for (const r of o.rules) {
        const c = countedComment(r);
        if (c !== undefined) seen.set(c, (seen.get(c) ?? 0) + 1);
      }
  const valueOf = (r: Rule): CounterValue | undefined => {
    const c = countedComment(r);
    const v = c === undefined || seen.get(c) !== 1 ? undefined : counters.get(c);
    return v !== undefined && r.statements.some((s) => s.kind === "counter" && s.packets === undefined)
      ? v
      : undefined;
  };
  let changed = false;
  // Only chains with a rule to start are copied: a 10,000-rule table changes a few.
  const objects = table.objects.map((o) => {
    if (o.kind !== "chain" || !o.rules.some((r) => valueOf(r) !== undefined)) return o;
    changed = true;
    const rules = o.rules.map((r) => {
      const value = valueOf(r);
      if (value === undefined) return r;
      let started = false;
      const statements = r.statements.map((s) => {
        if (started || s.kind !== "counter" || s.packets !== undefined) return s;
        started = true;
        return { kind: "counter" as const, packets: value.packets, bytes: value.bytes };
      });
      return { ...r, statements };
    });
    return { ...o, rules } satisfies Chain;
  });
  return changed ? { ...table, objects } : table;
}
