// What a lab looks like right now: its processes, namespaces, nodes and pods (gathering is I/O,
// formatting is pure).
import { conditionOf } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { CONDITION_AGENT_READY } from "../api/well-known.js";
import type { Datastore } from "../datastore/types.js";
import { isLabNetns } from "./names.js";
import { listNetns } from "./netns.js";
import { podView, type PodView } from "./pod-actions.js";
import { runsAsOurs } from "./processes.js";
import { componentsOf, type Component, type LabManifest } from "./state.js";
import { planTopology, type LabNode } from "./topology.js";
import { formatTable } from "../util/table.js";

export interface ProcessHealth {
  component: Component;
  pid?: number;
  alive: boolean;
}

export interface LabHealth {
  processes: ProcessHealth[];
  missingNetns: string[];
  healthy: boolean;
}

/** Which recorded processes still run and which of the lab's fixed namespaces exist. */
export const labHealth = (m: LabManifest): LabHealth => {
  const processes = componentsOf(m).map((component): ProcessHealth => {
    const rec = m.processes[component];
    if (!rec) return { component, alive: false };
    return { component, pid: rec.pid, alive: runsAsOurs(rec.pid, m.stateDir) };
  });
  const topo = planTopology(m.name, m.nodes);
  const expected = topo.ok
    ? [...Object.values(topo.value.netns), ...topo.value.nodes.map((n) => n.netns)]
    : [];
  const present = new Set(listNetns().filter((n) => isLabNetns(m.name, n)));
  const missingNetns = expected.filter((n) => !present.has(n));
  return {
    processes,
    missingNetns,
    healthy: m.phase === "ready" && missingNetns.length === 0 && processes.every((p) => p.alive),
  };
};

/** What a node's agent last wrote in its Node's EgwAgentReady condition. */
export interface AgentView {
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  since?: string;
}

export interface ClusterView {
  nodes: LabNode[];
  pods: PodView[];
  /** By node name; a node without the condition (agent not reported yet) is absent. */
  agents: Record<string, AgentView>;
}

/** The EgwAgentReady condition of a stored Node (pure; tolerant of any shape). */
export const agentView = (node: Resource): AgentView | undefined => {
  const c = conditionOf(node, CONDITION_AGENT_READY);
  if (c === undefined) return undefined;
  // Stored by any writer: the condition's fields are normalised, not trusted.
  const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const status = c.status === "True" || c.status === "False" ? c.status : "Unknown";
  const reason = text(c.reason);
  const message = text(c.message);
  const since = text(c.lastTransitionTime);
  return {
    status,
    ...(reason !== undefined ? { reason } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(since !== undefined ? { since } : {}),
  };
};

/** Nodes whose agent reports a problem. */
export const agentsNotReady = (cluster: ClusterView): string[] =>
  cluster.nodes.filter((n) => cluster.agents[n.name]?.status === "False").map((n) => n.name);

/** Nodes (from the plan) and pods (from the datastore); an error string if etcd is unreachable. */
export const clusterView = async (m: LabManifest, store: Datastore): Promise<ClusterView | string> => {
  const topo = planTopology(m.name, m.nodes);
  if (!topo.ok) return topo.error;
  const pods = await store.list("Pod");
  if (!pods.ok) return pods.error.message;
  const nodes = await store.list("Node");
  if (!nodes.ok) return nodes.error.message;
  const agents: Record<string, AgentView> = {};
  for (const n of nodes.value.items) {
    const a = agentView(n);
    if (a !== undefined) agents[n.metadata.name] = a;
  }
  return { nodes: topo.value.nodes, pods: pods.value.items.map(podView), agents };
};

const table = (rows: string[][]): string => formatTable(rows).join("\n");

/** The `egw status` text. */
export const formatStatus = (m: LabManifest, health: LabHealth, cluster: ClusterView | string): string => {
  const out: string[] = [];
  const notReady = typeof cluster === "string" ? [] : agentsNotReady(cluster);
  out.push(
    `lab ${m.name}: ${health.healthy ? "running" : m.phase === "building" ? "incomplete (egw up did not finish)" : "degraded"}` +
      (notReady.length > 0 ? ` (agent not ready on ${notReady.join(", ")})` : ""),
  );
  out.push(`state dir: ${m.stateDir}`);
  if (m.etcdEndpoint) out.push(`etcd: ${m.etcdEndpoint} (proxy to the control namespace)`);
  if (health.missingNetns.length > 0) out.push(`missing namespaces: ${health.missingNetns.join(", ")}`);
  out.push("", "PROCESSES");
  out.push(
    table([
      ["COMPONENT", "PID", "STATE"],
      ...health.processes.map((p) => [
        p.component,
        p.pid === undefined ? "-" : String(p.pid),
        p.alive ? "running" : "not running",
      ]),
    ]),
  );
  out.push("", "NODES");
  if (typeof cluster === "string") {
    out.push(`(cannot read the datastore: ${cluster})`);
    return `${out.join("\n")}\n`;
  }
  const podsOn = (node: string): number =>
    cluster.pods.filter((p) => p.nodeName === node && p.phase === "Running").length;
  const agentText = (node: string): string => {
    const a = cluster.agents[node];
    if (a === undefined) return "unknown (not reported yet)";
    return a.status === "True" ? "Ready" : `NotReady (${a.reason ?? a.status})`;
  };
  out.push(
    table([
      ["NAME", "INTERNAL-IP", "POD-CIDR", "NETNS", "PODS", "AGENT"],
      ...cluster.nodes.map((n) => [
        n.name,
        n.underlayIp,
        n.podCidr,
        n.netns,
        String(podsOn(n.name)),
        agentText(n.name),
      ]),
    ]),
  );
  for (const name of agentsNotReady(cluster)) {
    const a = cluster.agents[name];
    out.push(
      `agent on ${name} not ready${a?.since ? ` since ${a.since}` : ""}: ${a?.message ?? "(no message)"}`,
    );
  }
  out.push("", "PODS");
  if (cluster.pods.length === 0) out.push("(none)");
  else {
    out.push(
      table([
        ["NAMESPACE", "NAME", "PHASE", "IP", "NODE", "INTERFACE", "MESSAGE"],
        ...cluster.pods.map((p) => [
          p.namespace,
          p.name,
          p.phase ?? "Pending",
          p.podIP ?? "-",
          p.nodeName ?? "-",
          p.hostInterface ?? "-",
          p.phase === "Running" ? "" : (p.message ?? ""),
        ]),
      ]),
    );
  }
  return `${out.join("\n")}\n`;
};
