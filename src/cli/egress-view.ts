// The cluster as calc sees it, read from the datastore for `egw describe pod` and `egw explain`:
// through the module the agents use (daemon/cluster-inputs.ts: the same kinds, the same shape
// check, the same ClusterIndex) and calc's explainWorkload, with gateway readiness taken from the
// Ready condition each gateway replica publishes on its Pod (the agents poll /readiness directly).
import { readyConditionOf } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_EGRESS_IP } from "../api/well-known.js";
import { explainWorkload } from "../calc/explain.js";
import { podKey } from "../calc/inputs.js";
import type { ClusterIndex } from "../calc/snapshot.js";
import { clusterInputsOf, readClusterInputs, type ClusterInputs } from "../daemon/cluster-inputs.js";
import type { Datastore, DatastoreError } from "../datastore/types.js";
import { ok, type Result } from "../util/result.js";
import { formatWorkloadExplanation } from "./explain-view.js";

/** Ready condition of a gateway replica pod: true/false, undefined when it has not reported yet. */
export const publishedReadiness = (pod: Resource): boolean | undefined => {
  const ready = readyConditionOf(pod);
  return ready?.status === "True" ? true : ready?.status === "False" ? false : undefined;
};

/** Gateway replicas' published readiness by "<namespace>/<pod>"; replicas that said nothing are left out (pure). */
export const publishedGatewayHealth = (pods: readonly Resource[]): Map<string, boolean> => {
  const health = new Map<string, boolean>();
  for (const pod of pods) {
    if (pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] === undefined) continue;
    const ready = publishedReadiness(pod);
    if (ready !== undefined)
      health.set(podKey(pod.metadata.namespace ?? "default", pod.metadata.name), ready);
  }
  return health;
};

/** The cluster inputs with the replicas' published readiness as gateway health (mutates `inputs.index`). */
const withPublishedHealth = (inputs: ClusterInputs): ClusterInputs => {
  for (const [key, ready] of publishedGatewayHealth(inputs.objects.Pod))
    inputs.index.setGatewayHealth(key, ready);
  return inputs;
};

/** The cluster view from listed objects, by kind (pure). */
export const clusterViewOf = (lists: Parameters<typeof clusterInputsOf>[0]): ClusterInputs =>
  withPublishedHealth(clusterInputsOf(lists));

/** Reads everything calc needs from the datastore; malformed objects are skipped and listed. */
export const readClusterView = async (store: Datastore): Promise<Result<ClusterInputs, DatastoreError>> => {
  const read = await readClusterInputs(store);
  return read.ok ? ok(withPublishedHealth(read.value)) : read;
};

/** One line per malformed object the view left out, as the agents leave it out too. */
export const skippedLines = (inputs: ClusterInputs): string[] =>
  inputs.skipped.map((p) => `warning: skipping malformed object (the agents skip it too): ${p}`);

/** The `Egress:` lines of `egw describe pod` (pure). */
export const describePodEgress = (index: ClusterIndex, namespace: string, name: string): string[] => {
  const explained = explainWorkload(index, namespace, name);
  return explained.ok ? formatWorkloadExplanation(explained.value) : [`Egress: ${explained.error}`];
};
