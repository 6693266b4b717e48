// Destination-selector resolution kept up to date as pods change: one entry per distinct scope +
// selector (+ namespaceSelector), built lazily from every pod on first use, then updated by testing
// only the changed pod. ClusterIndex owns the cache and drops it when namespaces or
// GlobalNetworkSets change; computeAccessPlan reads it, so a pod event costs O(entries), not
// O(entries × pods).
import type { Selector } from "../../selector/selector.js";
import { isIpv4 } from "../../util/ip.js";
import type { PodInput } from "../inputs.js";
import type { AccessPolicyKind } from "./inputs.js";

export const podNamespace = (pod: PodInput): string => pod.metadata.namespace ?? "default";

/** A pod that holds its IP: running or about to (not Succeeded/Failed), with an IPv4 podIP. */
export const liveIPv4 = (pod: PodInput): string | undefined => {
  const ip = pod.status?.podIP;
  const phase = pod.status?.phase;
  return ip !== undefined && isIpv4(ip) && phase !== "Succeeded" && phase !== "Failed" ? ip : undefined;
};

/** A namespaceSelector that picks cluster-scoped objects (`global()`), not namespaces. */
export const selectsGlobal = (s: Selector): boolean =>
  s.matches({}, { global: true }) && !s.matches({}, { global: false });

/** A GlobalNetworkSet's labels and its IPv4 nets, parsed once per update (undefined = invalid nets). */
export interface ParsedNetworkSet {
  readonly labels: Readonly<Record<string, string>>;
  readonly v4: readonly string[] | undefined;
}

/** What the cache reads from the index. */
export interface DestinationSource {
  allPods(): Iterable<PodInput>;
  namespaceLabels(ns: string): Readonly<Record<string, string>>;
  parsedNetworkSets(): Iterable<ParsedNetworkSet>;
}

/** Which pods and sets a rule's destination can pick. */
export interface DestinationScope {
  readonly kind: AccessPolicyKind;
  /** The policy's namespace (NetworkPolicy only). */
  readonly namespace?: string;
  readonly selector?: Selector;
  readonly namespaceSelector?: Selector;
}

/**
 * The cache key: everything the resolution depends on. Calico: without namespaceSelector a
 * NetworkPolicy's selector stays in its namespace, a GlobalNetworkPolicy's spans every namespace
 * and the GlobalNetworkSets.
 */
export function destinationKey(s: DestinationScope): string {
  const nsSel = s.namespaceSelector;
  const scope =
    nsSel !== undefined
      ? `sel:${nsSel.toString()}`
      : s.kind === "NetworkPolicy"
        ? `ns:${s.namespace}`
        : "all";
  return `${scope}\u0000${s.selector?.toString() ?? "all()"}`;
}

interface Entry {
  readonly scope: DestinationScope;
  readonly podsToo: boolean;
  /** `<ip>/32` → how many selected pods hold it (host-network pods share their node's IP). */
  readonly podIPs: Map<string, number>;
  /** Nets of the selected GlobalNetworkSets. */
  readonly setNets: readonly string[];
  /** Sorted unique CIDRs; undefined after a change until read again. */
  sorted: string[] | undefined;
}

export class DestinationCache {
  private readonly entries = new Map<string, Entry>();
  private nsLabels = new Map<string, Readonly<Record<string, string>>>();

  constructor(private readonly source: DestinationSource) {}

  get size(): number {
    return this.entries.size;
  }

  /** The destinations a rule's selector + namespaceSelector pick, as sorted unique IPv4 CIDRs. Do not mutate. */
  resolve(scope: DestinationScope): string[] {
    const key = destinationKey(scope);
    let e = this.entries.get(key);
    if (e === undefined) this.entries.set(key, (e = this.build(scope)));
    e.sorted ??= [...new Set([...e.podIPs.keys(), ...e.setNets])].sort();
    return e.sorted;
  }

  /** Updates every entry for one pod's change (`old` and/or `pod` undefined for an add or delete). */
  podChanged(old: PodInput | undefined, pod: PodInput | undefined): void {
    if (old === pod || this.entries.size === 0) return;
    for (const e of this.entries.values()) {
      if (!e.podsToo) continue;
      const before = old === undefined ? undefined : this.selectedIP(e.scope, old);
      const after = pod === undefined ? undefined : this.selectedIP(e.scope, pod);
      if (before === after) continue;
      if (before !== undefined) {
        const n = e.podIPs.get(before) ?? 0;
        if (n <= 1) e.podIPs.delete(before);
        else e.podIPs.set(before, n - 1);
      }
      if (after !== undefined) e.podIPs.set(after, (e.podIPs.get(after) ?? 0) + 1);
      e.sorted = undefined;
    }
  }

  /** Drops every entry (namespace labels or GlobalNetworkSets changed). */
  clear(): void {
    this.entries.clear();
    this.nsLabels = new Map();
  }

  /** Drops entries no current rule uses. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of [...this.entries.keys()]) if (!keys.has(key)) this.entries.delete(key);
  }

  private namespaceLabels(ns: string): Readonly<Record<string, string>> {
    let labels = this.nsLabels.get(ns);
    if (labels === undefined) this.nsLabels.set(ns, (labels = this.source.namespaceLabels(ns)));
    return labels;
  }

  /** `<ip>/32` when the pod is live and picked by the scope, else undefined. */
  private selectedIP(s: DestinationScope, pod: PodInput): string | undefined {
    const ip = liveIPv4(pod);
    if (ip === undefined) return undefined;
    const ns = podNamespace(pod);
    const nsSel = s.namespaceSelector;
    if (
      nsSel === undefined
        ? s.kind === "NetworkPolicy" && ns !== s.namespace
        : !nsSel.matches(this.namespaceLabels(ns))
    )
      return undefined;
    if (s.selector !== undefined && !s.selector.matches(pod.metadata.labels ?? {})) return undefined;
    return `${ip}/32`;
  }

  private build(scope: DestinationScope): Entry {
    const nsSel = scope.namespaceSelector;
    const withSets = nsSel === undefined ? scope.kind === "GlobalNetworkPolicy" : selectsGlobal(nsSel);
    const podsToo = nsSel === undefined || !selectsGlobal(nsSel);
    const podIPs = new Map<string, number>();
    if (podsToo) {
      for (const pod of this.source.allPods()) {
        const ip = this.selectedIP(scope, pod);
        if (ip !== undefined) podIPs.set(ip, (podIPs.get(ip) ?? 0) + 1);
      }
    }
    const setNets: string[] = [];
    if (withSets) {
      for (const set of this.source.parsedNetworkSets()) {
        if (scope.selector !== undefined && !scope.selector.matches(set.labels, { global: true })) continue;
        if (set.v4 !== undefined) setNets.push(...set.v4);
      }
    }
    return { scope, podsToo, podIPs, setNets, sorted: undefined };
  }
}
