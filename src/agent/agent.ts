// The per-node agent, put together from its parts: the cluster feed (datastore → ClusterIndex,
// cluster-feed.ts), the gateway replicas' health (data-path liveness sessions, liveness.ts, or
// readiness polling, gateway-health.ts; replicas held until proven),
// the plan → apply loop (calc → node dataplane, resync, retries; reconcile-loop.ts), the Node
// condition (node-status.ts), the maintenance annotations on client pods (maintenance.ts), the
// BGP speaker that has the node's BIRD announce its egress IPs (bgp.ts) and the metrics
// (agent-metrics.ts). This file only wires them and serves /healthz and /metrics.
import { ClusterIndex } from "../calc/snapshot.js";
import type { NodePlan } from "../calc/plan.js";
import { retryUntilOk, Sleeper, systemClock, type Clock } from "../daemon/clock.js";
import { fetchGet, type HttpGet } from "../daemon/http-get.js";
import type { Reply } from "../daemon/status-server.js";
import type { NodeDataplanePort, NodeReconcileReport } from "../dataplane/node-dataplane.js";
import type { Datastore } from "../datastore/types.js";
import { createLogger, type Logger } from "../util/log.js";
import type { Result } from "../util/result.js";
import { agentMetrics } from "./agent-metrics.js";
import { BgpSpeaker, registerBgpMetrics, type BirdPort } from "./bgp.js";
import { ClusterFeed } from "./cluster-feed.js";
import type { OpenLivenessEndpoint } from "../daemon/liveness-endpoint.js";
import { GatewayHealth, pollSettings, type PollSettings } from "./gateway-health.js";
import { NodeLease } from "./lease.js";
import { GatewayLiveness, registerLivenessMetrics } from "./liveness.js";
import { LivenessStatusPublisher } from "./liveness-status.js";
import { MaintenanceAnnouncer } from "./maintenance.js";
import { NodeConditionPublisher } from "./node-status.js";
import { ReconcileLoop, type AgentStatus } from "./reconcile-loop.js";
import type { ReplicaHealth } from "./replica-health.js";

export interface AgentOptions {
  store: Datastore;
  node: string;
  dataplane: NodeDataplanePort;
  log?: Logger;
  clock?: Clock;
  /** Full reconcile even without changes (drift repair); default 10 000 ms. */
  resyncMs?: number;
  /** Events within this window are coalesced into one reconcile; default 50 ms. */
  debounceMs?: number;
  /** First retry delay after a failed reconcile or datastore list (doubles up to resyncMs); default 1000 ms. */
  retryMs?: number;
  poll?: Partial<PollSettings>;
  /**
   * Judge gateway replicas by data-path liveness (BFD sessions from the node IP, opened with
   * this); without it, by readiness polling (`poll`).
   */
  liveness?: OpenLivenessEndpoint;
  httpGet?: HttpGet;
  random?: () => number;
  /** Write the agent's health into its Node's status.conditions (EgwAgentReady); default true. */
  publishHealth?: boolean;
  /** Renew the node's liveness Lease (egw-system/egw-agent-<node>, lease.ts); default true. */
  renewLease?: boolean;
  /**
   * Announce this node's egress IPs over BGP through the node's BIRD (its control socket and
   * config file); without it the agent does no BGP.
   */
  bgp?: { bird: BirdPort; intervalMs?: number };
  /** Called after every reconcile attempt (tests, diagnostics). */
  onReconcile?: (plan: NodePlan, result: Result<NodeReconcileReport, string>) => void;
}

export class Agent {
  readonly metrics = registerLivenessMetrics(agentMetrics());
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly retryMs: number;
  private readonly poll: PollSettings;
  private readonly sleeper: Sleeper;
  private readonly index = new ClusterIndex();
  private readonly feed: ClusterFeed;
  private readonly gateways: ReplicaHealth;
  private readonly loop: ReconcileLoop;
  private readonly lease: NodeLease | undefined;
  private readonly publisher: NodeConditionPublisher;
  private readonly livenessStatus: LivenessStatusPublisher;
  private readonly maintenance: MaintenanceAnnouncer;
  private readonly bgp: BgpSpeaker | undefined;
  private bgpStarted: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: AgentOptions) {
    this.log = o.log ?? createLogger("agent");
    const clock = o.clock ?? systemClock();
    this.sleeper = new Sleeper(clock);
    this.resyncMs = o.resyncMs ?? 10_000;
    this.retryMs = Math.min(o.retryMs ?? 1000, this.resyncMs);
    this.poll = pollSettings(o.poll);
    const index = this.index;
    if (o.renewLease !== false)
      this.lease = new NodeLease({ store: o.store, node: o.node, clock, log: this.log });
    const publisher = new NodeConditionPublisher({ store: o.store, node: o.node, clock, log: this.log });
    this.maintenance = new MaintenanceAnnouncer({
      store: o.store,
      pod: (namespace, name) => index.pod(namespace, name),
      clock,
      log: this.log,
    });
    this.publisher = publisher;
    this.livenessStatus = new LivenessStatusPublisher({ store: o.store, node: o.node, clock, log: this.log });
    const changed = (): void => this.loop.trigger();
    // A replica's liveness changed: a failover does not wait for a burst of events to gather.
    const urgent = (): void => this.loop.trigger(true);
    this.gateways =
      o.liveness === undefined
        ? new GatewayHealth({
            index,
            poll: this.poll,
            clock,
            httpGet: o.httpGet ?? fetchGet,
            ...(o.random === undefined ? {} : { random: o.random }),
            log: this.log,
            metrics: this.metrics,
            changed,
          })
        : new GatewayLiveness({
            index,
            open: o.liveness,
            clock,
            log: this.log,
            metrics: this.metrics,
            changed: urgent,
            ...(o.publishHealth === false ? {} : { publish: (e) => this.livenessStatus.offer(e) }),
          });
    this.loop = new ReconcileLoop({
      index,
      node: o.node,
      dataplane: o.dataplane,
      gateways: this.gateways,
      clock,
      log: this.log,
      metrics: this.metrics,
      resyncMs: this.resyncMs,
      debounceMs: o.debounceMs ?? 50,
      retryMs: this.retryMs,
      afterPass: (health) => {
        if (o.publishHealth !== false && health !== undefined) publisher.offer(health);
      },
      onReconcile: (plan, result) => {
        this.maintenance.follow(plan);
        o.onReconcile?.(plan, result);
      },
    });
    if (o.bgp !== undefined)
      this.bgp = new BgpSpeaker({
        store: o.store,
        node: o.node,
        index,
        bird: o.bgp.bird,
        clock,
        log: this.log,
        metrics: registerBgpMetrics(this.metrics),
        ...(o.bgp.intervalMs === undefined ? {} : { intervalMs: o.bgp.intervalMs }),
        ...(o.publishHealth === false ? { publishStatus: false } : {}),
      });
    this.feed = new ClusterFeed({
      store: o.store,
      index,
      gateways: this.gateways,
      log: this.log,
      metrics: this.metrics,
      changed: () => {
        this.loop.trigger();
        this.bgp?.trigger();
      },
    });
  }

  /**
   * Loads every kind from the datastore (retrying while it is unreachable), starts the watches,
   * reconciles once and arms the periodic resync. Resolves once the first list succeeded.
   */
  async start(): Promise<void> {
    this.log.info("agent starting", {
      node: this.o.node,
      resyncMs: this.resyncMs,
      ...(this.o.liveness === undefined ? { liveness: "poll", poll: this.poll } : { liveness: "bfd" }),
    });
    this.lease?.start();
    await retryUntilOk(() => this.feed.start(), {
      sleeper: this.sleeper,
      firstMs: this.retryMs,
      maxMs: this.resyncMs,
      stopped: () => this.stopped,
      onError: (error, retryInMs) =>
        this.log.error("cannot load cluster state; retrying", { error, retryInMs }),
    });
    if (this.stopped) return;
    this.log.info("cluster state loaded", this.index.counts());
    this.loop.startResync();
    // Beside the dataplane loop, not before it: BGP resources or BIRD being slow never delay it.
    this.bgpStarted = this.bgp?.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    await this.lease?.stop();
    await this.feed.stop();
    await this.bgp?.stop();
    await this.bgpStarted;
    await this.loop.stop();
    await this.gateways.stop();
    await this.livenessStatus.stop();
    await this.maintenance.stop();
    await this.publisher.settled();
    this.log.info("agent stopped", { node: this.o.node });
  }

  status(): Readonly<AgentStatus> {
    return this.loop.status();
  }

  /** `/healthz`: 200 while the last reconcile succeeded. */
  healthz(): Reply {
    const state = this.loop.status();
    if (state.lastReconcileOk === true) return { status: 200, body: "ok\n" };
    const why = state.lastReconcileOk === undefined ? "not reconciled yet" : state.lastError;
    return { status: 503, body: `not healthy: ${why ?? "unknown"}\n` };
  }

  metricsText(): Reply {
    this.gateways.setGauges(this.metrics);
    return {
      status: 200,
      body: this.metrics.render(),
      contentType: "text/plain; version=0.0.4; charset=utf-8",
    };
  }
}
