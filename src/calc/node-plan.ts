// The NodePlan of one node: its workloads (local gateway replicas included, with the egress IP
// they send from), one gateway set per distinct routing behaviour (not per pod), named by key, and
// the tunnel peers the sets use (their route hops and retained replicas). Which fwmark and routing table a set gets is not decided here:
// the dataplane gives out and keeps those (dataplane/slots.ts).
import { ANN_GATEWAY_EGRESS_IP } from "../api/well-known.js";
import { computeAccessPlan } from "./access/compute.js";
import type { PodInput } from "./inputs.js";
import { resolveWorkloadEgress } from "./gateway-selection.js";
import type { GatewayHop, GatewaySetPlan, NodePlan, WorkloadPlan } from "./plan.js";
import { isGatewayPod, type ClusterIndex } from "./snapshot.js";
import { compareStrings as compare } from "../util/compare.js";

/** Computes what `nodeName`'s kernel must hold. */
export function computeNodePlan(index: ClusterIndex, nodeName: string): NodePlan {
  const workloads: WorkloadPlan[] = [];
  const sets = new Map<string, GatewaySetPlan>();
  const workloadPods: PodInput[] = [];
  for (const pod of index.podsOnNode(nodeName)) {
    if (isGatewayPod(pod)) {
      const replica = localReplica(pod);
      if (replica !== undefined) workloads.push(replica);
      continue;
    }
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
      if (!sets.has(egress.key)) {
        const set: GatewaySetPlan = { key: egress.key, routes: egress.routes };
        if (egress.retained !== undefined) set.retained = egress.retained;
        sets.set(egress.key, set);
      }
    }
    workloads.push(workload);
    workloadPods.push(pod);
  }

  const gatewaySets = [...sets.values()].sort((a, b) => compare(a.key, b.key));
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
 * A running gateway replica on this node as a workload: it uses no gateway itself (its own
 * dataplane does the SNAT), and it may send from its egress IP, as the controller recorded it.
 */
function localReplica(pod: PodInput): WorkloadPlan | undefined {
  const ip = pod.status?.podIP;
  const hostInterface = pod.status?.hostInterface;
  if (!ip || !hostInterface || pod.status?.phase !== "Running") return undefined;
  return {
    namespace: pod.metadata.namespace ?? "default",
    name: pod.metadata.name,
    ip,
    hostInterface,
    extraSourceIPs: [pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? ""],
  };
}

/**
 * Every replica a set's connections may use — the hops its routes go to and its retained
 * replicas — once per IP, sorted by IP text.
 */
export function tunnelPeersOf(sets: readonly GatewaySetPlan[]): GatewayHop[] {
  // Hop objects are shared between sets (one per replica), so identity dedupes most of them cheaply.
  const seen = new Set<GatewayHop>();
  for (const set of sets) {
    for (const route of set.routes) {
      if (route.action === "gateways") for (const hop of route.hops) seen.add(hop);
    }
  }
  const byIP = new Map<string, GatewayHop>();
  for (const hop of seen) if (!byIP.has(hop.ip)) byIP.set(hop.ip, hop);
  for (const set of sets) {
    if (set.retained === undefined) continue;
    for (const r of set.retained) {
      if (byIP.has(r.ip)) continue;
      const { why: _why, drainDeadline: _deadline, ...hop } = r;
      byIP.set(r.ip, hop);
    }
  }
  return [...byIP.values()].sort((a, b) => compare(a.ip, b.ip));
}
