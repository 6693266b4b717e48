// The gateway controller's loop (I/O): watches EgressGateways and what they depend on, queues the
// gateways an event touches (gateway-index.ts), reconciles each (reconcile.ts) with retries and
// backoff, and every resyncMs queues them all again plus a sweep for orphans (cleanup.ts). The node
// monitor (node-monitor.ts) marks Nodes whose agent stopped renewing its lease lost; the Node watch
// then queues every gateway and their replicas there are replaced.
// Level-triggered: watch events only say which gateway to look at again; every pass reads fresh
// state from the datastore, so a restart or a missed event changes nothing but timing.
import type { Datastore, WatchHandle } from "../datastore/types.js";
import { periodic, retryUntilOk, Sleeper, systemClock, type Clock, type Periodic } from "../daemon/clock.js";
import { DEFAULT_NODE_LOST_SECONDS } from "../daemon/node-loss-timing.js";
import { createLogger, type Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import { collectOrphans } from "./cleanup.js";
import { ActionExecutor } from "./execute.js";
import { GARBAGE_KEY, GatewayIndex, WATCHED_KINDS } from "./gateway-index.js";
import { NodeMonitor } from "./node-monitor.js";
import { WorkQueue } from "./queue.js";
import { syncGateway, type ReconcileContext, type SyncOutcome } from "./reconcile.js";

export interface ControllerOptions {
  store: Datastore;
  log?: Logger;
  /** Every gateway is reconciled and orphans collected this often; default 30 s. */
  resyncMs?: number;
  /** An allocation without its replica pod is released after this long; default 60 s. */
  unbackedGraceMs?: number;
  /** Gateways reconciled in parallel; default 4. */
  concurrency?: number;
  /** Timers (resync, retries, requeues); default the system clock. */
  clock?: Clock;
  /** The time (ms since the epoch) decisions and status use; default the clock's. Tests pass a fake one. */
  now?: () => number;
  /**
   * A node whose agent lease was not renewed this long (this controller's clock) is lost and its
   * replicas are replaced (node-monitor.ts); default 10 000 ms. 0 turns node-loss handling off.
   */
  nodeLostMs?: number;
}

export const DEFAULT_RESYNC_MS = 30_000;
const DEFAULT_UNBACKED_GRACE_MS = 60_000;

/** Retry delay after the nth consecutive failure of a key. */
const backoffMs = (n: number): number => Math.min(30_000, 250 * 2 ** Math.min(n, 7));

export class GatewayController {
  private readonly store: Datastore;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly clock: Clock;
  private readonly ctx: ReconcileContext;
  private readonly queue: WorkQueue;
  private readonly index = new GatewayIndex();
  private readonly failures = new Map<string, number>();
  private watches: WatchHandle[] = [];
  private resyncTimer: Periodic | undefined;
  private starting: Promise<void> | undefined;
  private readonly sleeper: Sleeper;
  private readonly nodes: NodeMonitor | undefined;
  private stopped = false;

  constructor(opts: ControllerOptions) {
    this.store = opts.store;
    this.log = opts.log ?? createLogger("controller");
    this.resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
    this.clock = opts.clock ?? systemClock();
    this.sleeper = new Sleeper(this.clock);
    const clock = this.clock;
    const now = opts.now ?? (() => clock.now());
    this.ctx = {
      store: this.store,
      log: this.log,
      executor: new ActionExecutor(this.store, this.log, () => this.stopped, now),
      now,
      unbackedGraceMs: opts.unbackedGraceMs ?? DEFAULT_UNBACKED_GRACE_MS,
    };
    this.queue = new WorkQueue(this.clock, (key) => this.handle(key), opts.concurrency ?? 4);
    const nodeLostMs = opts.nodeLostMs ?? DEFAULT_NODE_LOST_SECONDS * 1000;
    if (nodeLostMs > 0)
      this.nodes = new NodeMonitor({
        store: this.store,
        log: this.log,
        clock,
        now: this.ctx.now,
        nodeLostMs,
      });
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
    this.resyncTimer?.stop();
    await this.nodes?.stop();
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
    this.enqueue([...this.index.replace(listed.value.items), GARBAGE_KEY]);
    return ok(undefined);
  }

  /** One reconcile of the gateway `namespace/name`. */
  sync(key: string): Promise<Result<SyncOutcome, string>> {
    return syncGateway(this.ctx, key);
  }

  /** Replica pods and allocations whose gateway no longer exists (they drain, then go). */
  collectGarbage(): Promise<Result<SyncOutcome, string>> {
    return collectOrphans(this.ctx);
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
            this.enqueue(this.index.onEvent(kind, ev));
          } catch (e) {
            this.log.error("watch event handling failed", { kind, error: e });
          }
        }),
      );
    }
    this.enqueue([...this.index.replace(listed.value.items), GARBAGE_KEY]);
    this.nodes?.start();
    this.resyncTimer?.stop();
    this.resyncTimer = periodic(this.clock, this.resyncMs, () => {
      void this.resync().then((r) => {
        if (!r.ok) this.log.warn("periodic resync failed", { error: r.error });
      });
    });
    this.log.info("controller started", {
      gateways: this.index.size,
      revision: afterRevision,
      resyncMs: this.resyncMs,
    });
    return ok(undefined);
  }

  private enqueue(keys: readonly string[]): void {
    for (const k of keys) this.queue.add(k);
  }

  private async handle(key: string): Promise<void> {
    let result: Result<SyncOutcome, string>;
    try {
      result = key === GARBAGE_KEY ? await this.collectGarbage() : await this.sync(key);
    } catch (e) {
      result = err(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.stopped) return;
    if (!result.ok) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const retryInMs = backoffMs(n);
      this.log.warn("reconcile failed, retrying", {
        key: key === GARBAGE_KEY ? "gc" : key,
        error: result.error,
        retryInMs,
      });
      this.queue.addAfter(key, retryInMs);
      return;
    }
    this.failures.delete(key);
    if (result.value.requeueAfterMs !== undefined) this.queue.addAfter(key, result.value.requeueAfterMs);
  }
}
