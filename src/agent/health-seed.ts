// What a (re)started agent assumes about gateway replicas it has not polled yet (pure). Unknown
// health counts as up (as in Calico) so a cold start works, but two signals say a replica was not
// carrying traffic and must not be put back before a poll confirms it:
//   - its pod's Ready condition, written by the gateway process itself, is False;
//   - the kernel's nexthop group for a route already exists without it (while other replicas of
//     the route are in it): the previous agent had taken it out.
import type { NodePlan } from "../calc/plan.js";
import type { KernelGatewayGroup } from "../dataplane/kernel-groups.js";
import { canonicalCidr4 } from "../util/ip.js";
import { readyConditionOf } from "../api/conditions.js";

/** True when the gateway process reported its replica not ready in the pod's status. */
export const podReportsNotReady = (pod: { status?: unknown }): boolean =>
  readyConditionOf(pod)?.status === "False";

/**
 * Replicas a plan routes through that the kernel's existing group for the same route (gateway set
 * and destination) lacks, with the reason. A route whose kernel group holds none of the plan's
 * replicas is left alone: holding them all out would fail the route closed on a guess.
 */
export function replicasOutsideKernelGroups(
  plan: NodePlan,
  groups: readonly KernelGatewayGroup[],
): Map<string, string> {
  const byRoute = new Map(groups.map((g) => [`${g.gatewaySet} ${g.dst}`, g]));
  const out = new Map<string, string>();
  for (const set of plan.gatewaySets) {
    for (const route of set.routes) {
      if (route.action !== "gateways") continue;
      const dst = canonicalCidr4(route.destination) ?? route.destination;
      const inKernel = byRoute.get(`${set.key} ${dst}`);
      if (inKernel === undefined || !route.hops.some((h) => inKernel.hops.includes(h.ip))) continue;
      for (const hop of route.hops) {
        if (inKernel.hops.includes(hop.ip) || out.has(hop.replica)) continue;
        out.set(hop.replica, `not in the kernel's nexthop group of table ${inKernel.table} for ${dst}`);
      }
    }
  }
  return out;
}
