// Defensive views of raw stored objects: the controller reads whatever is in the datastore, so
// every field is checked here once and the decision works on plain, well-typed values (pure).
import { conditionOf, readyConditionOf } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import {
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TEMPLATE_HASH,
  ANN_GATEWAY_TERMINATING,
  CONDITION_NODE_REACHABLE,
} from "../api/well-known.js";
import type { AllocationOwner } from "../ipam/pools.js";

/** A gateway replica pod as the controller sees it. */
export interface ReplicaView {
  name: string;
  node?: string;
  egressIP?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  phase?: string;
  podIP?: string;
  /** The pod's Ready condition, which the gateway process writes from its own readiness. */
  podReady?: boolean;
  /** Since when (ms since the epoch) the Ready condition has had its status (lastTransitionTime). */
  readySinceMs?: number;
  /** The template hash annotation: which template the replica was made from. */
  templateHash?: string;
  /** The pod's spec.terminationGracePeriodSeconds (its drain time when its gateway is gone). */
  graceSeconds?: number;
  /** The egw.dev/terminating annotation (a drain deadline), if present. */
  terminating?: string;
  resourceVersion?: string;
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  /** Cordoned (spec.unschedulable): no new replica goes there, the ones there are replaced. */
  unschedulable?: boolean;
  /** Why the node is lost (its EgwNodeReachable condition is False): its replicas are replaced. */
  lost?: string;
}

export interface AllocationView {
  name: string;
  ip: string;
  pool: string;
  owner: AllocationOwner;
  resourceVersion: string;
  /** creationTimestamp in ms since the epoch, when the store recorded one. */
  createdMs?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The string entries of a map; anything else is dropped. */
export const stringMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
};

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** `<namespace>/<name>`: the work-queue key of an EgressGateway and the owner annotation's value. */
export const gatewayKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export const parseGatewayKey = (key: string): { namespace: string; name: string } | undefined => {
  const i = key.indexOf("/");
  if (i <= 0 || i === key.length - 1 || key.indexOf("/", i + 1) >= 0) return undefined;
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

/** The gateway key a pod claims to be a replica of (owner annotation), if any. */
export const ownerKeyOf = (pod: Resource): string | undefined => {
  const owner = stringMap(pod.metadata?.annotations)[ANN_GATEWAY_OWNER];
  return owner !== undefined && parseGatewayKey(owner) ? owner : undefined;
};

export const toReplicaView = (pod: Resource): ReplicaView => {
  const annotations = stringMap(pod.metadata.annotations);
  const spec = isObject(pod.spec) ? pod.spec : {};
  const status = isObject(pod.status) ? pod.status : {};
  const view: ReplicaView = { name: pod.metadata.name, labels: stringMap(pod.metadata.labels), annotations };
  const node = str(spec.nodeName);
  const egressIP = str(annotations[ANN_GATEWAY_EGRESS_IP]);
  const phase = str(status.phase);
  const podIP = str(status.podIP);
  const terminating = annotations[ANN_GATEWAY_TERMINATING];
  if (node !== undefined) view.node = node;
  if (egressIP !== undefined) view.egressIP = egressIP;
  if (phase !== undefined) view.phase = phase;
  if (podIP !== undefined) view.podIP = podIP;
  const readyCondition = readyConditionOf(pod);
  if (readyCondition !== undefined) view.podReady = readyCondition.status === "True";
  const readySince = Date.parse(readyCondition?.lastTransitionTime ?? "");
  if (Number.isFinite(readySince)) view.readySinceMs = readySince;
  const hash = str(annotations[ANN_GATEWAY_TEMPLATE_HASH]);
  if (hash !== undefined) view.templateHash = hash;
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace === "number" && Number.isInteger(grace) && grace >= 0) view.graceSeconds = grace;
  if (terminating !== undefined) view.terminating = terminating;
  if (pod.metadata.resourceVersion !== undefined) view.resourceVersion = pod.metadata.resourceVersion;
  return view;
};

export const toNodeView = (node: Resource): NodeView => {
  const view: NodeView = { name: node.metadata.name, labels: stringMap(node.metadata.labels) };
  if (isObject(node.spec) && node.spec.unschedulable === true) view.unschedulable = true;
  const reachable = conditionOf(node, CONDITION_NODE_REACHABLE);
  if (reachable?.status === "False") view.lost = reachable.message ?? reachable.reason ?? "lost";
  return view;
};

/** An IPAllocation object as a view; undefined when it is malformed (it is then left alone). */
export const toAllocationView = (r: Resource): AllocationView | undefined => {
  const spec = isObject(r.spec) ? r.spec : undefined;
  const owner = isObject(spec?.owner) ? spec.owner : undefined;
  const ip = str(spec?.ip);
  const pool = str(spec?.pool);
  const namespace = str(owner?.namespace);
  const gateway = str(owner?.gateway);
  const replica = str(owner?.replica);
  if (!ip || !pool || !namespace || !gateway || !replica) return undefined;
  const view: AllocationView = {
    name: r.metadata.name,
    ip,
    pool,
    owner: { namespace, gateway, replica },
    resourceVersion: r.metadata.resourceVersion ?? "",
  };
  const created = Date.parse(r.metadata.creationTimestamp ?? "");
  if (Number.isFinite(created)) view.createdMs = created;
  return view;
};
