// The agent's glue between calc's NodePlan and what the node dataplane receives (pure):
// - local gateway replicas become workloads allowed to send from their egress IP (their SNATed
//   traffic passes through this node; calc leaves gateway pods out of the plan);
// - a workload whose IP or interface name the kernel would reject is left out (its interface is
//   then unknown and dropped: fail closed) instead of failing the whole node's reconcile.
import { ANN_GATEWAY_EGRESS_IP } from "../api/well-known.js";
import { isGatewayPod, type ClusterIndex } from "../calc/index.js";
import type { NodePlan } from "../calc/plan.js";
import { ipv4, validIfname } from "../dataplane/nft-text.js";
import type { DataplaneWorkload } from "../dataplane/render-node.js";

export interface DataplanePlan {
  plan: NodePlan;
  /** Why pods were left out, one line each. */
  problems: string[];
}

export function toDataplanePlan(plan: NodePlan, index: ClusterIndex, node: string): DataplanePlan {
  const problems: string[] = [];
  const usable = (w: { namespace: string; name: string; ip: string; hostInterface: string }): boolean => {
    const bad =
      ipv4(w.ip) === undefined
        ? `status.podIP "${w.ip}" is not an IPv4 address`
        : !validIfname(w.hostInterface)
          ? `status.hostInterface "${w.hostInterface}" is not a valid interface name (1-15 characters)`
          : undefined;
    if (bad !== undefined) problems.push(`Pod ${w.namespace}/${w.name}: ${bad}; its traffic is dropped`);
    return bad === undefined;
  };
  const workloads: DataplaneWorkload[] = plan.workloads.filter(usable);
  for (const pod of index.podsOnNode(node)) {
    if (!isGatewayPod(pod)) continue;
    const ip = pod.status?.podIP;
    const hostInterface = pod.status?.hostInterface;
    if (!ip || !hostInterface || pod.status?.phase !== "Running") continue;
    const w: DataplaneWorkload = {
      namespace: pod.metadata.namespace ?? "default",
      name: pod.metadata.name,
      ip,
      hostInterface,
    };
    if (!usable(w)) continue;
    const egressIP = pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? "";
    if (ipv4(egressIP) !== undefined) w.extraSourceIPs = [egressIP];
    else
      problems.push(
        `Pod ${w.namespace}/${w.name}: annotation ${ANN_GATEWAY_EGRESS_IP} "${egressIP}" is not an IPv4 address`,
      );
    workloads.push(w);
  }
  workloads.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  return { plan: { ...plan, workloads }, problems };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
