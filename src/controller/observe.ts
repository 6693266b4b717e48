// What the controller reads from the datastore for one gateway (I/O): its replica pods, the
// names of the namespace's other pods, every IP allocation, and the cluster-wide pools and
// nodes, as the plain views gateway-actions.ts decides on (views.ts).
import type { Datastore } from "../datastore/types.js";
import { IP_ALLOCATION_KIND } from "../ipam/allocator.js";
import type { IPPoolLike } from "../ipam/pools.js";
import { err, ok, type Result } from "../util/result.js";
import type { GatewayActionsInput } from "./actions.js";
import { ownerKeyOf, toAllocationView, toNodeView, toReplicaView } from "./views.js";

/** A gateway's world, as gatewayActions takes it. */
export type GatewayState = Pick<
  GatewayActionsInput,
  "pools" | "nodes" | "replicas" | "otherPodNames" | "allocations"
>;

/** The cluster-wide part of a gateway's state: no action changes it, so a sync reads it once. */
export type ClusterState = Pick<GatewayState, "pools" | "nodes">;

export const readCluster = async (store: Datastore): Promise<Result<ClusterState, string>> => {
  const pools = await store.list("IPPool");
  if (!pools.ok) return err(`listing IPPools: ${pools.error.message}`);
  const nodes = await store.list("Node");
  if (!nodes.ok) return err(`listing nodes: ${nodes.error.message}`);
  return ok({ pools: pools.value.items as IPPoolLike[], nodes: nodes.value.items.map(toNodeView) });
};

/**
 * The state of gateway `key` in `namespace`. Pods first, allocations after: an allocation is made
 * before its pod, so both are seen. IPPools and Nodes are listed only when `cluster` (read by an
 * earlier pass of the same sync) is absent.
 */
export const readGatewayState = async (
  store: Datastore,
  namespace: string,
  key: string,
  cluster: ClusterState | undefined,
): Promise<Result<GatewayState, string>> => {
  const pods = await store.list("Pod", { namespace });
  if (!pods.ok) return err(`listing pods of ${namespace}: ${pods.error.message}`);
  const allocations = await store.list(IP_ALLOCATION_KIND);
  if (!allocations.ok) return err(`listing IP allocations: ${allocations.error.message}`);
  let shared = cluster;
  if (shared === undefined) {
    const read = await readCluster(store);
    if (!read.ok) return read;
    shared = read.value;
  }
  const replicas: ReturnType<typeof toReplicaView>[] = [];
  const otherPodNames = new Set<string>();
  for (const p of pods.value.items) {
    if (ownerKeyOf(p) === key) replicas.push(toReplicaView(p));
    else otherPodNames.add(p.metadata.name);
  }
  return ok({
    pools: shared.pools,
    nodes: shared.nodes,
    replicas,
    otherPodNames,
    allocations: allocations.value.items.map(toAllocationView).filter((a) => a !== undefined),
  });
};
