// The calculation's input (a Snapshot of plain resources) and ClusterIndex, the indexes built from
// it. The index is updated one object at a time, so a pod event costs work for that pod only; the
// agent keeps one index per process and recomputes its node's plan from it.
import { ANN_GATEWAY_EGRESS_IP, LABEL_NAMESPACE_NAME } from "../api/well-known.js";
import type { SelectorError } from "../selector/errors.js";
import { parseSelector, type Selector } from "../selector/selector.js";
import type { Result } from "../util/result.js";
import type { EgressGatewayPolicyInput, IPPoolInput, NamespaceInput, NodeInput, PodInput } from "./inputs.js";
import { podKey, podKeyOf } from "./inputs.js";
import { parsePolicy, type ParsedPolicy } from "./policy.js";
import {
  accessPolicyKey,
  type AccessPolicyKind,
  type GlobalNetworkSetInput,
  type NetworkPolicyInput,
  type TierInput,
} from "./access/inputs.js";
import {
  DestinationCache,
  destinationKey,
  type DestinationScope,
  type ParsedNetworkSet,
} from "./access/destinations.js";
import { ipv4Nets, parseAccessPolicy, type ParsedAccessPolicy } from "./access/parse.js";
import { compareStrings } from "../util/compare.js";

/** Everything one computation needs, as plain resource objects. */
export interface Snapshot {
  readonly nodes: readonly NodeInput[];
  readonly namespaces: readonly NamespaceInput[];
  readonly pods: readonly PodInput[];
  readonly egressGatewayPolicies: readonly EgressGatewayPolicyInput[];
  readonly ipPools: readonly IPPoolInput[];
  /** Readiness of gateway replicas as polled by the agent, by "<namespace>/<pod>". Absent = not polled yet. */
  readonly gatewayHealth: ReadonlyMap<string, boolean>;
  /** Egress access policy (docs/policy.md); absent = none. */
  readonly tiers?: readonly TierInput[];
  readonly networkPolicies?: readonly NetworkPolicyInput[];
  readonly globalNetworkPolicies?: readonly NetworkPolicyInput[];
  readonly globalNetworkSets?: readonly GlobalNetworkSetInput[];
}

/** Parsed selectors are cached by source text; the cache is dropped when it grows past this. */
const SELECTOR_CACHE_MAX = 10_000;

const EMPTY: ReadonlySet<string> = new Set();

/** A replica of an EgressGateway: a pod the controller annotated with its egress IP. */
export const isGatewayPod = (pod: PodInput): boolean =>
  pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] !== undefined;

export class ClusterIndex {
  private readonly nodes = new Map<string, NodeInput>();
  private readonly namespaces = new Map<string, NamespaceInput>();
  private readonly pods = new Map<string, PodInput>();
  private readonly podsByNode = new Map<string, Map<string, PodInput>>();
  /** Gateway replica keys by namespace. */
  private readonly gatewaysByNamespace = new Map<string, Set<string>>();
  private readonly policies = new Map<string, Result<ParsedPolicy, string>>();
  private readonly ipPools = new Map<string, IPPoolInput>();
  private readonly health = new Map<string, boolean>();
  private readonly selectors = new Map<string, Result<Selector, SelectorError>>();
  /** Results that depend on anything but plain workload pods (gateways, namespaces, nodes, policies, pools, health). */
  private readonly derived = new Map<string, unknown>();
  /** Bumped whenever `derived` is dropped; per-pod results remember the generation they saw. */
  private generation = 0;
  private readonly perPod = new WeakMap<PodInput, { node: string; generation: number; value: unknown }>();
  private workloadCidrsCache: string[] | undefined;
  // Access policy (calc/access). Gateway selection does not read these, so they do not
  // invalidate `derived`; access plans are computed from them (and the pods) on demand.
  private readonly tiers = new Map<string, TierInput>();
  /** By accessPolicyKey (`np:<ns>/<name>`, `gnp:<name>`). */
  private readonly accessPolicies = new Map<string, Result<ParsedAccessPolicy, string>>();
  private readonly networkSets = new Map<string, GlobalNetworkSetInput>();
  /** The same sets with their nets parsed once per update. */
  private readonly parsedSets = new Map<string, ParsedNetworkSet>();
  /** Destination selectors resolved to pod IPs + set nets, updated per pod event. */
  private readonly destinationCache = new DestinationCache({
    allPods: () => this.allPods(),
    namespaceLabels: (ns) => this.namespaceLabels(ns),
    parsedNetworkSets: () => this.parsedSets.values(),
  });

  static fromSnapshot(snapshot: Snapshot): ClusterIndex {
    const index = new ClusterIndex();
    for (const n of snapshot.nodes) index.upsertNode(n);
    for (const ns of snapshot.namespaces) index.upsertNamespace(ns);
    for (const p of snapshot.ipPools) index.upsertIPPool(p);
    for (const p of snapshot.egressGatewayPolicies) index.upsertPolicy(p);
    for (const p of snapshot.pods) index.upsertPod(p);
    for (const [key, healthy] of snapshot.gatewayHealth) index.setGatewayHealth(key, healthy);
    for (const t of snapshot.tiers ?? []) index.upsertTier(t);
    for (const p of snapshot.networkPolicies ?? []) index.upsertNetworkPolicy(p);
    for (const p of snapshot.globalNetworkPolicies ?? []) index.upsertGlobalNetworkPolicy(p);
    for (const s of snapshot.globalNetworkSets ?? []) index.upsertGlobalNetworkSet(s);
    return index;
  }

  // ---- updates -------------------------------------------------------------------------------

  upsertNode(node: NodeInput): void {
    const old = this.nodes.get(node.metadata.name);
    this.nodes.set(node.metadata.name, node);
    // Agents write their Node's status often (leases, liveness): only what calc reads of a Node,
    // its labels and addresses, makes earlier results stale.
    if (old === undefined || !sameNodeView(old, node)) this.invalidateDerived();
  }

  deleteNode(name: string): void {
    if (this.nodes.delete(name)) this.invalidateDerived();
  }

  upsertNamespace(ns: NamespaceInput): void {
    this.namespaces.set(ns.metadata.name, ns);
    this.destinationCache.clear();
    this.invalidateDerived();
  }

  deleteNamespace(name: string): void {
    if (!this.namespaces.delete(name)) return;
    this.destinationCache.clear();
    this.invalidateDerived();
  }

  /** Resource objects are treated as immutable: pass a new object for a changed pod. */
  upsertPod(pod: PodInput): void {
    const key = podKeyOf(pod);
    const old = this.pods.get(key);
    if (old !== undefined) this.unindexPod(key, old);
    this.pods.set(key, pod);
    const node = pod.spec?.nodeName;
    if (node !== undefined && node !== "") {
      let onNode = this.podsByNode.get(node);
      if (onNode === undefined) this.podsByNode.set(node, (onNode = new Map()));
      onNode.set(key, pod);
    }
    if (isGatewayPod(pod)) addTo(this.gatewaysByNamespace, namespaceOf(pod), key);
    if (isGatewayPod(pod) || (old !== undefined && isGatewayPod(old))) this.invalidateDerived();
    this.destinationCache.podChanged(old, pod);
  }

  deletePod(namespace: string, name: string): void {
    const key = podKey(namespace, name);
    const old = this.pods.get(key);
    if (old === undefined) return;
    this.unindexPod(key, old);
    this.pods.delete(key);
    if (isGatewayPod(old)) this.invalidateDerived();
    this.destinationCache.podChanged(old, undefined);
  }

  upsertPolicy(policy: EgressGatewayPolicyInput): void {
    this.policies.set(
      policy.metadata.name,
      parsePolicy(policy, (src) => this.selector(src)),
    );
    this.invalidateDerived();
  }

  deletePolicy(name: string): void {
    if (this.policies.delete(name)) this.invalidateDerived();
  }

  upsertIPPool(pool: IPPoolInput): void {
    this.ipPools.set(pool.metadata.name, pool);
    this.workloadCidrsCache = undefined;
    this.invalidateDerived();
  }

  deleteIPPool(name: string): void {
    if (!this.ipPools.delete(name)) return;
    this.workloadCidrsCache = undefined;
    this.invalidateDerived();
  }

  /** Every IPPool, in no particular order. */
  allIPPools(): IPPoolInput[] {
    return [...this.ipPools.values()];
  }

  upsertTier(tier: TierInput): void {
    this.tiers.set(tier.metadata.name, tier);
  }

  deleteTier(name: string): void {
    this.tiers.delete(name);
  }

  upsertNetworkPolicy(policy: NetworkPolicyInput): void {
    this.upsertAccessPolicy("NetworkPolicy", policy);
  }

  deleteNetworkPolicy(namespace: string, name: string): void {
    if (this.accessPolicies.delete(accessPolicyKey("NetworkPolicy", namespace, name)))
      this.pruneDestinations();
  }

  upsertGlobalNetworkPolicy(policy: NetworkPolicyInput): void {
    this.upsertAccessPolicy("GlobalNetworkPolicy", policy);
  }

  deleteGlobalNetworkPolicy(name: string): void {
    if (this.accessPolicies.delete(accessPolicyKey("GlobalNetworkPolicy", undefined, name)))
      this.pruneDestinations();
  }

  upsertGlobalNetworkSet(set: GlobalNetworkSetInput): void {
    this.networkSets.set(set.metadata.name, set);
    const nets = ipv4Nets(set.spec?.nets ?? []);
    this.parsedSets.set(set.metadata.name, {
      labels: set.metadata.labels ?? {},
      v4: nets.ok ? nets.value.v4 : undefined,
    });
    this.destinationCache.clear();
  }

  deleteGlobalNetworkSet(name: string): void {
    this.networkSets.delete(name);
    if (this.parsedSets.delete(name)) this.destinationCache.clear();
  }

  /** Records a replica's polled readiness; undefined forgets it (back to "not polled yet"). */
  setGatewayHealth(replicaKey: string, healthy: boolean | undefined): void {
    if (this.health.get(replicaKey) === healthy) return;
    if (healthy === undefined) this.health.delete(replicaKey);
    else this.health.set(replicaKey, healthy);
    this.invalidateDerived();
  }

  // ---- reads ---------------------------------------------------------------------------------

  node(name: string): NodeInput | undefined {
    return this.nodes.get(name);
  }

  /** The node's first InternalIP: its underlay (VXLAN) address. */
  nodeIP(name: string): string | undefined {
    return this.nodes.get(name)?.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()].sort();
  }

  namespace(name: string): NamespaceInput | undefined {
    return this.namespaces.get(name);
  }

  /** A namespace's labels, always including kubernetes.io/metadata.name (as Kubernetes sets it). */
  namespaceLabels(name: string): Readonly<Record<string, string>> {
    const labels = this.namespaces.get(name)?.metadata.labels;
    if (labels?.[LABEL_NAMESPACE_NAME] === name) return labels;
    return { ...labels, [LABEL_NAMESPACE_NAME]: name };
  }

  pod(namespace: string, name: string): PodInput | undefined {
    return this.pods.get(podKey(namespace, name));
  }

  podsOnNode(node: string): Iterable<PodInput> {
    return this.podsByNode.get(node)?.values() ?? [];
  }

  /** Namespaces holding at least one gateway replica. */
  gatewayNamespaces(): Iterable<string> {
    return this.gatewaysByNamespace.keys();
  }

  *gatewayPodsIn(namespace: string): Iterable<PodInput> {
    for (const key of this.gatewaysByNamespace.get(namespace) ?? EMPTY) {
      const pod = this.pods.get(key);
      if (pod !== undefined) yield pod;
    }
  }

  /** The parsed policy, its validation error, or undefined when no such policy exists. */
  policy(name: string): Result<ParsedPolicy, string> | undefined {
    return this.policies.get(name);
  }

  tier(name: string): TierInput | undefined {
    return this.tiers.get(name);
  }

  /** Every NetworkPolicy and GlobalNetworkPolicy, parsed (or its validation error), by key. */
  accessPolicyEntries(): Iterable<[string, Result<ParsedAccessPolicy, string>]> {
    return this.accessPolicies.entries();
  }

  hasAccessPolicies(): boolean {
    return this.accessPolicies.size > 0;
  }

  globalNetworkSets(): Iterable<GlobalNetworkSetInput> {
    return this.networkSets.values();
  }

  /**
   * The destinations a rule's selector + namespaceSelector pick (pod IPs as /32 and the nets of
   * selected GlobalNetworkSets), sorted and unique; cached and kept current per pod event. The
   * array is shared: do not mutate it.
   */
  destinations(scope: DestinationScope): string[] {
    return this.destinationCache.resolve(scope);
  }

  /** Every pod of the cluster (destination selectors resolve to their IPs). */
  allPods(): Iterable<PodInput> {
    return this.pods.values();
  }

  /** Polled readiness of a replica; undefined = not polled yet. */
  gatewayHealth(replicaKey: string): boolean | undefined {
    return this.health.get(replicaKey);
  }

  /** CIDRs of pools that hand out workload addresses (allowedUses unset means Workload), sorted. */
  workloadCidrs(): string[] {
    this.workloadCidrsCache ??= [
      ...new Set(
        [...this.ipPools.values()]
          .filter((p) => (p.spec?.allowedUses ?? ["Workload"]).includes("Workload"))
          .map((p) => p.spec?.cidr)
          .filter((c): c is string => c !== undefined && c !== ""),
      ),
    ].sort();
    return this.workloadCidrsCache;
  }

  /** Parses selector text once per distinct text. */
  selector(src: string): Result<Selector, SelectorError> {
    let parsed = this.selectors.get(src);
    if (parsed === undefined) {
      if (this.selectors.size >= SELECTOR_CACHE_MAX) this.selectors.clear();
      parsed = parseSelector(src);
      this.selectors.set(src, parsed);
    }
    return parsed;
  }

  /**
   * Caches a value computed from everything except plain workload pods: it is dropped whenever a
   * gateway replica, namespace, node, policy, pool or health reading changes. Keys must encode
   * every other input of `compute`.
   */
  memo<T>(key: string, compute: () => T): T {
    const hit = this.derived.get(key);
    if (hit !== undefined || this.derived.has(key)) return hit as T;
    const value = compute();
    this.derived.set(key, value);
    return value;
  }

  /**
   * Caches a per-pod result computed for `node`; it is reused while the pod object is the same one
   * and nothing `memo` depends on has changed. Callers pass the same kind of value for every pod.
   */
  memoForPod<T>(pod: PodInput, node: string, compute: () => T): T {
    const hit = this.perPod.get(pod);
    if (hit !== undefined && hit.node === node && hit.generation === this.generation) return hit.value as T;
    const value = compute();
    this.perPod.set(pod, { node, generation: this.generation, value });
    return value;
  }

  /** Object counts, for benchmarks and logs. */
  counts(): { nodes: number; namespaces: number; pods: number; gatewayPods: number; policies: number } {
    let gatewayPods = 0;
    for (const keys of this.gatewaysByNamespace.values()) gatewayPods += keys.size;
    return {
      nodes: this.nodes.size,
      namespaces: this.namespaces.size,
      pods: this.pods.size,
      gatewayPods,
      policies: this.policies.size,
    };
  }

  /** A canonical dump of the indexes (not caches), to compare two indexes in tests. */
  debugState(): unknown {
    const sortedSets = (
      m: Map<string, ReadonlySet<string> | ReadonlyMap<string, unknown>>,
    ): [string, string[]][] =>
      [...m.entries()]
        .map(([k, v]): [string, string[]] => [k, [...v.keys()].sort()])
        .sort(([a], [b]) => compareStrings(a, b));
    const sortedKeys = (m: Map<string, unknown>): string[] => [...m.keys()].sort();
    return {
      nodes: sortedKeys(this.nodes),
      namespaces: sortedKeys(this.namespaces),
      pods: sortedKeys(this.pods),
      podsByNode: sortedSets(this.podsByNode),
      gatewaysByNamespace: sortedSets(this.gatewaysByNamespace),
      policies: sortedKeys(this.policies),
      ipPools: sortedKeys(this.ipPools),
      health: [...this.health.entries()].sort(([a], [b]) => compareStrings(a, b)),
      tiers: sortedKeys(this.tiers),
      accessPolicies: sortedKeys(this.accessPolicies),
      globalNetworkSets: sortedKeys(this.networkSets),
    };
  }

  private upsertAccessPolicy(kind: AccessPolicyKind, policy: NetworkPolicyInput): void {
    const parsed = parseAccessPolicy(kind, policy, (src) => this.selector(src));
    this.accessPolicies.set(accessPolicyKey(kind, policy.metadata.namespace, policy.metadata.name), parsed);
    this.pruneDestinations();
  }

  /** Drops cached destinations no current rule uses (each is updated on every pod event). */
  private pruneDestinations(): void {
    if (this.destinationCache.size === 0) return;
    const keys = new Set<string>();
    for (const parsed of this.accessPolicies.values()) {
      if (!parsed.ok) continue;
      const p = parsed.value;
      for (const r of p.rules)
        if (r.selector !== undefined || r.namespaceSelector !== undefined)
          keys.add(
            destinationKey({
              kind: p.kind,
              namespace: p.namespace,
              selector: r.selector,
              namespaceSelector: r.namespaceSelector,
            }),
          );
    }
    this.destinationCache.retain(keys);
  }

  private unindexPod(key: string, pod: PodInput): void {
    const node = pod.spec?.nodeName;
    const onNode = node === undefined ? undefined : this.podsByNode.get(node);
    if (onNode !== undefined && node !== undefined) {
      onNode.delete(key);
      if (onNode.size === 0) this.podsByNode.delete(node);
    }
    if (isGatewayPod(pod)) removeFrom(this.gatewaysByNamespace, namespaceOf(pod), key);
  }

  private invalidateDerived(): void {
    this.generation++;
    if (this.derived.size > 0) this.derived.clear();
  }
}

const namespaceOf = (pod: PodInput): string => pod.metadata.namespace ?? "default";

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (s === undefined) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

/** True when calc sees no difference between two versions of a Node: same labels and addresses. */
function sameNodeView(a: NodeInput, b: NodeInput): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const ka = Object.keys(la);
  if (ka.length !== Object.keys(lb).length || ka.some((k) => la[k] !== lb[k])) return false;
  const aa = a.status?.addresses ?? [];
  const ab = b.status?.addresses ?? [];
  return (
    aa.length === ab.length && aa.every((x, i) => x.type === ab[i]?.type && x.address === ab[i]?.address)
  );
}
