// The NodePlan of one node: its workloads, one gateway set per distinct routing behaviour (not
// per pod), each with a stable mark and table from egw's band, and the tunnel peers they use.
import { computeAccessPlan } from "./access/compute.js";
import type { PodInput } from "./inputs.js";
import { MAX_GATEWAY_SETS, markOfSlot, slotOfTable, tableOfSlot } from "./band.js";
import { resolveWorkloadEgress } from "./gateway-selection.js";
import type { DestinationRoute, GatewayHop, GatewaySetPlan, NodePlan, WorkloadPlan } from "./plan.js";
import { isGatewayPod, type ClusterIndex } from "./snapshot.js";
import { compareStrings as compare } from "../util/compare.js";

/**
 * Computes what `nodeName`'s kernel must hold. Pass the previous plan so gateway sets that still
 * exist keep their mark and table (established connections carry the mark in conntrack).
 * Without a previous plan (an agent restart), pass `kernelSlots` — workload IP → the slot the
 * kernel steers it with today — so each set keeps the slot its workloads already use.
 */
export function computeNodePlan(
  index: ClusterIndex,
  nodeName: string,
  previous?: NodePlan,
  kernelSlots?: ReadonlyMap<string, number>,
): NodePlan {
  const workloads: WorkloadPlan[] = [];
  const setRoutes = new Map<string, DestinationRoute[]>();
  const workloadPods: PodInput[] = [];
  for (const pod of index.podsOnNode(nodeName)) {
    if (isGatewayPod(pod)) continue; // replicas run their own dataplane
    const ip = pod.status?.podIP;
    const hostInterface = pod.status?.hostInterface;
    const phase = pod.status?.phase;
    // Without an IP and interface there is nothing to program (and unknown interfaces are dropped).
    if (!ip || !hostInterface || phase === "Succeeded" || phase === "Failed") continue;
    const workload: WorkloadPlan = {
      namespace: pod.metadata.namespace ?? "default",
      name: pod.metadata.name,
      ip,
      hostInterface,
    };
    const egress = resolveWorkloadEgress(index, pod, nodeName);
    if (egress.kind === "blocked") workload.blocked = { reason: egress.reason };
    else if (egress.kind === "gateways") {
      workload.gatewaySet = egress.key;
      if (!setRoutes.has(egress.key)) setRoutes.set(egress.key, egress.routes);
    }
    workloads.push(workload);
    workloadPods.push(pod);
  }

  const preferred = kernelSlots === undefined ? undefined : preferredSlots(workloads, kernelSlots);
  const { slots, overflow } = assignSlots([...setRoutes.keys()], previous?.gatewaySets ?? [], preferred);
  if (overflow.size > 0) {
    for (const w of workloads) {
      if (w.gatewaySet === undefined || !overflow.has(w.gatewaySet)) continue;
      delete w.gatewaySet;
      w.blocked = {
        reason: `node "${nodeName}" needs more than ${MAX_GATEWAY_SETS} distinct gateway sets; egress is blocked for the excess`,
      };
    }
  }
  const gatewaySets: GatewaySetPlan[] = [...slots]
    .map(([key, slot]) => ({
      key,
      mark: markOfSlot(slot),
      table: tableOfSlot(slot),
      routes: setRoutes.get(key) ?? [],
    }))
    .sort((a, b) => a.table - b.table);

  workloads.sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
  return {
    node: nodeName,
    nodeIP: index.nodeIP(nodeName) ?? "",
    workloadCidrs: [...index.workloadCidrs()],
    workloads,
    gatewaySets,
    tunnelPeers: tunnelPeersOf(gatewaySets),
    ...(index.hasAccessPolicies() ? { access: computeAccessPlan(index, workloadPods) } : {}),
  };
}

/**
 * Gives every key a slot in 1..MAX_GATEWAY_SETS: the slot it had in `previous` when still valid,
 * else its `preferred` slot when valid and free, otherwise the lowest free one (new keys in sorted
 * order, so the result is deterministic). Keys that do not fit are returned in `overflow`.
 */
export function assignSlots(
  keys: readonly string[],
  previous: readonly Pick<GatewaySetPlan, "key" | "mark" | "table">[],
  preferred: ReadonlyMap<string, number> = new Map(),
): { slots: Map<string, number>; overflow: Set<string> } {
  const wanted = new Set(keys);
  const slots = new Map<string, number>();
  const used = new Set<number>();
  for (const set of previous) {
    const slot = slotOfTable(set.table);
    if (slot === undefined || markOfSlot(slot) !== set.mark || !wanted.has(set.key)) continue;
    if (used.has(slot) || slots.has(set.key)) continue;
    slots.set(set.key, slot);
    used.add(slot);
  }
  for (const [key, slot] of preferred) {
    if (!wanted.has(key) || slots.has(key) || used.has(slot) || !validSlot(slot)) continue;
    slots.set(key, slot);
    used.add(slot);
  }
  const overflow = new Set<string>();
  let next = 1;
  for (const key of [...wanted].filter((k) => !slots.has(k)).sort(compare)) {
    while (used.has(next)) next++;
    if (next > MAX_GATEWAY_SETS) {
      overflow.add(key);
      continue;
    }
    slots.set(key, next);
    used.add(next);
  }
  return { slots, overflow };
}

/**
 * key → the slot its workloads already use in the kernel (`kernelSlots`: workload IP → slot).
 * A set whose workloads disagree takes the slot most of them use (ties: lowest slot); a slot
 * claimed by several sets goes to the one with the most workloads in it (ties: lowest key), so
 * the fewest established connections change table.
 */
export function preferredSlots(
  workloads: readonly Pick<WorkloadPlan, "ip" | "gatewaySet">[],
  kernelSlots: ReadonlyMap<string, number>,
): Map<string, number> {
  const votes = new Map<string, { key: string; slot: number; count: number }>();
  for (const w of workloads) {
    const slot = kernelSlots.get(w.ip);
    if (w.gatewaySet === undefined || slot === undefined || !validSlot(slot)) continue;
    const id = `${slot} ${w.gatewaySet}`;
    const vote = votes.get(id) ?? { key: w.gatewaySet, slot, count: 0 };
    vote.count++;
    votes.set(id, vote);
  }
  const ranked = [...votes.values()].sort(
    (a, b) => b.count - a.count || a.slot - b.slot || compare(a.key, b.key),
  );
  const preferred = new Map<string, number>();
  const taken = new Set<number>();
  for (const { key, slot } of ranked) {
    if (preferred.has(key) || taken.has(slot)) continue;
    preferred.set(key, slot);
    taken.add(slot);
  }
  return preferred;
}

const validSlot = (slot: number): boolean => Number.isInteger(slot) && slot >= 1 && slot <= MAX_GATEWAY_SETS;

/** Every hop any set routes to, once per IP, sorted by IP text. */
function tunnelPeersOf(sets: readonly GatewaySetPlan[]): GatewayHop[] {
  // Hop objects are shared between sets (one per replica), so identity dedupes most of them cheaply.
  const seen = new Set<GatewayHop>();
  for (const set of sets) {
    for (const route of set.routes) {
      if (route.action === "gateways") for (const hop of route.hops) seen.add(hop);
    }
  }
  const byIP = new Map<string, GatewayHop>();
  for (const hop of seen) if (!byIP.has(hop.ip)) byIP.set(hop.ip, hop);
  return [...byIP.values()].sort((a, b) => compare(a.ip, b.ip));
}
