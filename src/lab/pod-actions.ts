// The lab runtime's pod actions (pure): given the Pods and Namespaces in the datastore and the pod
// namespaces that exist in the kernel, which pods to wire up (node, IP, names), which to mark
// Failed or Pending, and which namespaces are orphans. Level-triggered: the same input always
// gives the same actions, and a converged lab gives none. pod-wiring.ts carries them out.
import type { Resource } from "../api/meta.js";
import { isPodNetns, podHostInterface, podNetns, POD_INTERFACE, validatePodIdentity } from "./names.js";
import { blockCapacity, ipv4InCidr, lowestFreeIp, POD_GATEWAY_IP, type LabNode } from "./topology.js";
import { compareBy } from "../util/compare.js";
import type { Frozen } from "./partition.js";

export interface PodRef {
  namespace: string;
  name: string;
}

/** The fields of a Pod the runtime reads. */
export interface PodView extends PodRef {
  nodeName?: string;
  phase?: string;
  podIP?: string;
  hostInterface?: string;
  reason?: string;
  message?: string;
}

export type PodAction =
  | {
      kind: "create";
      pod: PodRef;
      node: LabNode;
      ip: string;
      netns: string;
      hostInterface: string;
      /** The lab chose the node (spec.nodeName was empty): write it back. */
      scheduled: boolean;
      /** A stale namespace of this pod exists (half-built or from before a restart): remove first. */
      replaceExisting: boolean;
    }
  | { kind: "fail"; pod: PodRef; reason: string; message: string }
  | { kind: "pending"; pod: PodRef; reason: string; message: string }
  | { kind: "remove"; netns: string };

export interface PodActionsInput {
  lab: string;
  nodes: readonly LabNode[];
  pods: readonly PodView[];
  namespaces: ReadonlySet<string>;
  /** Network namespaces present in the kernel (any; only this lab's pods are looked at). */
  existingNetns: readonly string[];
  /** Cut nodes and their pods (partition.ts): left exactly as they are. */
  frozen?: Frozen;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Extracts the fields the runtime needs from a stored Pod. */
export const podView = (r: Resource): PodView => {
  const spec = (r.spec ?? {}) as Record<string, unknown>;
  const status = (r.status ?? {}) as Record<string, unknown>;
  const view: PodView = { namespace: r.metadata.namespace ?? "default", name: r.metadata.name };
  const set = <K extends keyof PodView>(k: K, v: PodView[K] | undefined): void => {
    if (v !== undefined) view[k] = v;
  };
  set("nodeName", str(spec.nodeName));
  set("phase", str(status.phase));
  set("podIP", str(status.podIP));
  set("hostInterface", str(status.hostInterface));
  set("reason", str(status.reason));
  set("message", str(status.message));
  return view;
};

const key = (p: PodRef): string => `${p.namespace}/${p.name}`;
const byKey = compareBy(key);

export const podActions = (input: PodActionsInput): PodAction[] => {
  const { lab, nodes } = input;
  const existing = new Set(input.existingNetns.filter((n) => isPodNetns(lab, n)));
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const used = new Map<string, Set<string>>(nodes.map((n) => [n.name, new Set<string>()]));
  const load = new Map<string, number>(nodes.map((n) => [n.name, 0]));
  const desired = new Set<string>();
  const actions: PodAction[] = [];
  const pods = [...input.pods].sort(byKey);
  const nodeNames = nodes.map((n) => n.name).join(", ");
  const frozen = input.frozen;

  const claim = (node: LabNode, ip: string, netns: string): void => {
    used.get(node.name)?.add(ip);
    load.set(node.name, (load.get(node.name) ?? 0) + 1);
    desired.add(netns);
  };

  // Pass 1: pods that are Running and wired up keep their IP (adoption after a restart).
  const pending: PodView[] = [];
  for (const pod of pods) {
    if (pod.phase === "Failed" || pod.phase === "Succeeded") continue;
    const netns = podNetns(lab, pod.namespace, pod.name);
    const node = pod.nodeName === undefined ? undefined : nodeByName.get(pod.nodeName);
    if (
      frozen &&
      (frozen.pods.has(key(pod)) || (pod.nodeName !== undefined && frozen.nodes.has(pod.nodeName)))
    ) {
      // A cut node's kubelet cannot see this pod's changes; a pod of the same name elsewhere waits
      // until the namespace it would take is released.
      if (existing.has(netns)) desired.add(netns);
      continue;
    }
    const wired =
      pod.phase === "Running" &&
      node !== undefined &&
      pod.podIP !== undefined &&
      ipv4InCidr(pod.podIP, node.podCidr) &&
      !used.get(node.name)?.has(pod.podIP) &&
      pod.hostInterface === podHostInterface(lab, pod.namespace, pod.name) &&
      existing.has(netns) &&
      input.namespaces.has(pod.namespace);
    if (wired && node && pod.podIP) claim(node, pod.podIP, netns);
    else pending.push(pod);
  }

  // Pass 2: everything else gets a node and the lowest free IP of that node's block.
  for (const pod of pending) {
    const ref = { namespace: pod.namespace, name: pod.name };
    const identity = validatePodIdentity(pod.namespace, pod.name);
    if (!identity.ok) {
      actions.push({
        kind: "fail",
        pod: ref,
        reason: "InvalidName",
        message: `Pod ${key(ref)}: ${identity.error}`,
      });
      continue;
    }
    if (!input.namespaces.has(pod.namespace)) {
      const message = `Pod ${key(ref)}: namespace "${pod.namespace}" does not exist; create it (kind: Namespace) and the pod starts`;
      if (pod.phase !== "Pending" || pod.message !== message) {
        actions.push({ kind: "pending", pod: ref, reason: "NamespaceNotFound", message });
      }
      continue;
    }
    const netns = podNetns(lab, pod.namespace, pod.name);
    let node: LabNode | undefined;
    if (pod.nodeName !== undefined) {
      node = nodeByName.get(pod.nodeName);
      if (!node) {
        actions.push({
          kind: "fail",
          pod: ref,
          reason: "UnknownNode",
          message: `Pod ${key(ref)}: spec.nodeName "${pod.nodeName}" is not a node of lab "${lab}" (nodes: ${nodeNames})`,
        });
        continue;
      }
    } else {
      node = leastLoaded(frozen ? nodes.filter((n) => !frozen.nodes.has(n.name)) : nodes, load, used);
    }
    const taken = node ? (used.get(node.name) ?? new Set<string>()) : new Set<string>();
    const keepIp =
      node && pod.podIP && ipv4InCidr(pod.podIP, node.podCidr) && !taken.has(pod.podIP)
        ? pod.podIP
        : undefined;
    const ip = node ? (keepIp ?? lowestFreeIp(node.podCidr, taken)) : undefined;
    if (!node || !ip) {
      const where = pod.nodeName
        ? `node ${pod.nodeName}'s block ${node?.podCidr ?? ""}`
        : "every node's block";
      actions.push({
        kind: "fail",
        pod: ref,
        reason: "IPPoolExhausted",
        message: `Pod ${key(ref)}: no free pod IP in ${where.trim()} (pool 10.244.0.0/16 has ${blockCapacity(nodes[0]?.podCidr ?? "")} addresses per node)`,
      });
      continue;
    }
    claim(node, ip, netns);
    actions.push({
      kind: "create",
      pod: ref,
      node,
      ip,
      netns,
      hostInterface: podHostInterface(lab, pod.namespace, pod.name),
      scheduled: pod.nodeName === undefined,
      replaceExisting: existing.has(netns),
    });
  }

  // Pod namespaces with no pod (deleted, failed) go away.
  for (const netns of [...existing].sort()) {
    if (!desired.has(netns) && !frozen?.netns.has(netns)) actions.push({ kind: "remove", netns });
  }
  return actions;
};

/** The node with the fewest pods that still has a free address; ties go to the lowest index. */
const leastLoaded = (
  nodes: readonly LabNode[],
  load: ReadonlyMap<string, number>,
  used: ReadonlyMap<string, ReadonlySet<string>>,
): LabNode | undefined => {
  let best: LabNode | undefined;
  for (const n of nodes) {
    if ((used.get(n.name)?.size ?? 0) >= blockCapacity(n.podCidr)) continue;
    if (!best || (load.get(n.name) ?? 0) < (load.get(best.name) ?? 0)) best = n;
  }
  return best;
};

/**
 * Every host-side pod veth has this MAC (as in Calico): the pod's gateway 169.254.1.1 resolves
 * to it through a permanent neighbour entry, so no ARP round trip (and no proxy ARP delay) is
 * needed. Each veth is its own L2 segment, so sharing the MAC is harmless.
 */
export const HOST_VETH_MAC = "ee:ee:ee:ee:ee:ee";

/** The `ip -batch` lines that wire a pod up: first in its node's namespace, then in its own. */
export const podSetupLines = (
  a: Extract<PodAction, { kind: "create" }>,
): { node: string[]; pod: string[] } => ({
  node: [
    `link add ${a.hostInterface} address ${HOST_VETH_MAC} type veth peer name ${POD_INTERFACE} netns ${a.netns}`,
    `link set ${a.hostInterface} up`,
    `route replace ${a.ip}/32 dev ${a.hostInterface} scope link`,
  ],
  pod: [
    `link set lo up`,
    `addr add ${a.ip}/32 dev ${POD_INTERFACE}`,
    `link set ${POD_INTERFACE} up`,
    `neigh replace ${POD_GATEWAY_IP} lladdr ${HOST_VETH_MAC} dev ${POD_INTERFACE} nud permanent`,
    `route add ${POD_GATEWAY_IP} dev ${POD_INTERFACE} scope link`,
    `route add default via ${POD_GATEWAY_IP} dev ${POD_INTERFACE}`,
  ],
});
