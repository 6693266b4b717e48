// AccessPlan → nft objects (pure): the node's egress access policy as chains and sets inside
// `table inet egw`, part of the node's table (loaded whole, or updated element by element).
//
// Layout (the forward chain jumps to egw_policy for new workload connections; established and
// related traffic was accepted before):
//   egw_policy      iifname != @egw_access_if return; jump egw_t0; jump egw_t1; …
//   egw_t<i>        iifname != @egw_t<i>_if return (no policy of the tier selects the pod)
//                   goto egw_p<first policy of the tier>
//   egw_p<j>        iifname != @egw_p<j>_if goto <next>; rules…; goto <next>
//   egw_t<i>_end    the tier's default action (Deny: log + drop; Pass: return)
// Policies and the tier end are chained with goto, so a `return` anywhere inside a tier (a Pass
// rule) goes straight back to egw_policy, which continues with the next tier: Calico's Pass.
// Allow is `accept`, Deny is NFLOG + `drop`, Log is NFLOG and continue. Which pods a policy or
// tier applies to is one set lookup by interface, and CIDRs (given, or the current IPs of the
// pods a selector picks) are interval sets, so cost does not grow with pods or CIDRs.
//
// What pods come and go change is only set elements, under names that do not depend on them:
// interface sets are named by policy and tier, and a rule's destination-selector set by its
// policy and rule (`egw_p<j>_r<rule>_sel`), so a pod event never renames a set or edits a rule
// (dataplane/nft/elements.ts then updates elements in place). Fixed CIDR lists (`nets`,
// `notNets`) are shared by content (`egw_n<i>`): only a policy edit changes them.
import { createHash } from "node:crypto";
import type { PortRange } from "../calc/access/parse.js";
import type { AccessPlan, AccessRule, AccessTier } from "../calc/access/plan.js";
import {
  ACCEPT,
  anonymous,
  chain,
  counter,
  DROP,
  goto,
  inSet,
  is,
  isNot,
  jump,
  log,
  RETURN,
  rule,
  set,
  type Match,
  type Rule,
  type Statement,
  type TableObject,
} from "./nft/objects.js";
import { validIfname } from "./nft/values.js";

/** NFLOG group of Deny and Log rules (the flow-log collector listens on it). */
export const POLICY_NFLOG_GROUP = 5;
/** Longest NFLOG prefix egw writes (longer ones are cut and end in `~<hash>`). */
export const NFLOG_PREFIX_MAX = 64;
/** Policy keys longer than this are replaced by `#<hash>` in rule comments (nft allows 128 bytes). */
const COUNTER_REF_MAX = 100;

const hash = (s: string, n: number): string => createHash("sha256").update(s).digest("hex").slice(0, n);
const safe = (s: string): string => s.replace(/[^A-Za-z0-9._:/|#~-]/g, "_");

/** How a policy is named in rule comments: its key, or `#<hash>` of it when too long. */
export const counterRef = (policyKey: string): string =>
  policyKey.length <= COUNTER_REF_MAX ? safe(policyKey) : `#${hash(policyKey, 16)}`;

/** Comment on the nft rule of a policy rule (read back by policy-counters.ts). */
export const ruleComment = (policyKey: string, rule: number): string =>
  `egw-rule ${counterRef(policyKey)} ${rule}`;
/** Comment on a tier's default-action rule. */
export const tierDefaultComment = (tier: string): string => `egw-default ${counterRef(tier)}`;

/**
 * NFLOG prefix naming action, tier, policy and rule: `egw|D|<tier>|<policy key>|<rule|default>`
 * (D = Deny, L = Log). Deterministically cut to NFLOG_PREFIX_MAX with a hash of the full text.
 */
export function nflogPrefix(
  action: "Deny" | "Log",
  tier: string,
  policyKey: string,
  rule: number | "default",
): string {
  const full = safe(`egw|${action === "Deny" ? "D" : "L"}|${tier}|${policyKey}|${rule}`);
  if (full.length <= NFLOG_PREFIX_MAX) return full;
  const tag = `~${hash(full, 8)}`;
  return full.slice(0, NFLOG_PREFIX_MAX - tag.length) + tag;
}

/** Sorted, merged port ranges. */
function mergedPorts(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const merged: PortRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  return merged;
}

/** `th dport 53`, `th dport 1000-2000` or `th dport { 79-81, 1000-2000 }` (negated with `not`). */
const portMatch = (not: boolean, ranges: readonly PortRange[]): Match => {
  const m = mergedPorts(ranges);
  const only = m.length === 1 ? m[0] : undefined;
  const right =
    only === undefined
      ? anonymous(m)
      : only.from === only.to
        ? { kind: "value" as const, value: only.from }
        : { kind: "range" as const, from: only.from, to: only.to };
  return (not ? isNot : is)("th dport", right);
};

/** Protocols with ports (a port match needs one of them first: `th dport` reads raw bytes). */
const PORT_PROTOCOL_NUMBERS = [6, 17, 132, 136];

/** The sets and chains of the compiled policy, in declaration order. */
class Builder {
  readonly objects: TableObject[] = [];
  private readonly netSets = new Map<string, string>();

  /** A named interval set per distinct fixed CIDR list (shared by every rule that uses the same list). */
  netSet(cidrs: readonly string[]): string {
    const key = cidrs.join(",");
    let name = this.netSets.get(key);
    if (name === undefined) {
      name = `egw_n${this.netSets.size}`;
      this.netSets.set(key, name);
      this.objects.push(set(name, ["ipv4_addr"], cidrs, { interval: true }));
    }
    return name;
  }

  /** The interval set of the addresses a rule's destination selector picks now, named by the rule. */
  selectedSet(name: string, cidrs: readonly string[]): string {
    this.objects.push(set(name, ["ipv4_addr"], cidrs, { interval: true }));
    return name;
  }

  /** Interface names checked so far (the same pods appear in a policy's, its tier's and the node's set). */
  private readonly ifnameValid = new Map<string, boolean>();

  /** The interfaces a policy or tier applies to, each once, in plan order (a set has no order). */
  ifSet(name: string, ifaces: Iterable<string>): void {
    const valid = new Set<string>();
    for (const i of ifaces) {
      if (valid.has(i)) continue;
      let fine = this.ifnameValid.get(i);
      if (fine === undefined) this.ifnameValid.set(i, (fine = i !== "" && validIfname(i)));
      if (fine) valid.add(i);
    }
    this.objects.push(set(name, ["ifname"], [...valid]));
  }

  chain(name: string, rules: Rule[]): void {
    this.objects.push(chain(name, rules));
  }
}

const nflog = (action: "Deny" | "Log", tier: string, policyKey: string, r: number | "default"): Statement =>
  log(nflogPrefix(action, tier, policyKey, r), POLICY_NFLOG_GROUP);

function policyRule(
  b: Builder,
  tier: string,
  policyKey: string,
  policyChain: string,
  r: AccessRule,
): Rule | undefined {
  const comment = ruleComment(policyKey, r.index);
  const deny = (m: Match[]): Rule =>
    rule(m, [counter(), nflog("Deny", tier, policyKey, r.index)], DROP, comment);
  if (r.invalid !== undefined) return deny([]);
  if (r.never !== undefined) return undefined;
  const m: Match[] = [];
  if (r.ipVersion === 4) m.push(is("meta nfproto", "ipv4"));
  if (r.protocol !== undefined) m.push(is("meta l4proto", r.protocol));
  else if ((r.ports ?? r.notPorts) !== undefined)
    m.push(is("meta l4proto", anonymous(PORT_PROTOCOL_NUMBERS)));
  if (r.notProtocol !== undefined) m.push(isNot("meta l4proto", r.notProtocol));
  if (r.nets !== undefined) m.push(is("ip daddr", inSet(b.netSet(r.nets))));
  if (r.selected !== undefined)
    m.push(is("ip daddr", inSet(b.selectedSet(`${policyChain}_r${r.index}_sel`, r.selected))));
  if (r.notNets !== undefined && r.notNets.length > 0) m.push(isNot("ip daddr", inSet(b.netSet(r.notNets))));
  if (r.ports !== undefined && r.ports.length > 0) m.push(portMatch(false, r.ports));
  if (r.notPorts !== undefined && r.notPorts.length > 0) m.push(portMatch(true, r.notPorts));
  switch (r.action) {
    case "Allow":
      return rule(m, [counter()], ACCEPT, comment);
    case "Deny":
      return deny(m);
    case "Log":
      return rule(m, [counter(), nflog("Log", tier, policyKey, r.index)], undefined, comment);
    case "Pass":
      return rule(m, [counter()], RETURN, comment);
  }
}

function renderTier(b: Builder, t: AccessTier, i: number, first: number): number {
  const tierChain = `egw_t${i}`;
  const end = `${tierChain}_end`;
  const ifaces = new Set<string>();
  let j = first;
  t.policies.forEach((p, k) => {
    const name = `egw_p${j}`;
    const next = k + 1 < t.policies.length ? `egw_p${j + 1}` : end;
    const ifSet = `${name}_if`;
    const pIfaces = p.appliesTo.map((w) => w.hostInterface);
    pIfaces.forEach((x) => ifaces.add(x));
    b.ifSet(ifSet, pIfaces);
    const rules = p.rules.flatMap((r) => policyRule(b, t.name, p.key, name, r) ?? []);
    b.chain(name, [
      rule([isNot("iifname", inSet(ifSet))], [], goto(next)),
      ...rules,
      rule([], [], goto(next)),
    ]);
    j++;
  });
  b.ifSet(`${tierChain}_if`, ifaces);
  b.chain(tierChain, [
    rule([isNot("iifname", inSet(`${tierChain}_if`))], [], RETURN),
    rule([], [], goto(t.policies.length > 0 ? `egw_p${first}` : end)),
  ]);
  const comment = tierDefaultComment(t.name);
  b.chain(end, [
    t.defaultAction === "Pass"
      ? rule([], [counter()], RETURN, comment)
      : rule([], [counter(), nflog("Deny", t.name, "", "default")], DROP, comment),
  ]);
  return j;
}

/** The node's egress policy: sets and chains for the table, and the rules of egw_policy. */
export interface CompiledAccessPolicy {
  /** Sets and chains, in declaration order. */
  objects: TableObject[];
  /** The rules of the egw_policy chain (which the forward chain jumps to for new connections). */
  rules: Rule[];
}

/** Compiles an access plan into the objects and egw_policy rules of the node table. */
export function renderAccessPlan(plan: AccessPlan): CompiledAccessPolicy {
  if (plan.tiers.length === 0) return { objects: [], rules: [] };
  const b = new Builder();
  b.ifSet(
    "egw_access_if",
    plan.tiers.flatMap((t) => t.policies.flatMap((p) => p.appliesTo.map((w) => w.hostInterface))),
  );
  let next = 0;
  plan.tiers.forEach((t, i) => {
    next = renderTier(b, t, i, next);
  });
  return {
    objects: b.objects,
    rules: [
      rule([isNot("iifname", inSet("egw_access_if"))], [], RETURN),
      ...plan.tiers.map((_, i) => rule([], [], jump(`egw_t${i}`))),
    ],
  };
}
