// Per-rule packet/byte counters of the compiled egress policy, read back from
// `nft -j list table inet egw` (each policy rule carries a counter and a comment naming it), and
// summed over nodes for `egw describe networkpolicy`. Parsing and aggregation are pure.
import { compareNumbers, compareStrings } from "../util/compare.js";
import { ok, type Result } from "../util/result.js";
import { NODE_NFT_TABLE } from "./config.js";
import { readNftJson } from "./kernel.js";
import { parseNft } from "./parse.js";
import { counterRef } from "./render-policy.js";
import type { Runner } from "./runner.js";

export interface RuleCounter {
  /** counterRef of the policy key (`np:<ns>/<name>`, `gnp:<name>`) or, for "default", of the tier. */
  ref: string;
  /** Index in the policy's spec.egress, or "default" for a tier's default action. */
  rule: number | "default";
  packets: number;
  bytes: number;
}

const RULE = /^egw-rule (\S+) ([0-9]+)$/;
const DEFAULT = /^egw-default (\S+)$/;

/** Counters of the policy rules in `nft -j list table inet egw` output; other rules are ignored. */
export function parsePolicyCounters(json: unknown): RuleCounter[] {
  const out: RuleCounter[] = [];
  for (const [comment, { packets, bytes }] of parseNft(json).counters ?? []) {
    const r = RULE.exec(comment);
    const d = r === null ? DEFAULT.exec(comment) : null;
    if (r !== null) out.push({ ref: r[1] ?? "", rule: Number(r[2]), packets, bytes });
    else if (d !== null) out.push({ ref: d[1] ?? "", rule: "default", packets, bytes });
  }
  return out;
}

/** Sums counters of several nodes by (ref, rule), sorted by ref then rule. */
export function sumCounters(perNode: readonly (readonly RuleCounter[])[]): RuleCounter[] {
  const byKey = new Map<string, RuleCounter>();
  for (const list of perNode) {
    for (const c of list) {
      const key = `${c.ref} ${c.rule}`;
      const have = byKey.get(key);
      if (have === undefined) byKey.set(key, { ...c });
      else {
        have.packets += c.packets;
        have.bytes += c.bytes;
      }
    }
  }
  const rank = (r: number | "default"): number => (r === "default" ? Infinity : r);
  return [...byKey.values()].sort(
    (a, b) => compareStrings(a.ref, b.ref) || compareNumbers(rank(a.rule), rank(b.rule)),
  );
}

/** The counters of one policy (by accessPolicyKey), by rule index. */
export function countersOfPolicy(
  counters: readonly RuleCounter[],
  policyKey: string,
): Map<number, { packets: number; bytes: number }> {
  const ref = counterRef(policyKey);
  const out = new Map<number, { packets: number; bytes: number }>();
  for (const c of counters) {
    if (c.ref !== ref || c.rule === "default") continue;
    const have = out.get(c.rule) ?? { packets: 0, bytes: 0 };
    out.set(c.rule, { packets: have.packets + c.packets, bytes: have.bytes + c.bytes });
  }
  return out;
}

/** Reads the policy counters of one node (its netns through `runner`). No table = no counters. */
export async function readPolicyCounters(runner: Runner): Promise<Result<RuleCounter[], string>> {
  const r = await readNftJson(runner, NODE_NFT_TABLE);
  if (!r.ok) return r;
  return ok(r.value === undefined ? [] : parsePolicyCounters(r.value));
}
