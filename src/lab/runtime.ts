// The lab's kubelet + CNI: watches Pods and Namespaces, and makes the kernel match them (pod
// netns, veth, IP, routes) and the Pods' status match the kernel. Level-triggered: every change
// and a periodic resync run one reconcile over the whole lab, so a restart adopts what exists.
import type { Resource } from "../api/meta.js";
import type { Datastore, WatchHandle } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { POD_INTERFACE } from "./names.js";
import { addNetns, deleteNetns, ipBatch, listNetns, netnsPids } from "./netns.js";
import { planPods, podSetupLines, podView, type PodAction, type PodRef } from "./pod-plan.js";
import { stopProcesses } from "./processes.js";
import type { LabTopology } from "./topology.js";

export interface RuntimeOptions {
  store: Datastore;
  topology: LabTopology;
  log: (line: string) => void;
  resyncMs?: number;
}

const describePod = (p: PodRef): string => `${p.namespace}/${p.name}`;

/** Removes a pod namespace: processes in it first (they would keep it and its veth alive). */
export const removePodNetns = async (netns: string): Promise<Result<void, string>> => {
  const pids = await netnsPids(netns);
  if (pids.length > 0) await stopProcesses(pids, 1000);
  await ipBatch(netns, [`link del ${POD_INTERFACE}`]);
  return deleteNetns([netns]);
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
    return ok(undefined);
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
   * the pod no longer exists.
   */
  private async writeStatus(ref: PodRef, change: (current: Resource) => Partial<Resource>): Promise<boolean> {
    const { store, log } = this.opts;
    for (let attempt = 0; attempt < 5; attempt++) {
      const got = await store.get({ kind: "Pod", namespace: ref.namespace, name: ref.name });
      if (!got.ok) {
        if (got.error.code !== "NotFound") log(`cannot read pod ${describePod(ref)}: ${got.error.message}`);
        return false;
      }
      const next = { ...got.value, ...change(got.value) };
      const put = await store.update(next);
      if (put.ok) return true;
      if (put.error.code === "NotFound") return false;
      if (put.error.code !== "Conflict") {
        log(`cannot update pod ${describePod(ref)}: ${put.error.message}`);
        return false;
      }
    }
    log(`pod ${describePod(ref)} kept changing; will retry on the next pass`);
    return false;
  }
}
