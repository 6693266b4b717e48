// NodePlan: everything the kernel of one node must hold for egress, as plain data.
// calc/ produces it (pure), dataplane/ renders and applies it. No I/O types here.
import type { AccessPlan } from "./access/plan.js";

/** One gateway replica as a next hop: reached over the egress VXLAN device. */
export interface GatewayHop {
  /** "<namespace>/<pod name>" of the replica, for messages and describe. */
  replica: string;
  /** The replica's pod IP: next hop of routes and VXLAN inner address. */
  ip: string;
  /** Deterministic MAC derived from ip (no discovery protocol). */
  mac: string;
  /**
   * VXLAN outer destination: the replica's pod IP (its tunnel endpoint lives in the gateway pod's
   * own netns and is reached through the pod network), not the underlay IP of its node.
   */
  vtep: string;
  /** The replica's egress IP (what the outside world sees). */
  egressIP: string;
}

/**
 * A replica that matches a set but takes no new connections: draining (`egw.dev/terminating` or
 * a deletion timestamp) or down (failed health). It is in no route, but connections it already
 * carries stay on it (the dataplane pins each connection to its replica) while it is one of the
 * node's tunnel peers.
 */
export type RetainedHop = GatewayHop & {
  why: "draining" | "down";
  /** When the drain ends (the pod goes), as the controller or Kubernetes wrote it (ISO-8601). */
  drainDeadline?: string;
};

/** What a gateway-set routing table does for one destination prefix (longest prefix wins). */
export type DestinationRoute =
  | { destination: string; action: "gateways"; hops: GatewayHop[] }
  /** Leave via the normal path (an EgressGatewayPolicy rule with no gateway). */
  | { destination: string; action: "throw" }
  /** Fail closed: the workload is selected for gateways but none is usable. */
  | { destination: string; action: "unreachable"; reason: string };

/**
 * A distinct routing behaviour shared by every workload that resolves to it (one routing table
 * per set, not per pod). `key` is a canonical description: equal keys mean equal routes. Which
 * fwmark and table a set gets is the dataplane's business (dataplane/slots.ts), not calc's.
 */
export interface GatewaySetPlan {
  key: string;
  routes: DestinationRoute[];
  /**
   * Replicas of the set's routes that take no new connections but keep the ones they carry
   * (sorted by replica key, each once). Not part of `key`: like the hops, they are what the
   * key's intent resolves to now, equal for equal keys within one plan, and the kernel state
   * they need (tunnel peer, pin slot) is per node, not per set — a drain must not move a set to
   * another slot, which would replace the node's nft table and re-mark its connections.
   */
  retained?: RetainedHop[];
}

export interface WorkloadPlan {
  namespace: string;
  name: string;
  ip: string;
  hostInterface: string;
  /**
   * Addresses besides `ip` the workload may send from. A gateway replica forwards its clients'
   * traffic, source-NATed to its egress IP, through its node: that traffic is its own.
   */
  extraSourceIPs?: string[];
  /** Key of the gateway set this workload uses; absent when it uses no gateway (node SNAT). */
  gatewaySet?: string;
  /** Egress is blocked entirely (bad annotation, missing policy…): fail closed. */
  blocked?: { reason: string };
}

export interface NodePlan {
  node: string;
  /** The node's underlay IP: VXLAN source. */
  nodeIP: string;
  /** Workload pool CIDRs on this cluster: the `from` of every ip rule (see DESIGN §5 step 2). */
  workloadCidrs: string[];
  workloads: WorkloadPlan[];
  gatewaySets: GatewaySetPlan[];
  /**
   * Every gateway replica a set's connections may use — route hops and retained replicas, once
   * per IP, sorted by IP: permanent neighbour + FDB entries on the VXLAN device, a pin slot, and
   * a liveness route each.
   */
  tunnelPeers: GatewayHop[];
  /** Egress access policy of the workloads (present when the cluster has any NetworkPolicy or
   * GlobalNetworkPolicy); the dataplane compiles it into the egw_policy chain. */
  access?: AccessPlan;
}
