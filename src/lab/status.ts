// What a lab looks like right now: its processes, namespaces, nodes and pods (gathering is I/O,
// formatting is pure).
import type { Datastore } from "../datastore/types.js";
import { isLabNetns } from "./names.js";
import { listNetns } from "./netns.js";
import { podView, type PodView } from "./pod-plan.js";
import { isAlive, isOurs } from "./processes.js";
import { componentsOf, type Component, type LabManifest } from "./state.js";
import { planTopology, type LabNode } from "./topology.js";

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
    return { component, pid: rec.pid, alive: isAlive(rec.pid) && isOurs(rec.pid, m.stateDir) };
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

export interface ClusterView {
  nodes: LabNode[];
  pods: PodView[];
}

/** Nodes (from the plan) and pods (from the datastore); an error string if etcd is unreachable. */
export const clusterView = async (m: LabManifest, store: Datastore): Promise<ClusterView | string> => {
  const topo = planTopology(m.name, m.nodes);
  if (!topo.ok) return topo.error;
  const pods = await store.list("Pod");
  if (!pods.ok) return pods.error.message;
  return { nodes: topo.value.nodes, pods: pods.value.items.map(podView) };
};

const table = (rows: string[][]): string => {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
};

/** The `egw status` text. */
export const formatStatus = (m: LabManifest, health: LabHealth, cluster: ClusterView | string): string => {
  const out: string[] = [];
  out.push(
    `lab ${m.name}: ${health.healthy ? "running" : m.phase === "building" ? "incomplete (egw up did not finish)" : "degraded"}`,
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
  out.push(
    table([
      ["NAME", "INTERNAL-IP", "POD-CIDR", "NETNS", "PODS"],
      ...cluster.nodes.map((n) => [n.name, n.underlayIp, n.podCidr, n.netns, String(podsOn(n.name))]),
    ]),
  );
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
