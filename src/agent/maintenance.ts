// Maintenance annotations on this node's client pods (Calico's, in egw's prefix): while a gateway
// replica a pod's gateway set keeps for its established connections drains (the plan's retained
// hops with why "draining"), the pod carries that replica's egress IP and the drain window
// (started, finished = the drain deadline), so an application can reconnect early; with several
// draining, the one that finishes last. The annotations go once no replica of its set drains.
//
// The decision is pure (maintenanceWindows, withWindow); MaintenanceAnnouncer writes the pods that
// differ with compare-and-swap, coalesced, off the reconcile path. A datastore error is logged
// and retried later: it never stops the agent, and the kernel does not wait for it.
import type { Resource } from "../api/meta.js";
import {
  ANN_GATEWAY_DRAIN_STARTED,
  ANN_MAINTENANCE_FINISHED,
  ANN_MAINTENANCE_GATEWAY_IP,
  ANN_MAINTENANCE_STARTED,
} from "../api/well-known.js";
import { podKey, type PodInput } from "../calc/inputs.js";
import type { NodePlan, RetainedHop } from "../calc/plan.js";
import type { Clock, TimerHandle } from "../daemon/clock.js";
import { Coalescer } from "../daemon/coalescer.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";

/** What a client pod is told about one draining replica. */
export interface MaintenanceWindow {
  gatewayIP: string;
  /** RFC 3339. */
  started: string;
  finished: string;
}

/**
 * For every workload of the plan (`namespace/name`), the window to announce, or undefined (no
 * replica of its set drains). `startedOf` says when a replica's drain began.
 */
export const maintenanceWindows = (
  plan: Pick<NodePlan, "workloads" | "gatewaySets">,
  startedOf: (replica: string) => string,
): Map<string, MaintenanceWindow | undefined> => {
  const bySet = new Map<string, MaintenanceWindow>();
  for (const set of plan.gatewaySets) {
    let last: RetainedHop | undefined;
    for (const hop of set.retained ?? []) {
      if (hop.why !== "draining" || hop.drainDeadline === undefined) continue;
      if (last?.drainDeadline === undefined || Date.parse(hop.drainDeadline) > Date.parse(last.drainDeadline))
        last = hop;
    }
    if (last?.drainDeadline !== undefined)
      bySet.set(set.key, {
        gatewayIP: last.egressIP,
        started: startedOf(last.replica),
        finished: last.drainDeadline,
      });
  }
  const out = new Map<string, MaintenanceWindow | undefined>();
  for (const w of plan.workloads)
    out.set(podKey(w.namespace, w.name), w.gatewaySet === undefined ? undefined : bySet.get(w.gatewaySet));
  return out;
};

const ANNOTATIONS = [ANN_MAINTENANCE_GATEWAY_IP, ANN_MAINTENANCE_STARTED, ANN_MAINTENANCE_FINISHED] as const;

const wanted = (w: MaintenanceWindow | undefined): Record<string, string | undefined> => ({
  [ANN_MAINTENANCE_GATEWAY_IP]: w?.gatewayIP,
  [ANN_MAINTENANCE_STARTED]: w?.started,
  [ANN_MAINTENANCE_FINISHED]: w?.finished,
});

/** Whether the pod's annotations already say `w` (or, undefined, carry none of them). */
export const announces = (
  annotations: Readonly<Record<string, string>> | undefined,
  w: MaintenanceWindow | undefined,
): boolean => {
  const want = wanted(w);
  return ANNOTATIONS.every((k) => annotations?.[k] === want[k]);
};

/** The pod with the window's annotations set (or removed); undefined when it already says so. */
export const withWindow = (pod: Resource, w: MaintenanceWindow | undefined): Resource | undefined => {
  if (announces(pod.metadata.annotations, w)) return undefined;
  const annotations = { ...pod.metadata.annotations };
  for (const [k, v] of Object.entries(wanted(w))) {
    if (v === undefined) delete annotations[k];
    else annotations[k] = v;
  }
  return { ...pod, metadata: { ...pod.metadata, annotations } };
};

export interface MaintenanceAnnouncerOptions {
  store: Datastore;
  /** The local pod as the agent last saw it (its annotations decide whether to write). */
  pod(namespace: string, name: string): PodInput | undefined;
  clock: Clock;
  log: Logger;
  /** Plans within this window are written once; default 200 ms. */
  debounceMs?: number;
  /** First retry after a failed write (doubles up to 30 s); default 1000 ms. */
  retryMs?: number;
}

const MAX_RETRY_MS = 30_000;

export class MaintenanceAnnouncer {
  private readonly coalescer: Coalescer;
  private windows = new Map<string, MaintenanceWindow | undefined>();
  /** When this agent first saw a replica drain, for a drain without a recorded start. */
  private readonly firstSeen = new Map<string, string>();
  private retryTimer: TimerHandle | undefined;
  private retryMs: number;
  private lastError: string | undefined;

  constructor(private readonly o: MaintenanceAnnouncerOptions) {
    this.retryMs = o.retryMs ?? 1000;
    this.coalescer = new Coalescer(
      o.clock,
      o.debounceMs ?? 200,
      () => this.write(),
      (e) => o.log.error("writing maintenance annotations failed unexpectedly", { error: e }),
    );
  }

  /** The node's plan changed: announce (or clear) windows on its workloads. */
  follow(plan: Pick<NodePlan, "workloads" | "gatewaySets">): void {
    const draining = new Set<string>();
    this.windows = maintenanceWindows(plan, (replica) => {
      draining.add(replica);
      return this.startOf(replica);
    });
    for (const r of this.firstSeen.keys()) if (!draining.has(r)) this.firstSeen.delete(r);
    this.coalescer.trigger();
  }

  async stop(): Promise<void> {
    this.o.clock.clearTimeout(this.retryTimer);
    await this.coalescer.stop();
  }

  private startOf(replica: string): string {
    const slash = replica.indexOf("/");
    const pod = this.o.pod(replica.slice(0, slash), replica.slice(slash + 1));
    const recorded = pod?.metadata.annotations?.[ANN_GATEWAY_DRAIN_STARTED];
    if (recorded !== undefined && Number.isFinite(Date.parse(recorded))) return recorded;
    let seen = this.firstSeen.get(replica);
    if (seen === undefined) this.firstSeen.set(replica, (seen = new Date(this.o.clock.now()).toISOString()));
    return seen;
  }

  private async write(): Promise<void> {
    const failures: string[] = [];
    for (const [key, w] of this.windows) {
      const slash = key.indexOf("/");
      const [namespace, name] = [key.slice(0, slash), key.slice(slash + 1)];
      if (announces(this.o.pod(namespace, name)?.metadata.annotations, w)) continue;
      const r = await readModifyWrite(this.o.store, { kind: "Pod", namespace, name }, (pod) =>
        withWindow(pod, w),
      );
      if (!r.ok) failures.push(`${key}: ${r.error.message}`);
      else if (r.value.kind === "written")
        this.o.log.info(w ? "maintenance announced" : "maintenance cleared", {
          pod: key,
          ...(w ? { gatewayIP: w.gatewayIP, started: w.started, finished: w.finished } : {}),
        });
    }
    if (failures.length === 0) {
      this.retryMs = this.o.retryMs ?? 1000;
      this.lastError = undefined;
      return;
    }
    const error = failures.join("; ");
    if (error !== this.lastError)
      this.o.log.warn("cannot write maintenance annotations; retrying", { error, retryInMs: this.retryMs });
    this.lastError = error;
    this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.o.clock.setTimeout(() => this.coalescer.trigger(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
