// What a gateway replica's netns must hold, from its own Pod, the Nodes and the IPPools (pure).
// Bad pieces of other objects (a node without an address, a malformed CIDR) are left out with a
// warning so one broken Node never takes every gateway down; problems with the replica's own Pod
// make the plan fail (the replica is then not ready).
import type { IPPoolInput, NodeInput, PodInput } from "../calc/inputs.js";
import { ANN_GATEWAY_EGRESS_IP } from "../api/well-known.js";
import type { GatewayNode, GatewayReplicaPlan } from "../dataplane/render-gateway.js";
import { canonicalCidr4, ipFamilyOf, isIpv4 } from "../util/ip.js";
import { err, ok, type Result } from "../util/result.js";
import { compareStrings } from "../util/compare.js";

/** NodeInput plus the pod CIDR fields of a Node's spec. */
export type GatewayNodeInput = NodeInput & {
  readonly spec?: { readonly podCIDR?: string; readonly podCIDRs?: readonly string[] };
};

export interface GatewayPlanInputs {
  replica: { namespace: string; name: string };
  pod: PodInput | undefined;
  nodes: Iterable<GatewayNodeInput>;
  pools: Iterable<IPPoolInput>;
  uplink: string;
  healthPort: number;
}

export interface BuiltGatewayPlan {
  plan: GatewayReplicaPlan;
  /** Objects (or parts) left out, one line each. */
  warnings: string[];
}

export function buildGatewayPlan(i: GatewayPlanInputs): Result<BuiltGatewayPlan, string> {
  const who = `Pod ${i.replica.namespace}/${i.replica.name}`;
  if (i.pod === undefined) return err(`${who} does not exist (yet)`);
  const egressIP = i.pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP];
  if (egressIP === undefined)
    return err(
      `${who} has no annotation ${ANN_GATEWAY_EGRESS_IP}: it is not an egress gateway replica (yet)`,
    );
  if (!isIpv4(egressIP))
    return err(`${who}: annotation ${ANN_GATEWAY_EGRESS_IP} "${egressIP}" must be an IPv4 address`);
  const podIP = i.pod.status?.podIP;
  if (!podIP) return err(`${who} has no status.podIP yet`);
  if (!isIpv4(podIP)) return err(`${who}: status.podIP "${podIP}" must be an IPv4 address`);

  const warnings: string[] = [];
  const nodes: GatewayNode[] = [];
  for (const n of i.nodes) {
    const name = n.metadata.name;
    const underlayIP = n.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    if (underlayIP === undefined || !isIpv4(underlayIP)) {
      warnings.push(
        `Node ${name}: status.addresses has no IPv4 InternalIP; tunnel traffic from it is not accepted`,
      );
      continue;
    }
    const declared = n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []);
    const podCidrs: string[] = [];
    for (const c of declared) {
      if (canonicalCidr4(c) !== undefined) podCidrs.push(c);
      else if (ipFamilyOf(c) === 4)
        warnings.push(`Node ${name}: spec.podCIDRs entry "${c}" is not an IPv4 CIDR; skipped`);
    }
    if (podCidrs.length === 0)
      warnings.push(`Node ${name}: no IPv4 spec.podCIDRs; replies cannot be routed back to its pods`);
    nodes.push({ name, underlayIP, podCidrs });
  }
  nodes.sort((a, b) => compareStrings(a.name, b.name));

  const workloadCidrs = new Set<string>();
  for (const p of i.pools) {
    const uses = p.spec?.allowedUses ?? ["Workload"];
    const cidr = p.spec?.cidr;
    if (!uses.includes("Workload") || cidr === undefined || ipFamilyOf(cidr) === 6) continue;
    if (canonicalCidr4(cidr) !== undefined) workloadCidrs.add(cidr);
    else warnings.push(`IPPool ${p.metadata.name}: spec.cidr "${cidr}" is not an IPv4 CIDR; skipped`);
  }

  return ok({
    plan: {
      replica: `${i.replica.namespace}/${i.replica.name}`,
      podIP,
      egressIP,
      uplink: i.uplink,
      workloadCidrs: [...workloadCidrs].sort(),
      nodes,
      healthPort: i.healthPort,
    },
    warnings,
  });
}
