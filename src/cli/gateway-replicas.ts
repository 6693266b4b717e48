// Reads what replica-view.ts needs for some EgressGateways: the Pods of their namespaces (the
// replicas among them) and every Node (zones, and the agents' status.gatewayLiveness).
import type { Resource } from "../api/meta.js";
import type { Datastore, DatastoreError } from "../datastore/types.js";
import { ok, type Result } from "../util/result.js";
import type { ReplicaVisibilityByGateway } from "./output.js";
import { clientLivenessByReplica, replicaVisibility } from "./replica-view.js";

export const readReplicaVisibility = async (
  store: Datastore,
  gateways: readonly Resource[],
): Promise<Result<ReplicaVisibilityByGateway, DatastoreError>> => {
  const nodes = await store.list("Node");
  if (!nodes.ok) return nodes;
  const pods: Resource[] = [];
  for (const namespace of new Set(gateways.map((g) => g.metadata.namespace ?? "default"))) {
    const listed = await store.list("Pod", { namespace });
    if (!listed.ok) return listed;
    pods.push(...listed.value.items);
  }
  const liveness = clientLivenessByReplica(nodes.value.items);
  return ok(
    new Map(
      gateways.map((g) => [
        `${g.metadata.namespace ?? "default"}/${g.metadata.name}`,
        replicaVisibility(g, pods, nodes.value.items, liveness),
      ]),
    ),
  );
};
