// The lab's kubelet + CNI: watches Pods and Namespaces, and makes the kernel match them (pod
// netns, veth, IP, routes) and the Pods' status match the kernel. Level-triggered: every change
// and a periodic resync run one reconcile over the whole lab, so a restart adopts what exists.
import type { Resource } from "../api/meta.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore, WatchHandle } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { runCommand } from "./exec.js";
import {
  EGRESS_ROUTE_PROTO,
  planGateways,
  type GatewayPodView,
  type ObservedEgressRoute,
} from "./gateway-plan.js";
import { POD_INTERFACE } from "./names.js";
import { addNetns, deleteNetns, ipBatch, listNetns, netnsPids } from "./netns.js";
import { planPods, podSetupLines, podView, type PodAction, type PodRef } from "./pod-plan.js";
import { startDetached, stopProcesses } from "../util/background-process.js";
import { runsAsOurs } from "./processes.js";
import { labPaths, readManifest, updateManifest } from "./state.js";
import type { LabNode, LabTopology } from "./topology.js";
import { planAgentRestarts } from "./agent-plan.js";

/** How the runtime runs `egw gateway` for gateway replica pods (omitted: pods only). */
export interface GatewaySupervision {
  stateDir: string;
  /** Manifest component (and log name) of a replica's gateway process. */
  component: (namespace: string, pod: string) => string;
  /** True for components this supervision owns (to find them in the manifest). */
  owns: (component: string) => boolean;
  argv: (pod: GatewayPodView) => string[];
}

/** How the runtime restarts the node agents `egw up` started (omitted: it does not). */
export interface AgentSupervision {
  stateDir: string;
  /** Manifest component (and log name) of a node's agent. */
  component: (node: string) => string;
  argv: (node: LabNode) => string[];
}

export interface RuntimeOptions {
  store: Datastore;
  topology: LabTopology;
  log: (line: string) => void;
  resyncMs?: number;
  gateways?: GatewaySupervision;
  agents?: AgentSupervision;
}

const describePod = (p: PodRef): string => `${p.namespace}/${p.name}`;

/** Removes a pod namespace: processes in it first (they would keep it and its veth alive). */
export const removePodNetns = async (netns: string): Promise<Result<void, string>> => {
  const pids = await netnsPids(netns);
  if (pids.length > 0) await stopProcesses(pids, 1000);
  await ipBatch(netns, [`link del ${POD_INTERFACE}`]);
  return deleteNetns([netns]);
};

/**
 * Starts a supervised component (agent or gateway) detached, its log and cwd in the lab's state
 * dir, records it in the manifest and logs `started(pid)`. What goes wrong is added to `problems`.
 */
const startSupervised = (o: {
  stateDir: string;
  component: string;
  argv: readonly string[];
  netns: string;
  problems: string[];
  log: (line: string) => void;
  started: (pid: number) => string;
}): void => {
  const pid = startDetached(o.argv, { logFile: labPaths(o.stateDir).log(o.component), cwd: o.stateDir });
  if (!pid.ok) {
    o.problems.push(`${o.component}: ${pid.error}`);
    return;
  }
  const rec = { pid: pid.value, netns: o.netns, startedAt: new Date().toISOString() };
  const saved = updateManifest(o.stateDir, (m) => (m.processes[o.component] = rec));
  if (!saved.ok) o.problems.push(saved.error);
  o.log(o.started(pid.value));
};

/** The lab's egress-IP routes in `netns` (empty when it cannot be read). */
const egressRoutes = async (netns: string): Promise<ObservedEgressRoute[]> => {
  const r = await runCommand("ip", [
    "-n",
    netns,
    "-j",
    "-4",
    "route",
    "show",
    "proto",
    String(EGRESS_ROUTE_PROTO),
  ]);
  if (!r.ok) return [];
  try {
    const rows = JSON.parse(r.value || "[]") as { dst?: unknown; dev?: unknown; gateway?: unknown }[];
    return rows.flatMap((row) =>
      typeof row.dst === "string"
        ? [
            {
              dst: row.dst,
              ...(typeof row.dev === "string" ? { dev: row.dev } : {}),
              ...(typeof row.gateway === "string" ? { gateway: row.gateway } : {}),
            },
          ]
        : [],
    );
  } catch {
    return [];
  }
};

export class LabRuntime {
  private readonly watches: WatchHandle[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;

  constructor(private readonly opts: RuntimeOptions) {}

  /** Reconciles once, then follows changes until stop(). */
  async start(): Promise<Result<void, string>> {
    const first = await this.reconcile();
    if (!first.ok) return first;
    for (const kind of ["Pod", "Namespace"]) {
      this.watches.push(this.opts.store.watch({ kind }, () => this.trigger()));
    }
    this.timer = setInterval(() => this.trigger(), this.opts.resyncMs ?? 5000);
    return ok(undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.watches.map((w) => w.stop()));
    await this.running;
  }

  /** Coalesces bursts of events into one reconcile at a time. */
  private trigger(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        const r = await this.reconcile();
        if (!r.ok) this.opts.log(`reconcile failed (will retry): ${r.error}`);
      }
      this.running = undefined;
    })();
  }

  /** One pass: read the datastore and the kernel, plan, apply. */
  async reconcile(): Promise<Result<void, string>> {
    const { store, topology } = this.opts;
    // First, so neither a busy pass nor an unreachable datastore delays a dead agent's restart.
    const agents = this.opts.agents ? this.superviseAgents(this.opts.agents) : ok(undefined);
    const pods = await store.list("Pod");
    if (!pods.ok) return err(`cannot list pods: ${pods.error.message}`);
    const namespaces = await store.list("Namespace");
    if (!namespaces.ok) return err(`cannot list namespaces: ${namespaces.error.message}`);
    const actions = planPods({
      lab: topology.lab,
      nodes: topology.nodes,
      pods: pods.value.items.map(podView),
      namespaces: new Set(namespaces.value.items.map((n) => n.metadata.name)),
      existingNetns: listNetns(),
    });
    for (const a of actions) await this.apply(a);
    if (!this.opts.gateways) return agents;
    // Pods just wired have their status now: read again so their gateways start in this pass.
    const current = actions.length === 0 ? pods : await store.list("Pod");
    if (!current.ok) return err(`cannot list pods: ${current.error.message}`);
    const gateways = await this.reconcileGateways(current.value.items, this.opts.gateways);
    if (!agents.ok && !gateways.ok) return err(`${agents.error}; ${gateways.error}`);
    return agents.ok ? gateways : agents;
  }

  /** Starts the agents that died again, like the gateway processes. */
  private superviseAgents(sup: AgentSupervision): Result<void, string> {
    const { topology, log } = this.opts;
    const manifest = readManifest(sup.stateDir);
    if (!manifest) return err(`no lab manifest in ${sup.stateDir}`);
    const recorded = new Map(
      topology.nodes.flatMap((n) => {
        const c = sup.component(n.name);
        const rec = manifest.processes[c];
        return rec ? [[c, runsAsOurs(rec.pid, sup.stateDir)] as const] : [];
      }),
    );
    const problems: string[] = [];
    for (const a of planAgentRestarts(topology.nodes, recorded, sup.component)) {
      startSupervised({
        stateDir: sup.stateDir,
        component: a.component,
        argv: sup.argv(a.node),
        netns: a.node.netns,
        problems,
        log,
        started: (pid) =>
          `restarted the agent of ${a.node.name} (its process was gone; pid ${pid}, egw logs ${a.component})`,
      });
    }
    return problems.length === 0 ? ok(undefined) : err(problems.join("; "));
  }

  /** Egress-IP routes and `egw gateway` processes of the gateway replica pods. */
  private async reconcileGateways(
    pods: readonly Resource[],
    sup: GatewaySupervision,
  ): Promise<Result<void, string>> {
    const { topology, log } = this.opts;
    const manifest = readManifest(sup.stateDir);
    if (!manifest) return err(`no lab manifest in ${sup.stateDir}`);
    const processes = new Map(
      Object.entries(manifest.processes)
        .filter(([c]) => sup.owns(c))
        .map(([c, rec]) => [c, runsAsOurs(rec.pid, sup.stateDir)] as const),
    );
    const nodeRoutes = new Map<string, ObservedEgressRoute[]>();
    for (const n of topology.nodes) nodeRoutes.set(n.netns, await egressRoutes(n.netns));
    const plan = planGateways({
      lab: topology.lab,
      nodes: topology.nodes,
      pods,
      existingNetns: new Set(listNetns()),
      routerRoutes: await egressRoutes(topology.netns.rtr),
      nodeRoutes,
      processes,
      component: sup.component,
    });
    for (const p of plan.problems) log(p);
    const problems: string[] = [];
    for (const [netns, lines] of plan.nodes) {
      const r = await ipBatch(netns, lines);
      if (!r.ok) problems.push(r.error);
      else log(`egress routes on ${netns}: ${lines.join("; ")}`);
    }
    if (plan.router.length > 0) {
      const r = await ipBatch(topology.netns.rtr, plan.router);
      if (!r.ok) problems.push(r.error);
      else log(`egress routes on the router: ${plan.router.join("; ")}`);
    }
    for (const a of plan.processes) {
      if (a.kind === "start") {
        startSupervised({
          stateDir: sup.stateDir,
          component: a.component,
          argv: sup.argv(a.pod),
          netns: a.pod.netns,
          problems,
          log,
          started: (pid) =>
            `${a.restart ? "restarted" : "started"} gateway ${a.pod.namespace}/${a.pod.name} ` +
            `(egress IP ${a.pod.egressIP} on ${a.pod.node.name}, pid ${pid}, egw logs ${a.component})`,
        });
      } else {
        const rec = manifest.processes[a.component];
        if (rec && runsAsOurs(rec.pid, sup.stateDir)) await stopProcesses([rec.pid], 2000);
        const saved = updateManifest(sup.stateDir, (m) => delete m.processes[a.component]);
        if (!saved.ok) problems.push(saved.error);
        log(`stopped ${a.component} (its pod is gone or no longer a gateway replica)`);
      }
    }
    return problems.length === 0 ? ok(undefined) : err(problems.join("; "));
  }

  private async apply(a: PodAction): Promise<void> {
    const { log } = this.opts;
    switch (a.kind) {
      case "remove": {
        const r = await removePodNetns(a.netns);
        log(r.ok ? `removed pod namespace ${a.netns}` : `cannot remove ${a.netns}: ${r.error}`);
        return;
      }
      case "fail":
        log(`${a.reason}: ${a.message}`);
        await this.writeStatus(a.pod, () => ({
          status: { phase: "Failed", reason: a.reason, message: a.message },
        }));
        return;
      case "pending":
        log(`${a.reason}: ${a.message}`);
        await this.writeStatus(a.pod, () => ({
          status: { phase: "Pending", reason: a.reason, message: a.message },
        }));
        return;
      case "create":
        await this.create(a);
        return;
    }
  }

  private async create(a: Extract<PodAction, { kind: "create" }>): Promise<void> {
    const { log } = this.opts;
    const name = describePod(a.pod);
    if (a.replaceExisting) await removePodNetns(a.netns);
    const wired = await this.wire(a);
    if (!wired.ok) {
      await removePodNetns(a.netns);
      const message = `Pod ${name}: cannot set up its network on ${a.node.name}: ${wired.error}`;
      log(message);
      await this.writeStatus(a.pod, () => ({
        status: { phase: "Failed", reason: "NetworkSetupFailed", message },
      }));
      return;
    }
    const written = await this.writeStatus(a.pod, (current) => ({
      ...(a.scheduled ? { spec: { ...((current.spec ?? {}) as object), nodeName: a.node.name } } : {}),
      status: { phase: "Running", podIP: a.ip, hostIP: a.node.underlayIp, hostInterface: a.hostInterface },
    }));
    if (!written) {
      // The pod vanished while we wired it: leave nothing behind.
      await removePodNetns(a.netns);
      return;
    }
    log(
      `pod ${name} running on ${a.node.name}: ${a.ip} (${a.hostInterface} in ${a.node.netns}, netns ${a.netns})`,
    );
  }

  private async wire(a: Extract<PodAction, { kind: "create" }>): Promise<Result<void, string>> {
    const lines = podSetupLines(a);
    const created = await addNetns([a.netns]);
    if (!created.ok) return created;
    const node = await ipBatch(a.node.netns, lines.node);
    if (!node.ok) return node;
    return ipBatch(a.netns, lines.pod);
  }

  /**
   * Read-modify-write of one pod with compare-and-swap, retried on conflicts. Returns false if
   * the pod no longer exists or could not be written (the next pass tries again).
   */
  private async writeStatus(ref: PodRef, change: (current: Resource) => Partial<Resource>): Promise<boolean> {
    const { store, log } = this.opts;
    const r = await readModifyWrite(
      store,
      { kind: "Pod", namespace: ref.namespace, name: ref.name },
      (current) => ({
        ...current,
        ...change(current),
      }),
    );
    if (r.ok) return r.value.kind !== "absent";
    if (r.error.code === "Conflict")
      log(`pod ${describePod(ref)} kept changing; will retry on the next pass`);
    else log(`cannot update pod ${describePod(ref)}: ${r.error.message}`);
    return false;
  }
}
