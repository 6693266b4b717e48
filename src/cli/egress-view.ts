// The cluster as calc sees it, read from the datastore for `egw describe pod`: the same
// ClusterIndex and explainWorkload the agents use, with gateway readiness taken from the Ready
// condition each gateway replica publishes on its Pod (the agents poll /readiness directly).
import { readyConditionOf } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_EGRESS_IP } from "../api/well-known.js";
import { ClusterIndex, explainWorkload, podKey, type Snapshot } from "../calc/index.js";
import type {
  EgressGatewayPolicyInput,
  IPPoolInput,
  NamespaceInput,
  NodeInput,
  PodInput,
} from "../calc/inputs.js";
import type { Datastore, DatastoreError } from "../datastore/types.js";
import { formatWorkloadExplanation } from "./explain-view.js";
import { err, ok, type Result } from "../util/result.js";

/** Ready condition of a gateway replica pod: true/false, undefined when it has not reported yet. */
export const publishedReadiness = (pod: Resource): boolean | undefined => {
  const ready = readyConditionOf(pod);
  return ready?.status === "True" ? true : ready?.status === "False" ? false : undefined;
};

/** A Snapshot from the listed objects (pure). */
export const snapshotOf = (lists: {
  nodes: readonly Resource[];
  namespaces: readonly Resource[];
  pods: readonly Resource[];
  policies: readonly Resource[];
  pools: readonly Resource[];
}): Snapshot => {
  const gatewayHealth = new Map<string, boolean>();
  for (const pod of lists.pods) {
    if (pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] === undefined) continue;
    const ready = publishedReadiness(pod);
    if (ready !== undefined)
      gatewayHealth.set(podKey(pod.metadata.namespace ?? "default", pod.metadata.name), ready);
  }
  return {
    nodes: lists.nodes as readonly NodeInput[],
    namespaces: lists.namespaces as readonly NamespaceInput[],
    pods: lists.pods as readonly PodInput[],
    egressGatewayPolicies: lists.policies as readonly EgressGatewayPolicyInput[],
    ipPools: lists.pools as readonly IPPoolInput[],
    gatewayHealth,
  };
};

/** Reads everything calc needs from the datastore. */
export const readSnapshot = async (store: Datastore): Promise<Result<Snapshot, DatastoreError>> => {
  const kinds = ["Node", "Namespace", "Pod", "EgressGatewayPolicy", "IPPool"] as const;
  const lists: Resource[][] = [];
  for (const kind of kinds) {
    const r = await store.list(kind);
    if (!r.ok) return err(r.error);
    lists.push([...r.value.items]);
  }
  const [nodes = [], namespaces = [], pods = [], policies = [], pools = []] = lists;
  return ok(snapshotOf({ nodes, namespaces, pods, policies, pools }));
};

/** The `Egress:` lines of `egw describe pod` (pure). */
export const describePodEgress = (snapshot: Snapshot, namespace: string, name: string): string[] => {
  const explained = explainWorkload(ClusterIndex.fromSnapshot(snapshot), namespace, name);
  return explained.ok ? formatWorkloadExplanation(explained.value) : [`Egress: ${explained.error}`];
};
