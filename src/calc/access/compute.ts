// ClusterIndex + workloads → AccessPlan: which policies (in tier order) apply to which of the
// given workloads, with every rule's destination selector resolved to the current pod IPs and
// GlobalNetworkSet nets. Pure; cost is O(policies × workloads + distinct selectors × pods).
import type { Selector } from "../../selector/index.js";
import type { PodInput } from "../inputs.js";
import { podKeyOf } from "../inputs.js";
import type { ClusterIndex } from "../snapshot.js";
import { DEFAULT_TIER, ipv4Nets, type ParsedAccessPolicy, type ParsedAccessRule } from "./parse.js";
import type { AccessPlan, AccessPolicy, AccessRule, AccessTier, AccessWorkload } from "./plan.js";

/** Calico's implicit `default` tier sorts at this order unless a Tier object says otherwise. */
export const DEFAULT_TIER_ORDER = 1_000_000;

const IPV4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

const podNamespace = (pod: PodInput): string => pod.metadata.namespace ?? "default";

/** A pod that holds its IP: running or about to (not Succeeded/Failed), with an IPv4 podIP. */
const liveIPv4 = (pod: PodInput): string | undefined => {
  const ip = pod.status?.podIP;
  const phase = pod.status?.phase;
  return ip !== undefined && IPV4.test(ip) && phase !== "Succeeded" && phase !== "Failed" ? ip : undefined;
};

/** A namespaceSelector that picks cluster-scoped objects (`global()`), not namespaces. */
const selectsGlobal = (s: Selector): boolean =>
  s.matches({}, { global: true }) && !s.matches({}, { global: false });

class Resolver {
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly selected = new Map<string, string[]>();

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
    const nsSel = r.namespaceSelector;
    // Calico: without namespaceSelector a NetworkPolicy's selector stays in its namespace, a
    // GlobalNetworkPolicy's spans every namespace and the GlobalNetworkSets.
    const scope =
      nsSel !== undefined
        ? `sel:${nsSel.toString()}`
        : p.kind === "NetworkPolicy"
          ? `ns:${p.namespace}`
          : "all";
    const key = `${scope}\u0000${r.selector?.toString() ?? "all()"}`;
    let hit = this.selected.get(key);
    if (hit === undefined) this.selected.set(key, (hit = this.resolve(p, r.selector, nsSel)));
    return hit;
  }

  private resolve(
    p: ParsedAccessPolicy,
    selector: Selector | undefined,
    nsSel: Selector | undefined,
  ): string[] {
    const out = new Set<string>();
    const withSets = nsSel === undefined ? p.kind === "GlobalNetworkPolicy" : selectsGlobal(nsSel);
    const podsToo = nsSel === undefined || !selectsGlobal(nsSel);
    if (podsToo) {
      for (const pod of this.index.allPods()) {
        const ip = liveIPv4(pod);
        if (ip === undefined) continue;
        const ns = podNamespace(pod);
        if (
          nsSel === undefined
            ? p.kind === "NetworkPolicy" && ns !== p.namespace
            : !nsSel.matches(this.namespaceLabels(ns))
        )
          continue;
        if (selector === undefined || selector.matches(pod.metadata.labels ?? {})) out.add(`${ip}/32`);
      }
    }
    if (withSets) {
      for (const set of this.index.globalNetworkSets()) {
        if (selector !== undefined && !selector.matches(set.metadata.labels ?? {}, { global: true }))
          continue;
        const nets = ipv4Nets(set.spec?.nets ?? []);
        if (nets.ok) for (const n of nets.value.v4) out.add(n);
      }
    }
    return [...out].sort();
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
  if (oa !== ob) return oa < ob ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
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
    .sort(([, a], [, b]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
