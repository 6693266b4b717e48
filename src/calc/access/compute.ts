// ClusterIndex + workloads → AccessPlan: which policies (in tier order) apply to which of the
// given workloads, with every rule's destination selector resolved to the current pod IPs and
// GlobalNetworkSet nets. Pure; cost is O(policies × workloads); destination selectors are resolved
// by the index, which keeps them current per pod event (access/destinations.ts).
import type { PodInput } from "../inputs.js";
import { podKeyOf } from "../inputs.js";
import type { ClusterIndex } from "../snapshot.js";
import { podNamespace } from "./destinations.js";
import { DEFAULT_TIER, type ParsedAccessPolicy, type ParsedAccessRule } from "./parse.js";
import type { AccessPlan, AccessPolicy, AccessRule, AccessTier, AccessWorkload } from "./plan.js";
import { compareNumbers, compareStrings } from "../../util/compare.js";

/** Calico's implicit `default` tier sorts at this order unless a Tier object says otherwise. */
export const DEFAULT_TIER_ORDER = 1_000_000;

class Resolver {
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();

  constructor(private readonly index: ClusterIndex) {}

  namespaceLabels(ns: string): Readonly<Record<string, string>> {
    let labels = this.nsLabels.get(ns);
    if (labels === undefined) this.nsLabels.set(ns, (labels = this.index.namespaceLabels(ns)));
    return labels;
  }

  appliesTo(p: ParsedAccessPolicy, pod: PodInput): boolean {
    const ns = podNamespace(pod);
    if (p.kind === "NetworkPolicy" && ns !== p.namespace) return false;
    if (p.namespaceSelector !== undefined && !p.namespaceSelector.matches(this.namespaceLabels(ns)))
      return false;
    return p.selector.matches(pod.metadata.labels ?? {});
  }

  /** The destinations a rule's selector + namespaceSelector pick, as sorted unique IPv4 CIDRs. */
  destinations(p: ParsedAccessPolicy, r: ParsedAccessRule): string[] | undefined {
    if (r.selector === undefined && r.namespaceSelector === undefined) return undefined;
    // Resolved and kept current by the index (see access/destinations.ts).
    return this.index.destinations({
      kind: p.kind,
      namespace: p.namespace,
      selector: r.selector,
      namespaceSelector: r.namespaceSelector,
    });
  }
}

function resolveRule(res: Resolver, p: ParsedAccessPolicy, r: ParsedAccessRule): AccessRule {
  const rule: AccessRule = { index: r.index, action: r.action };
  for (const k of [
    "protocol",
    "notProtocol",
    "ipVersion",
    "nets",
    "notNets",
    "ports",
    "notPorts",
    "never",
    "invalid",
  ] as const)
    if (r[k] !== undefined) (rule as unknown as Record<string, unknown>)[k] = r[k];
  const selected = r.invalid === undefined ? res.destinations(p, r) : undefined;
  if (selected !== undefined) rule.selected = selected;
  return rule;
}

const byOrderThenName = (
  a: { order?: number; name: string },
  b: { order?: number; name: string },
): number => {
  const oa = a.order ?? Infinity;
  const ob = b.order ?? Infinity;
  return compareNumbers(oa, ob) || compareStrings(a.name, b.name);
};

function tierOf(index: ClusterIndex, name: string, problems: string[]): Omit<AccessTier, "policies"> {
  const t = index.tier(name);
  if (t === undefined && name !== DEFAULT_TIER)
    problems.push(`Tier "${name}" does not exist; its policies are evaluated last with defaultAction Deny`);
  const order = t?.spec?.order ?? (name === DEFAULT_TIER ? DEFAULT_TIER_ORDER : undefined);
  const defaultAction = t?.spec?.defaultAction === "Pass" ? "Pass" : "Deny";
  return { name, ...(order !== undefined && Number.isFinite(order) ? { order } : {}), defaultAction };
}

/**
 * The access plan of `pods` (a node's workloads, or one pod for explain): every Egress policy
 * that selects at least one of them, grouped into ordered tiers.
 */
export function computeAccessPlan(index: ClusterIndex, pods: Iterable<PodInput>): AccessPlan {
  const problems: string[] = [];
  const workloads = [...pods]
    .map((pod): [PodInput, AccessWorkload] => [
      pod,
      { key: podKeyOf(pod), hostInterface: pod.status?.hostInterface ?? "" },
    ])
    .sort(([, a], [, b]) => compareStrings(a.key, b.key));
  const res = new Resolver(index);
  const byTier = new Map<string, AccessPolicy[]>();
  for (const [, parsed] of index.accessPolicyEntries()) {
    if (!parsed.ok) {
      problems.push(`${parsed.error}; the policy is ignored`);
      continue;
    }
    const p = parsed.value;
    problems.push(...p.problems);
    if (!p.egress) continue;
    const appliesTo = workloads.filter(([pod]) => res.appliesTo(p, pod)).map(([, w]) => w);
    if (appliesTo.length === 0) continue;
    const policy: AccessPolicy = {
      kind: p.kind,
      ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
      name: p.name,
      key: p.key,
      ...(p.order !== undefined ? { order: p.order } : {}),
      appliesTo,
      rules: p.rules.map((r) => resolveRule(res, p, r)),
    };
    let list = byTier.get(p.tier);
    if (list === undefined) byTier.set(p.tier, (list = []));
    list.push(policy);
  }
  const tiers: AccessTier[] = [...byTier.entries()]
    .map(([name, policies]) => ({
      ...tierOf(index, name, problems),
      // Calico sorts by order, then by name (a namespaced policy's name includes its namespace).
      policies: policies.sort((a, b) =>
        byOrderThenName(
          { order: a.order, name: a.key.slice(a.key.indexOf(":") + 1) },
          { order: b.order, name: b.key.slice(b.key.indexOf(":") + 1) },
        ),
      ),
    }))
    .sort(byOrderThenName);
  return { tiers, problems: [...new Set(problems)].sort() };
}
