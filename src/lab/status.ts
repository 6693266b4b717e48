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
import { componentsOf, routingOf, type Component, type LabManifest } from "./state.js";
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

/** What a node's agent last wrote in its Node's status.bgp (its BIRD's state). */
export interface BgpView {
  /** BIRD runs the last config the agent rendered. */
  configApplied?: boolean;
  /** Why BIRD refused the last config (the one before it stays). */
  error?: string;
  peers: { name: string; state: string }[];
}

export interface ClusterView {
  nodes: LabNode[];
  pods: PodView[];
  /** By node name; a node without the condition (agent not reported yet) is absent. */
  agents: Record<string, AgentView>;
  /** By node name; a node whose agent has not reported BGP is absent. */
  bgp?: Record<string, BgpView>;
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

/** status.bgp of a stored Node (pure; tolerant of any shape). */
export const bgpView = (node: Resource): BgpView | undefined => {
  const status = node.status as { bgp?: unknown } | undefined;
  const bgp = status?.bgp;
  if (typeof bgp !== "object" || bgp === null) return undefined;
  const b = bgp as { configApplied?: unknown; error?: unknown; peers?: unknown };
  const peers = Array.isArray(b.peers)
    ? b.peers.flatMap((p: unknown) => {
        const q = p as { name?: unknown; state?: unknown } | null;
        return typeof q?.name === "string"
          ? [{ name: q.name, state: typeof q.state === "string" ? q.state : "Unknown" }]
          : [];
      })
    : [];
  return {
    ...(typeof b.configApplied === "boolean" ? { configApplied: b.configApplied } : {}),
    ...(typeof b.error === "string" && b.error !== "" ? { error: b.error } : {}),
    peers,
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
  const bgp: Record<string, BgpView> = {};
  for (const n of nodes.value.items) {
    const a = agentView(n);
    if (a !== undefined) agents[n.metadata.name] = a;
    const b = bgpView(n);
    if (b !== undefined) bgp[n.metadata.name] = b;
  }
  return { nodes: topo.value.nodes, pods: pods.value.items.map(podView), agents, bgp };
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
  out.push(
    routingOf(m) === "bgp"
      ? `routing: bgp (the router's BIRD learns egress IPs from the nodes; egw lab router routes)`
      : "routing: static (the lab writes the router's egress-IP routes; egw up --no-bgp)",
  );
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
  const bgp = routingOf(m) === "bgp";
  const bgpText = (node: string): string => {
    const b = cluster.bgp?.[node];
    if (b === undefined) return "unknown (not reported yet)";
    const peers = b.peers.map((p) => `${p.name} ${p.state}`).join(", ") || "no peers";
    return b.error !== undefined ? `ConfigError; ${peers}` : peers;
  };
  out.push(
    table([
      // BGP before AGENT: the agent's state stays the last column, in both modes.
      ["NAME", "INTERNAL-IP", "POD-CIDR", "NETNS", "PODS", ...(bgp ? ["BGP"] : []), "AGENT"],
      ...cluster.nodes.map((n) => [
        n.name,
        n.underlayIp,
        n.podCidr,
        n.netns,
        String(podsOn(n.name)),
        ...(bgp ? [bgpText(n.name)] : []),
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
  for (const n of cluster.nodes) {
    const error = cluster.bgp?.[n.name]?.error;
    if (error !== undefined)
      out.push(`BGP on ${n.name}: BIRD refused the last config (the one before stays): ${error}`);
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
