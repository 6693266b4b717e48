// The gateway controller (I/O): watches EgressGateways and what they depend on, and for each
// gateway reads the current state, asks the planner what to do, does it and writes the status.
// Level-triggered: watch events only say which gateway to look at again; every pass reads fresh
// state from the datastore, so a restart or a missed event changes nothing but timing.
import type { Resource } from "../api/meta.js";
import { formatIssue } from "../api/issues.js";
import type { EgressGateway, EgressGatewayStatus } from "../api/schemas/egress.js";
import { validateResource } from "../api/validate.js";
import { ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_OWNER, ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import { CORE_API_VERSION } from "../api/kinds.js";
import type { Datastore, DatastoreError, WatchEvent, WatchHandle } from "../datastore/types.js";
import { allocateEgressIP, IP_ALLOCATION_KIND, releaseAll, releaseEgressIP } from "../ipam/allocator.js";
import type { IPPoolLike } from "../ipam/pools.js";
import { err, ok, type Result } from "../util/result.js";
import { createLogger, type Logger } from "../util/log.js";
import { retryUntilOk, Sleeper, systemClock } from "../daemon/clock.js";
import {
  planGarbage,
  planGateway,
  poolRefs,
  type GatewayPlan,
  type PlanAction,
  type Problem,
} from "./plan.js";
import { gatewayStatus, invalidSpecStatus, sameStatus } from "./status.js";
import {
  gatewayKey,
  ownerKeyOf,
  parseGatewayKey,
  toAllocationView,
  toNodeView,
  toReplicaView,
  type AllocationView,
} from "./views.js";
import { WorkQueue } from "./queue.js";

export interface ControllerOptions {
  store: Datastore;
  log?: Logger;
  /** Every gateway is reconciled and orphans collected this often; default 30 s. */
  resyncMs?: number;
  /** An allocation without its replica pod is released after this long; default 60 s. */
  unbackedGraceMs?: number;
  /** Gateways reconciled in parallel; default 4. */
  concurrency?: number;
  /** The clock (ms since the epoch); tests pass a fake one. */
  now?: () => number;
}

export const DEFAULT_RESYNC_MS = 30_000;
const DEFAULT_UNBACKED_GRACE_MS = 60_000;
/** Plan → act rounds per sync before the status is written regardless. */
const MAX_PASSES = 4;
/** Read-modify-write attempts (status, pod annotations) before giving up until the next pass. */
const MAX_CAS_ATTEMPTS = 5;
const GC_KEY = "\u0000garbage";
const WATCHED_KINDS = ["EgressGateway", "IPPool", "Pod", "Node", IP_ALLOCATION_KIND] as const;

/** What a sync reports back to the queue. */
export interface SyncOutcome {
  requeueAfterMs?: number;
}

interface GatewayState {
  pools: IPPoolLike[];
  nodes: ReturnType<typeof toNodeView>[];
  replicas: ReturnType<typeof toReplicaView>[];
  otherPodNames: Set<string>;
  allocations: AllocationView[];
}

/** The cluster-wide part of a gateway's state: no plan action changes it, so a sync reads it once. */
type ClusterState = Pick<GatewayState, "pools" | "nodes">;

export class GatewayController {
  private readonly store: Datastore;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly unbackedGraceMs: number;
  private readonly now: () => number;
  private readonly queue: WorkQueue;
  private readonly gateways = new Set<string>();
  private readonly failures = new Map<string, number>();
  private watches: WatchHandle[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private readonly sleeper = new Sleeper(systemClock());
  private stopped = false;

  constructor(opts: ControllerOptions) {
    this.store = opts.store;
    this.log = opts.log ?? createLogger("controller");
    this.resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
    this.unbackedGraceMs = opts.unbackedGraceMs ?? DEFAULT_UNBACKED_GRACE_MS;
    this.now = opts.now ?? Date.now;
    this.queue = new WorkQueue((key) => this.handle(key), opts.concurrency ?? 4);
  }

  /**
   * Lists the gateways and watches from that revision; retries (with backoff) until the datastore
   * answers. Resolves once watching (or when stopped first).
   */
  start(): Promise<void> {
    this.starting ??= retryUntilOk(() => this.beginWatching(), {
      sleeper: this.sleeper,
      firstMs: 500,
      maxMs: 10_000,
      stopped: () => this.stopped,
      onError: (error, retryInMs) => this.log.warn("cannot list gateways, retrying", { error, retryInMs }),
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.starting;
    await Promise.all(this.watches.map((w) => w.stop()));
    this.watches = [];
    await this.queue.stop();
    this.log.info("controller stopped");
  }

  /** Resolves when no reconcile is waiting or running (for tests and orderly shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Queues every known gateway and a garbage collection (what the periodic resync does). */
  async resync(): Promise<Result<void, string>> {
    const listed = await this.store.list("EgressGateway");
    if (!listed.ok) return err(`listing EgressGateways: ${listed.error.message}`);
    this.replaceGateways(listed.value.items);
    this.queue.add(GC_KEY);
    return ok(undefined);
  }

  private async beginWatching(): Promise<Result<void, string>> {
    const listed = await this.store.list("EgressGateway");
    if (!listed.ok) return err(listed.error.message);
    if (this.stopped) return ok(undefined);
    const afterRevision = listed.value.revision;
    for (const kind of WATCHED_KINDS) {
      this.watches.push(
        this.store.watch({ kind, afterRevision }, (ev) => {
          try {
            this.onEvent(kind, ev);
          } catch (e) {
            this.log.error("watch event handling failed", { kind, error: e });
          }
        }),
      );
    }
    this.replaceGateways(listed.value.items);
    this.queue.add(GC_KEY);
    this.resyncTimer = setInterval(() => {
      void this.resync().then((r) => {
        if (!r.ok) this.log.warn("periodic resync failed", { error: r.error });
      });
    }, this.resyncMs);
    this.resyncTimer.unref();
    this.log.info("controller started", {
      gateways: this.gateways.size,
      revision: afterRevision,
      resyncMs: this.resyncMs,
    });
    return ok(undefined);
  }

  /** The gateway set becomes `items`; gateways that vanished are queued too, to clean them up. */
  private replaceGateways(items: readonly Resource[]): void {
    const before = [...this.gateways];
    this.gateways.clear();
    for (const g of items) this.gateways.add(gatewayKey(g.metadata.namespace ?? "", g.metadata.name));
    for (const k of new Set([...before, ...this.gateways])) this.queue.add(k);
  }

  private enqueueAll(): void {
    for (const k of this.gateways) this.queue.add(k);
  }

  private onEvent(kind: (typeof WATCHED_KINDS)[number], ev: WatchEvent): void {
    if (ev.type === "RESYNC") {
      if (kind === "EgressGateway") this.replaceGateways(ev.items);
      else this.enqueueAll();
      this.queue.add(GC_KEY);
      return;
    }
    const obj = ev.object;
    switch (kind) {
      case "EgressGateway": {
        const key = gatewayKey(obj.metadata.namespace ?? "", obj.metadata.name);
        if (ev.type === "DELETED") this.gateways.delete(key);
        else this.gateways.add(key);
        this.queue.add(key);
        return;
      }
      case "Pod": {
        const owner = ownerKeyOf(obj);
        if (owner !== undefined && owner.startsWith(`${obj.metadata.namespace ?? ""}/`))
          this.queue.add(owner);
        return;
      }
      case IP_ALLOCATION_KIND: {
        const a = toAllocationView(obj);
        // A freed address may let any gateway of that pool grow again.
        if (ev.type === "DELETED") this.enqueueAll();
        else if (a) this.queue.add(gatewayKey(a.owner.namespace, a.owner.gateway));
        return;
      }
      default: // IPPool, Node: placement and capacity of every gateway may change
        this.enqueueAll();
    }
  }

  private async handle(key: string): Promise<void> {
    let result: Result<SyncOutcome, string>;
    try {
      result = key === GC_KEY ? await this.collectGarbage() : await this.sync(key);
    } catch (e) {
      result = err(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.stopped) return;
    if (!result.ok) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const retryInMs = Math.min(30_000, 250 * 2 ** Math.min(n, 7));
      this.log.warn("reconcile failed, retrying", {
        key: key === GC_KEY ? "gc" : key,
        error: result.error,
        retryInMs,
      });
      this.queue.addAfter(key, retryInMs);
      return;
    }
    this.failures.delete(key);
    if (result.value.requeueAfterMs !== undefined) this.queue.addAfter(key, result.value.requeueAfterMs);
  }

  /** One reconcile of the gateway `namespace/name`. */
  async sync(key: string): Promise<Result<SyncOutcome, string>> {
    const ref = parseGatewayKey(key);
    if (!ref) return ok({});
    let runtimeProblems: Problem[] = [];
    let cluster: ClusterState | undefined;
    for (let pass = 1; ; pass++) {
      const got = await this.store.get({ kind: "EgressGateway", namespace: ref.namespace, name: ref.name });
      if (!got.ok) {
        if (got.error.code === "NotFound") return this.cleanupGateway(ref.namespace, ref.name);
        return err(`reading EgressGateway ${key}: ${got.error.message}`);
      }
      const raw = got.value;
      const { status: _status, ...withoutStatus } = raw;
      const valid = validateResource(withoutStatus);
      if (!valid.ok) {
        const messages = valid.error.map(formatIssue);
        this.log.warn("invalid EgressGateway, replicas left as they are", { gateway: key, issues: messages });
        const written = await this.writeStatus(raw, (prev) =>
          invalidSpecStatus(messages, prev, this.isoNow()),
        );
        return written.ok ? ok({}) : written;
      }
      const gw = valid.value as EgressGateway;
      const state = await this.readState(ref.namespace, key, cluster);
      if (!state.ok) return state;
      cluster = state.value;
      const plan = planGateway({
        gateway: gw,
        ...state.value,
        nowMs: this.now(),
        unbackedGraceMs: this.unbackedGraceMs,
      });
      if (plan.actions.length === 0 || pass >= MAX_PASSES) {
        const written = await this.writeStatus(raw, (prev) =>
          gatewayStatus({ ...plan, problems: [...plan.problems, ...runtimeProblems] }, prev, this.isoNow()),
        );
        if (!written.ok) return written;
        // Still acting after MAX_PASSES (e.g. an action keeps failing): come back soon.
        const requeueAfterMs = plan.actions.length > 0 ? 1000 : plan.requeueAfterMs;
        return ok(requeueAfterMs === undefined ? {} : { requeueAfterMs });
      }
      runtimeProblems = await this.execute(gw, plan, state.value);
    }
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Pods first, allocations after: an allocation is made before its pod, so both are seen. IPPools
   * and Nodes are listed only when `cluster` (read by an earlier pass of the same sync) is absent.
   */
  private async readState(
    namespace: string,
    key: string,
    cluster: ClusterState | undefined,
  ): Promise<Result<GatewayState, string>> {
    const pods = await this.store.list("Pod", { namespace });
    if (!pods.ok) return err(`listing pods of ${namespace}: ${pods.error.message}`);
    const allocations = await this.store.list(IP_ALLOCATION_KIND);
    if (!allocations.ok) return err(`listing IP allocations: ${allocations.error.message}`);
    let shared = cluster;
    if (shared === undefined) {
      const read = await this.readCluster();
      if (!read.ok) return read;
      shared = read.value;
    }
    const replicas: GatewayState["replicas"] = [];
    const otherPodNames = new Set<string>();
    for (const p of pods.value.items) {
      if (ownerKeyOf(p) === key) replicas.push(toReplicaView(p));
      else otherPodNames.add(p.metadata.name);
    }
    return ok({
      pools: shared.pools,
      nodes: shared.nodes,
      replicas,
      otherPodNames,
      allocations: allocations.value.items.map(toAllocationView).filter((a) => a !== undefined),
    });
  }

  private async readCluster(): Promise<Result<ClusterState, string>> {
    const pools = await this.store.list("IPPool");
    if (!pools.ok) return err(`listing IPPools: ${pools.error.message}`);
    const nodes = await this.store.list("Node");
    if (!nodes.ok) return err(`listing nodes: ${nodes.error.message}`);
    return ok({ pools: pools.value.items as IPPoolLike[], nodes: nodes.value.items.map(toNodeView) });
  }

  /** Runs the plan's actions in order; failures become status problems, never exceptions. */
  private async execute(gw: EgressGateway, plan: GatewayPlan, state: GatewayState): Promise<Problem[]> {
    const problems: Problem[] = [];
    const namespace = gw.metadata.namespace ?? "";
    const gateway = gatewayKey(namespace, gw.metadata.name);
    const fail = (action: PlanAction, message: string): void => {
      this.log.warn(`${action.type} failed`, {
        gateway,
        replica: "replica" in action ? action.replica : undefined,
        error: message,
      });
      problems.push({ reason: "ActionFailed", message });
    };
    for (const action of plan.actions) {
      if (this.stopped) break;
      switch (action.type) {
        case "create": {
          const r = await this.createReplica(gw, action, state.pools);
          if (!r.ok) {
            if (r.error.reason) problems.push({ reason: r.error.reason, message: r.error.message });
            else fail(action, r.error.message);
          }
          break;
        }
        case "drain": {
          const r = await this.updateReplica(namespace, gateway, action.replica, (pod) => {
            pod.metadata.annotations = {
              ...pod.metadata.annotations,
              [ANN_GATEWAY_TERMINATING]: action.deadline,
            };
          });
          if (r.ok)
            this.log.info("draining replica", {
              gateway,
              replica: action.replica,
              until: action.deadline,
              reason: action.reason,
            });
          else fail(action, r.error);
          break;
        }
        case "update-metadata": {
          const r = await this.updateReplica(namespace, gateway, action.replica, (pod) => {
            pod.metadata.labels = { ...action.labels };
            pod.metadata.annotations = { ...pod.metadata.annotations, ...action.annotations };
          });
          if (r.ok)
            this.log.info("updated replica metadata", {
              gateway,
              replica: action.replica,
              reason: action.reason,
            });
          else fail(action, r.error);
          break;
        }
        case "delete": {
          const gone = await this.store.delete({ kind: "Pod", namespace, name: action.replica });
          if (!gone.ok && gone.error.code !== "NotFound") {
            fail(action, `deleting pod ${namespace}/${action.replica}: ${gone.error.message}`);
            break;
          }
          const ips = action.release.map((a) => a.ip);
          this.log.info("deleted replica", {
            gateway,
            replica: action.replica,
            released: ips,
            reason: action.reason,
          });
          for (const a of action.release) {
            const r = await this.releaseAllocation(a);
            if (!r.ok) fail(action, r.error);
          }
          break;
        }
        case "release": {
          const r = await this.releaseAllocation(action.allocation);
          if (r.ok)
            this.log.info("released IP", { gateway, ip: action.allocation.ip, reason: action.reason });
          else fail(action, r.error);
          break;
        }
      }
    }
    return problems;
  }

  /** Allocate first, then create the pod carrying the IP; a pod is never created without one. */
  private async createReplica(
    gw: EgressGateway,
    action: Extract<PlanAction, { type: "create" }>,
    pools: IPPoolLike[],
  ): Promise<Result<void, { reason?: Problem["reason"]; message: string }>> {
    const namespace = gw.metadata.namespace ?? "";
    const owner = { namespace, gateway: gw.metadata.name, replica: action.replica };
    const key = gatewayKey(namespace, gw.metadata.name);
    const got = await allocateEgressIP(this.store, { pools, ipPools: poolRefs(gw), owner });
    if (!got.ok) {
      const reason =
        got.error.code === "Exhausted"
          ? "PoolExhausted"
          : got.error.code === "Datastore"
            ? undefined
            : "PoolInvalid";
      this.log.warn("cannot allocate an egress IP", {
        gateway: key,
        replica: action.replica,
        error: got.error.message,
      });
      return err({ ...(reason ? { reason } : {}), message: got.error.message });
    }
    const pod: Resource = {
      apiVersion: CORE_API_VERSION,
      kind: "Pod",
      metadata: {
        name: action.replica,
        namespace,
        labels: { ...action.labels },
        annotations: {
          ...action.annotations,
          [ANN_GATEWAY_OWNER]: key,
          [ANN_GATEWAY_EGRESS_IP]: got.value.ip,
        },
      },
      spec: { nodeName: action.node },
    };
    const created = await this.store.create(pod);
    if (!created.ok) {
      // AlreadyExists: another controller made this replica with the same allocation: keep it.
      if (created.error.code !== "AlreadyExists") {
        const released = await releaseEgressIP(this.store, owner);
        if (!released.ok)
          this.log.warn("cannot release IP after a failed create", {
            gateway: key,
            error: released.error.message,
          });
      }
      return err({ message: `creating pod ${namespace}/${action.replica}: ${created.error.message}` });
    }
    this.log.info("created replica", {
      gateway: key,
      replica: action.replica,
      node: action.node,
      egressIP: got.value.ip,
      pool: got.value.pool,
      reason: action.reason,
    });
    return ok(undefined);
  }

  /** get → change → update with CAS, again on Conflict; only pods this gateway still owns. */
  private async updateReplica(
    namespace: string,
    gateway: string,
    name: string,
    change: (pod: Resource) => void,
  ): Promise<Result<void, string>> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const got = await this.store.get({ kind: "Pod", namespace, name });
      if (!got.ok)
        return got.error.code === "NotFound" ? ok(undefined) : err(describe("reading", name, got.error));
      if (ownerKeyOf(got.value) !== gateway) return ok(undefined);
      const pod = structuredClone(got.value);
      change(pod);
      const put = await this.store.update(pod);
      if (put.ok || put.error.code === "NotFound") return ok(undefined);
      if (put.error.code !== "Conflict") return err(describe("updating", name, put.error));
    }
    return err(`updating pod ${namespace}/${name}: modified concurrently ${MAX_CAS_ATTEMPTS} times`);
  }

  private async releaseAllocation(a: AllocationView): Promise<Result<void, string>> {
    const gone = await this.store.delete(
      { kind: IP_ALLOCATION_KIND, name: a.name },
      { resourceVersion: a.resourceVersion },
    );
    // Conflict/NotFound: someone changed or released it meanwhile; the next pass looks again.
    if (gone.ok || gone.error.code === "NotFound" || gone.error.code === "Conflict") return ok(undefined);
    return err(`releasing ${a.ip}: ${gone.error.message}`);
  }

  /** Writes the status computed from the current one, with CAS; retried on Conflict. */
  private async writeStatus(
    first: Resource,
    compute: (prev: EgressGatewayStatus | undefined) => EgressGatewayStatus,
  ): Promise<Result<void, string>> {
    let current = first;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const prev = current.status as EgressGatewayStatus | undefined;
      const next = compute(prev);
      if (sameStatus(prev, next)) return ok(undefined);
      const put = await this.store.update({ ...current, status: next });
      if (put.ok) return ok(undefined);
      if (put.error.code === "NotFound") return ok(undefined);
      if (put.error.code !== "Conflict") return err(`writing status: ${put.error.message}`);
      const again = await this.store.get({
        kind: "EgressGateway",
        namespace: current.metadata.namespace ?? "",
        name: current.metadata.name,
      });
      if (!again.ok)
        return again.error.code === "NotFound"
          ? ok(undefined)
          : err(`writing status: ${again.error.message}`);
      current = again.value;
    }
    return err(`writing status: modified concurrently ${MAX_CAS_ATTEMPTS} times`);
  }

  /** The gateway is gone: its replica pods go at once and every IP it held is released. */
  private async cleanupGateway(namespace: string, name: string): Promise<Result<SyncOutcome, string>> {
    const key = gatewayKey(namespace, name);
    const pods = await this.store.list("Pod", { namespace });
    if (!pods.ok) return err(`listing pods of ${namespace}: ${pods.error.message}`);
    for (const p of pods.value.items.filter((x) => ownerKeyOf(x) === key)) {
      const gone = await this.store.delete({ kind: "Pod", namespace, name: p.metadata.name });
      if (!gone.ok && gone.error.code !== "NotFound")
        return err(describe("deleting", p.metadata.name, gone.error));
      this.log.info("deleted replica of deleted gateway", { gateway: key, replica: p.metadata.name });
    }
    const released = await releaseAll(this.store, { namespace, gateway: name });
    if (!released.ok) return err(released.error.message);
    if (released.value.length > 0)
      this.log.info("released IPs of deleted gateway", { gateway: key, ips: released.value });
    return ok({});
  }

  /** Replica pods and allocations whose gateway no longer exists (read before the gateways). */
  async collectGarbage(): Promise<Result<SyncOutcome, string>> {
    const pods = await this.store.list("Pod");
    if (!pods.ok) return err(`listing pods: ${pods.error.message}`);
    const allocations = await this.store.list(IP_ALLOCATION_KIND);
    if (!allocations.ok) return err(`listing IP allocations: ${allocations.error.message}`);
    const gateways = await this.store.list("EgressGateway");
    if (!gateways.ok) return err(`listing EgressGateways: ${gateways.error.message}`);
    const garbage = planGarbage({
      gateways: new Set(
        gateways.value.items.map((g) => gatewayKey(g.metadata.namespace ?? "", g.metadata.name)),
      ),
      replicaPods: pods.value.items.flatMap((p) => {
        const owner = ownerKeyOf(p);
        return owner === undefined
          ? []
          : [{ namespace: p.metadata.namespace ?? "", name: p.metadata.name, owner }];
      }),
      allocations: allocations.value.items.map(toAllocationView).filter((a) => a !== undefined),
    });
    for (const p of garbage.pods) {
      const gone = await this.store.delete({ kind: "Pod", namespace: p.namespace, name: p.name });
      if (!gone.ok && gone.error.code !== "NotFound") return err(describe("deleting", p.name, gone.error));
      this.log.info("deleted orphan replica", { gateway: p.owner, replica: `${p.namespace}/${p.name}` });
    }
    for (const a of garbage.allocations) {
      const r = await this.releaseAllocation(a);
      if (!r.ok) return r;
      this.log.info("released orphan IP", {
        gateway: gatewayKey(a.owner.namespace, a.owner.gateway),
        ip: a.ip,
      });
    }
    return ok({});
  }
}

const describe = (verb: string, pod: string, e: DatastoreError): string => `${verb} pod ${pod}: ${e.message}`;
