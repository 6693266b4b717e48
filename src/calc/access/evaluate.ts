// Calico's egress evaluation over an AccessPlan, for one workload and one new connection:
// tiers in order; within a tier the policies that select the workload, rules in order. Allow and
// Deny end evaluation, Log continues, Pass leaves the tier; a tier whose policies select the
// workload but do not act applies its defaultAction; a workload no policy selects is allowed.
// render-policy.ts compiles the same plan to nft; tests check both agree on real connections.
import { ipv4Range, parseIpv4Number } from "../../util/ip.js";
import { err, ok, type Result } from "../../util/result.js";
import type { ClusterIndex } from "../snapshot.js";
import { computeAccessPlan } from "./compute.js";
import { PORT_PROTOCOLS, protocolNumber, type RuleAction } from "./parse.js";
import type { AccessPlan, AccessPolicy, AccessRule } from "./plan.js";

export interface Connection {
  /** IPv4 destination address. */
  ip: string;
  /** Destination port (TCP, UDP, SCTP, UDPLite). */
  port?: number;
  /** Protocol number or name (tcp, udp, icmp…). */
  protocol: number | string;
}

export interface RuleRef {
  tier: string;
  /** accessPolicyKey of the policy (`np:<ns>/<name>` or `gnp:<name>`). */
  policy: string;
  rule: number;
  action: RuleAction;
}

export type Decision =
  | { kind: "rule"; ref: RuleRef }
  | { kind: "tier-default"; tier: string }
  /** Every tier that applied passed: Calico's profile allows. */
  | { kind: "all-tiers-passed" }
  /** No Egress policy selects the workload (the Kubernetes default). */
  | { kind: "no-policy" };

export interface Verdict {
  verdict: "Allow" | "Deny";
  decision: Decision;
  /** Log rules the connection hit on the way (NFLOG). */
  logged: RuleRef[];
  /** Pass rules (or Pass defaults) that moved evaluation to the next tier. */
  passed: (RuleRef | { tier: string; rule: "default" })[];
}

type Range = readonly [number, number];
const rangeCache = new WeakMap<readonly string[], Range[]>();

function ranges(cidrs: readonly string[]): Range[] {
  let r = rangeCache.get(cidrs);
  if (r !== undefined) return r;
  r = [];
  for (const c of cidrs) {
    const range = ipv4Range(c);
    if (range !== undefined) r.push(range);
  }
  rangeCache.set(cidrs, r);
  return r;
}

const inAny = (ip: number, cidrs: readonly string[]): boolean =>
  ranges(cidrs).some(([lo, hi]) => ip >= lo && ip <= hi);

interface Packet {
  ip: number;
  port: number;
  protocol: number;
}

export function ruleMatches(r: AccessRule, p: Packet): boolean {
  if (r.invalid !== undefined) return true;
  if (r.never !== undefined) return false;
  if (r.protocol !== undefined && p.protocol !== r.protocol) return false;
  if (r.notProtocol !== undefined && p.protocol === r.notProtocol) return false;
  if ((r.ports ?? r.notPorts) !== undefined && !PORT_PROTOCOLS.includes(p.protocol)) return false;
  if (r.ports !== undefined && !r.ports.some((x) => p.port >= x.from && p.port <= x.to)) return false;
  if (r.notPorts?.some((x) => p.port >= x.from && p.port <= x.to) === true) return false;
  if (r.nets !== undefined && !inAny(p.ip, r.nets)) return false;
  if (r.selected !== undefined && !inAny(p.ip, r.selected)) return false;
  if (r.notNets !== undefined && inAny(p.ip, r.notNets)) return false;
  return true;
}

const appliesCache = new WeakMap<AccessPolicy, Set<string>>();
const applies = (p: AccessPolicy, workload: string): boolean => {
  let s = appliesCache.get(p);
  if (s === undefined) appliesCache.set(p, (s = new Set(p.appliesTo.map((w) => w.key))));
  return s.has(workload);
};

function toPacket(c: Connection): Result<Packet, string> {
  const ip = parseIpv4Number(c.ip);
  if (ip === undefined) return err(`destination "${c.ip}" is not an IPv4 address`);
  const protocol = protocolNumber(c.protocol);
  if (protocol === undefined)
    return err(`protocol "${String(c.protocol)}" is not valid: use tcp, udp, icmp or a number 1-255`);
  const port = c.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return err(`port ${port} is not valid: use 1-65535`);
  return ok({ ip, port, protocol });
}

/** Evaluates one new connection of `workload` ("<namespace>/<pod>") against a plan. */
export function evaluateAccess(plan: AccessPlan, workload: string, c: Connection): Result<Verdict, string> {
  const packet = toPacket(c);
  if (!packet.ok) return packet;
  const logged: RuleRef[] = [];
  const passed: Verdict["passed"] = [];
  let anyTier = false;
  tiers: for (const tier of plan.tiers) {
    const policies = tier.policies.filter((p) => applies(p, workload));
    if (policies.length === 0) continue;
    anyTier = true;
    for (const policy of policies) {
      for (const rule of policy.rules) {
        if (!ruleMatches(rule, packet.value)) continue;
        const ref: RuleRef = { tier: tier.name, policy: policy.key, rule: rule.index, action: rule.action };
        switch (rule.action) {
          case "Log":
            logged.push(ref);
            continue;
          case "Pass":
            passed.push(ref);
            continue tiers;
          case "Allow":
          case "Deny":
            return ok({ verdict: rule.action, decision: { kind: "rule", ref }, logged, passed });
        }
      }
    }
    if (tier.defaultAction === "Deny")
      return ok({ verdict: "Deny", decision: { kind: "tier-default", tier: tier.name }, logged, passed });
    passed.push({ tier: tier.name, rule: "default" });
  }
  return ok({
    verdict: "Allow",
    decision: anyTier ? { kind: "all-tiers-passed" } : { kind: "no-policy" },
    logged,
    passed,
  });
}

/**
 * Evaluates a new egress connection of a pod with the cluster's current policies: the same
 * plan computation the agent compiles, restricted to this pod. An error when the pod is unknown.
 */
export function evaluateEgress(
  index: ClusterIndex,
  namespace: string,
  pod: string,
  c: Connection,
): Result<Verdict, string> {
  const p = index.pod(namespace, pod);
  if (p === undefined) return err(`pod "${namespace}/${pod}" not found`);
  return evaluateAccess(computeAccessPlan(index, [p]), `${namespace}/${pod}`, c);
}

/** One line: the verdict and what decided it. */
export function describeVerdict(v: Verdict): string {
  const d = v.decision;
  switch (d.kind) {
    case "rule":
      return `${v.verdict}: tier "${d.ref.tier}", policy ${d.ref.policy}, egress rule ${d.ref.rule} (${d.ref.action})`;
    case "tier-default":
      return `${v.verdict}: no rule of tier "${d.tier}" matched; the tier's default action (Deny) applies`;
    case "all-tiers-passed":
      return `${v.verdict}: every tier that selects the pod passed it (end of tiers allows)`;
    case "no-policy":
      return `${v.verdict}: no egress policy selects the pod (the Kubernetes default allows)`;
  }
}
