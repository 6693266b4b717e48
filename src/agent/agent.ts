// The per-node agent: datastore → ClusterIndex (incremental) → NodePlan (calc, pure) → node
// dataplane (one reconcile per change, coalesced), a periodic resync that repairs drift, and
// client-side health polling of the gateway replicas this node's workloads use.
import type { Resource } from "../api/meta.js";
import { GATEWAY_HEALTH_PORT } from "../api/well-known.js";
import { ClusterIndex, computeNodePlan, isGatewayPod } from "../calc/index.js";
import { podKeyOf } from "../calc/inputs.js";
import type {
  GlobalNetworkPolicyInput,
  GlobalNetworkSetInput,
  NetworkPolicyInput,
  TierInput,
} from "../calc/access/inputs.js";
import type {
  EgressGatewayPolicyInput,
  IPPoolInput,
  NamespaceInput,
  NodeInput,
  PodInput,
} from "../calc/inputs.js";
import type { NodePlan } from "../calc/plan.js";
import type { NodeDataplanePort, ReconcileReport } from "../dataplane/node-dataplane.js";
import type { KernelGatewayGroup } from "../dataplane/kernel-groups.js";
import type { Datastore } from "../datastore/types.js";
import type { Result } from "../util/result.js";
import {
  periodic,
  retryUntilOk,
  Sleeper,
  systemClock,
  type Clock,
  type Periodic,
  type TimerHandle,
} from "../daemon/clock.js";
import { Coalescer } from "../daemon/coalescer.js";
import { toDataplanePlan } from "./dataplane-plan.js";
import { fetchGet, type HttpGet } from "../daemon/http-get.js";
import { createLogger, type Logger } from "../util/log.js";
import { Metrics } from "../daemon/metrics.js";
import { ResourceMirror } from "../daemon/mirror.js";
import { publishAgentHealth, type AgentHealth } from "./node-status.js";
import { GatewayPoller, readinessUrl } from "./poller.js";
import { podReportsNotReady, replicasOutsideKernelGroups } from "./health-seed.js";
import type { Reply } from "../daemon/status-server.js";

export interface PollSettings {
  /** Default 10 000 ms (Calico's egressGatewayPollInterval); 0 disables polling. */
  intervalMs: number;
  /** Default 90 % of the interval. */
  timeoutMs?: number;
  /** Consecutive failures before a replica is down; default 3. */
  failureThreshold: number;
  /** The replicas' health port; default 8080. */
  port: number;
}

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
  httpGet?: HttpGet;
  random?: () => number;
  /** Write the agent's health into its Node's status.conditions (EgwAgentReady); default true. */
  publishHealth?: boolean;
  /** Called after every reconcile attempt (tests, diagnostics). */
  onReconcile?: (plan: NodePlan, result: Result<ReconcileReport, string>) => void;
}

export interface AgentStatus {
  /** undefined until the first reconcile. */
  lastReconcileOk: boolean | undefined;
  lastError?: string;
}

/** How a datastore object of one kind enters and leaves the ClusterIndex. */
interface KindHandlers {
  upsert(obj: Resource): void;
  remove(obj: Resource): void;
}

/** Reported while the dataplane is programmed (the message stays put: every change is a write). */
const PROGRAMMED = "the node's egress dataplane is programmed";

export class Agent {
  readonly metrics = agentMetrics();
  private readonly index = new ClusterIndex();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly resyncMs: number;
  private readonly retryMs: number;
  private readonly poll: PollSettings;
  private readonly mirror: ResourceMirror;
  private readonly poller: GatewayPoller;
  private readonly coalescer: Coalescer;
  /** Last computed plan: keeps gateway sets on their mark and table across recomputations. */
  private previous: NodePlan | undefined;
  /** Fingerprint of the last plan the dataplane accepted; undefined forces the next reconcile. */
  private appliedFingerprint: string | undefined;
  private forceReconcile = true;
  private resync: Periodic | undefined;
  private retryTimer: TimerHandle | undefined;
  private retryDelay: number;
  private stopped = false;
  private readonly sleeper: Sleeper;
  private readonly state: AgentStatus = { lastReconcileOk: undefined };
  /** Health to publish on the Node, and what was last written there (JSON; undefined = retry). */
  private health: AgentHealth | undefined;
  private publishedHealth: string | undefined;
  private publishError: string | undefined;
  /**
   * Replicas held down until their first successful poll (replica key → why): their pod says not
   * ready, or the kernel's group did not use them when this agent started (health-seed.ts).
   */
  private readonly unconfirmed = new Map<string, string>();
  /** The access-policy problems last logged, so each is logged once, not every pass. */
  private loggedProblems = "";
  /** The kinds the agent follows (in listing order), and how each updates the index. */
  private readonly kinds: Readonly<Record<string, KindHandlers>> = {
    Node: {
      upsert: (o) => this.index.upsertNode(o as NodeInput),
      remove: (o) => this.index.deleteNode(o.metadata.name),
    },
    Namespace: {
      upsert: (o) => this.index.upsertNamespace(o as NamespaceInput),
      remove: (o) => this.index.deleteNamespace(o.metadata.name),
    },
    IPPool: {
      upsert: (o) => this.index.upsertIPPool(o as IPPoolInput),
      remove: (o) => this.index.deleteIPPool(o.metadata.name),
    },
    EgressGatewayPolicy: {
      upsert: (o) => this.index.upsertPolicy(o as EgressGatewayPolicyInput),
      remove: (o) => this.index.deletePolicy(o.metadata.name),
    },
    Pod: {
      upsert: (o) => {
        this.index.upsertPod(o as PodInput);
        this.holdIfReportedNotReady(o as PodInput);
      },
      remove: (o) => {
        this.index.deletePod(o.metadata.namespace ?? "default", o.metadata.name);
        const key = podKeyOf(o as PodInput);
        if (this.unconfirmed.delete(key)) this.index.setGatewayHealth(key, this.poller.health(key));
      },
    },
    Tier: {
      upsert: (o) => this.index.upsertTier(o as TierInput),
      remove: (o) => this.index.deleteTier(o.metadata.name),
    },
    NetworkPolicy: {
      upsert: (o) => this.index.upsertNetworkPolicy(o as NetworkPolicyInput),
      remove: (o) => this.index.deleteNetworkPolicy(o.metadata.namespace ?? "default", o.metadata.name),
    },
    GlobalNetworkPolicy: {
      upsert: (o) => this.index.upsertGlobalNetworkPolicy(o as GlobalNetworkPolicyInput),
      remove: (o) => this.index.deleteGlobalNetworkPolicy(o.metadata.name),
    },
    GlobalNetworkSet: {
      upsert: (o) => this.index.upsertGlobalNetworkSet(o as GlobalNetworkSetInput),
      remove: (o) => this.index.deleteGlobalNetworkSet(o.metadata.name),
    },
  };

  constructor(private readonly o: AgentOptions) {
    this.log = o.log ?? createLogger("agent");
    this.clock = o.clock ?? systemClock();
    this.sleeper = new Sleeper(this.clock);
    this.resyncMs = o.resyncMs ?? 10_000;
    this.retryMs = Math.min(o.retryMs ?? 1000, this.resyncMs);
    this.retryDelay = this.retryMs;
    this.poll = {
      intervalMs: o.poll?.intervalMs ?? 10_000,
      failureThreshold: o.poll?.failureThreshold ?? 3,
      port: o.poll?.port ?? GATEWAY_HEALTH_PORT,
      ...(o.poll?.timeoutMs === undefined ? {} : { timeoutMs: o.poll.timeoutMs }),
    };
    this.coalescer = new Coalescer(
      this.clock,
      o.debounceMs ?? 50,
      () => this.sync(),
      (e) => this.log.error("sync failed unexpectedly", { error: e }),
    );
    this.mirror = new ResourceMirror(
      o.store,
      Object.keys(this.kinds).map((kind) => ({ kind })),
      {
        upsert: (kind, obj) => this.kinds[kind]?.upsert(obj),
        remove: (kind, obj) => this.kinds[kind]?.remove(obj),
        changed: () => this.coalescer.trigger(),
        skipped: (kind, problem) => {
          this.metrics.inc("egw_agent_skipped_objects_total", { kind });
          this.log.warn("skipping malformed object", { kind, problem });
        },
        resynced: (kind) => {
          this.metrics.inc("egw_agent_watch_resyncs_total", { kind });
          this.log.warn("watch restarted from a full list", { kind });
        },
      },
    );
    this.poller = new GatewayPoller({
      clock: this.clock,
      httpGet: o.httpGet ?? fetchGet,
      intervalMs: this.poll.intervalMs,
      failureThreshold: this.poll.failureThreshold,
      ...(this.poll.timeoutMs === undefined ? {} : { timeoutMs: this.poll.timeoutMs }),
      ...(o.random === undefined ? {} : { random: o.random }),
      onChange: (key, health) => {
        this.log.info("gateway replica health changed", {
          replica: key,
          health: health === undefined ? "unknown" : health ? "up" : "down",
        });
        // A poll verdict replaces whatever was assumed at start.
        if (health !== undefined) this.unconfirmed.delete(key);
        this.index.setGatewayHealth(key, this.effectiveHealth(key));
        this.coalescer.trigger();
      },
      onPoll: (_key, success) =>
        this.metrics.inc("egw_agent_gateway_polls_total", { result: success ? "up" : "failed" }),
    });
  }

  /**
   * Loads every kind from the datastore (retrying while it is unreachable), starts the watches,
   * reconciles once and arms the periodic resync. Resolves once the first list succeeded.
   */
  async start(): Promise<void> {
    this.log.info("agent starting", { node: this.o.node, resyncMs: this.resyncMs, poll: this.poll });
    await retryUntilOk(() => this.mirror.start(), {
      sleeper: this.sleeper,
      firstMs: this.retryMs,
      maxMs: this.resyncMs,
      stopped: () => this.stopped,
      onError: (error, retryInMs) =>
        this.log.error("cannot load cluster state; retrying", { error, retryInMs }),
    });
    if (this.stopped) return;
    const counts = this.index.counts();
    this.log.info("cluster state loaded", counts);
    this.resync?.stop();
    this.resync = periodic(this.clock, this.resyncMs, () => {
      this.forceReconcile = true;
      this.coalescer.trigger();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    this.resync?.stop();
    this.clock.clearTimeout(this.retryTimer);
    this.poller.stop();
    await this.mirror.stop();
    await this.coalescer.stop();
    this.log.info("agent stopped", { node: this.o.node });
  }

  status(): Readonly<AgentStatus> {
    return this.state;
  }

  /** `/healthz`: 200 while the last reconcile succeeded. */
  healthz(): Reply {
    if (this.state.lastReconcileOk === true) return { status: 200, body: "ok\n" };
    const why = this.state.lastReconcileOk === undefined ? "not reconciled yet" : this.state.lastError;
    return { status: 503, body: `not healthy: ${why ?? "unknown"}\n` };
  }

  metricsText(): Reply {
    const c = this.poller.counts();
    for (const [state, n] of Object.entries(c)) this.metrics.set("egw_agent_polled_gateways", n, { state });
    return {
      status: 200,
      body: this.metrics.render(),
      contentType: "text/plain; version=0.0.4; charset=utf-8",
    };
  }

  // ---- the loop --------------------------------------------------------------------------------

  /** One pass, then the resulting health goes to the Node. */
  private async sync(): Promise<void> {
    await this.syncOnce();
    await this.publishHealth();
  }

  /** Compute the plan, update polling, reconcile if anything changed (or forced). */
  private async syncOnce(): Promise<void> {
    if (this.stopped) return;
    const missing = this.nodeProblem();
    if (missing !== undefined) {
      this.fail(missing, "NodeIncomplete");
      return;
    }
    // The first plan of this process adopts the slots the kernel already uses (a restart), so
    // established connections' conntrack marks keep naming their gateway set's table.
    let kernelSlots: ReadonlyMap<string, number> | undefined;
    let kernelGroups: readonly KernelGatewayGroup[] | undefined;
    if (this.previous === undefined) {
      kernelSlots = await this.readKernelSlots();
      if (kernelSlots === undefined || this.stopped) return;
      kernelGroups = await this.readKernelGroups();
      if (kernelGroups === undefined || this.stopped) return;
    }
    let computed: NodePlan;
    try {
      computed = computeNodePlan(this.index, this.o.node, this.previous, kernelSlots);
      // A replica the kernel was not routing to is not put back on a guess: out until polled OK.
      if (kernelGroups !== undefined && this.holdOutsideKernelGroups(computed, kernelGroups))
        computed = computeNodePlan(this.index, this.o.node, this.previous, kernelSlots);
    } catch (e) {
      this.fail(`computing the plan failed: ${e instanceof Error ? e.message : String(e)}`, "PlanFailed");
      return;
    }
    this.previous = computed;
    this.logAccessProblems(computed.access?.problems ?? []);
    this.updatePollTargets(computed);
    const { plan, problems } = toDataplanePlan(computed, this.index, this.o.node);
    for (const p of problems) this.log.warn("pod left out of the plan", { problem: p });
    this.setPlanGauges(plan);

    const fingerprint = JSON.stringify(plan);
    if (!this.forceReconcile && fingerprint === this.appliedFingerprint) return;
    this.forceReconcile = false;
    const started = this.clock.now();
    const result = await this.o.dataplane.reconcile(plan);
    const seconds = (this.clock.now() - started) / 1000;
    this.metrics.set("egw_agent_reconcile_duration_seconds", seconds);
    if (result.ok) {
      this.appliedFingerprint = fingerprint;
      this.state.lastReconcileOk = true;
      delete this.state.lastError;
      this.retryDelay = this.retryMs;
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.metrics.inc("egw_agent_reconciles_total", { result: "ok" });
      this.metrics.inc("egw_agent_kernel_changes_total", {}, result.value.changes);
      this.metrics.set("egw_agent_last_reconcile_success", 1);
      this.metrics.set("egw_agent_last_success_timestamp_seconds", this.clock.now() / 1000);
      this.health = { ready: true, reason: "Programmed", message: PROGRAMMED };
      if (result.value.changes > 0) {
        this.log.info("dataplane reconciled", {
          changes: result.value.changes,
          actions: result.value.actions.slice(0, 20),
          seconds,
          workloads: plan.workloads.length,
          gatewaySets: plan.gatewaySets.length,
        });
      }
    } else {
      this.fail(result.error);
    }
    this.o.onReconcile?.(plan, result);
  }

  /** The kernel's workload → slot map; undefined (after fail()) when it cannot be read. */
  private async readKernelSlots(): Promise<ReadonlyMap<string, number> | undefined> {
    const read = await this.o.dataplane.readWorkloadSlots();
    if (!read.ok) {
      // Guessing fresh slots could move established connections to another set's table: retry.
      this.fail(`reading the gateway-set slots the kernel uses failed: ${read.error}`, "KernelReadFailed");
      return undefined;
    }
    if (read.value.size > 0)
      this.log.info("adopting the kernel's gateway-set slots", { workloads: read.value.size });
    return read.value;
  }

  /** The kernel's gateway groups; undefined (after fail()) when they cannot be read. */
  private async readKernelGroups(): Promise<readonly KernelGatewayGroup[] | undefined> {
    if (!this.holdsUnpolled()) return [];
    const read = await this.o.dataplane.readGatewayGroups();
    if (read.ok) return read.value;
    // Assuming every replica up could put a down one back into the groups: retry.
    this.fail(`reading the kernel's gateway nexthop groups failed: ${read.error}`, "KernelReadFailed");
    return undefined;
  }

  /** Holding replicas down until polled only makes sense while polling can confirm them. */
  private holdsUnpolled(): boolean {
    return this.poll.intervalMs > 0;
  }

  /** Polled health wins; a replica not polled yet is down while held, else unknown (= up). */
  private effectiveHealth(key: string): boolean | undefined {
    return this.poller.health(key) ?? (this.unconfirmed.has(key) ? false : undefined);
  }

  private hold(key: string, why: string): void {
    this.unconfirmed.set(key, why);
    this.index.setGatewayHealth(key, false);
    this.log.info("gateway replica held out until a poll succeeds", { replica: key, why });
  }

  /** A gateway pod whose own process reported it not ready, and that no poll has judged yet. */
  private holdIfReportedNotReady(pod: PodInput): void {
    if (!this.holdsUnpolled() || !isGatewayPod(pod) || !podReportsNotReady(pod)) return;
    const key = podKeyOf(pod);
    if (this.poller.health(key) !== undefined || this.unconfirmed.has(key)) return;
    this.hold(key, "its pod's Ready condition is False");
  }

  /** Holds the plan's unpolled replicas that the kernel's groups lack; true when any was held. */
  private holdOutsideKernelGroups(plan: NodePlan, groups: readonly KernelGatewayGroup[]): boolean {
    let held = false;
    for (const [key, why] of replicasOutsideKernelGroups(plan, groups)) {
      if (this.poller.health(key) !== undefined || this.unconfirmed.has(key)) continue;
      this.hold(key, why);
      held = true;
    }
    return held;
  }

  /** Without its own Node (and its underlay address) the agent cannot program anything. */
  private nodeProblem(): string | undefined {
    const name = this.o.node;
    if (this.index.node(name) === undefined)
      return `Node "${name}" is not in the datastore (yet); nothing is programmed`;
    if (this.index.nodeIP(name) === undefined)
      return `Node "${name}" has no InternalIP in status.addresses; the egress tunnel needs it`;
    return undefined;
  }

  private fail(error: string, reason = "ReconcileFailed"): void {
    this.health = {
      ready: false,
      reason,
      message: `${error}; the kernel keeps its previous egress state`,
    };
    this.appliedFingerprint = undefined;
    this.state.lastReconcileOk = false;
    this.state.lastError = error;
    this.metrics.inc("egw_agent_reconciles_total", { result: "error" });
    this.metrics.set("egw_agent_last_reconcile_success", 0);
    this.log.error("reconcile failed; the kernel keeps its previous state", {
      error,
      retryInMs: this.retryDelay,
    });
    if (this.retryTimer !== undefined || this.stopped) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.forceReconcile = true;
      this.coalescer.trigger();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, this.resyncMs);
  }

  /** Logs each access-policy problem once (invalid policies, missing tiers), and when all are fixed. */
  private logAccessProblems(problems: readonly string[]): void {
    const text = problems.join("\n");
    if (text === this.loggedProblems) return;
    const before = new Set(this.loggedProblems === "" ? [] : this.loggedProblems.split("\n"));
    this.loggedProblems = text;
    for (const p of problems) if (!before.has(p)) this.log.warn("egress policy problem", { problem: p });
    this.metrics.set("egw_agent_policy_problems", problems.length);
    if (problems.length === 0) this.log.info("egress policy problems resolved");
  }

  /** Writes the health into the Node's EgwAgentReady condition when it changed since the last write. */
  private async publishHealth(): Promise<void> {
    const h = this.health;
    if (this.o.publishHealth === false || h === undefined || this.stopped) return;
    const key = JSON.stringify(h);
    if (key === this.publishedHealth) return;
    const r = await publishAgentHealth(this.o.store, this.o.node, h, () => new Date(this.clock.now()));
    if (r.ok) {
      this.publishedHealth = key;
      this.log.info("node condition updated", { condition: "EgwAgentReady", ...h, result: r.value });
      this.publishError = undefined;
    } else {
      this.publishedHealth = undefined;
      if (r.error !== this.publishError)
        this.log.warn("cannot publish the agent's health on its Node; retrying on the next pass", {
          error: r.error,
        });
      this.publishError = r.error;
    }
  }

  /**
   * Polls every replica the plan routes to, and keeps polling replicas that are down (or held
   * down until polled) while their pod still exists: they left the plan because of their health
   * and must be able to come back.
   */
  private updatePollTargets(plan: NodePlan): void {
    const targets = new Map<string, string>();
    for (const hop of plan.tunnelPeers) targets.set(hop.replica, readinessUrl(hop.ip, this.poll.port));
    const down = this.poller.targetKeys().filter((key) => this.poller.health(key) === false);
    for (const key of [...down, ...this.unconfirmed.keys()]) {
      if (targets.has(key)) continue;
      const slash = key.indexOf("/");
      const ip = this.index.pod(key.slice(0, slash), key.slice(slash + 1))?.status?.podIP;
      if (ip) targets.set(key, readinessUrl(ip, this.poll.port));
    }
    this.poller.setTargets(targets);
  }

  private setPlanGauges(plan: NodePlan): void {
    this.metrics.set("egw_agent_workloads", plan.workloads.length);
    this.metrics.set("egw_agent_blocked_workloads", plan.workloads.filter((w) => w.blocked).length);
    this.metrics.set("egw_agent_gateway_sets", plan.gatewaySets.length);
    this.metrics.set(
      "egw_agent_unreachable_routes",
      plan.gatewaySets.reduce((n, s) => n + s.routes.filter((r) => r.action === "unreachable").length, 0),
    );
  }
}

function agentMetrics(): Metrics {
  return new Metrics()
    .counter("egw_agent_reconciles_total", "Dataplane reconciles by result (ok, error)")
    .counter("egw_agent_kernel_changes_total", "Kernel changes made by reconciles")
    .gauge("egw_agent_last_reconcile_success", "1 if the last reconcile succeeded, else 0")
    .gauge("egw_agent_last_success_timestamp_seconds", "Unix time of the last successful reconcile")
    .gauge("egw_agent_reconcile_duration_seconds", "Duration of the last reconcile")
    .gauge("egw_agent_workloads", "Workloads on this node in the plan")
    .gauge("egw_agent_blocked_workloads", "Workloads whose egress is blocked (fail closed)")
    .gauge("egw_agent_gateway_sets", "Gateway sets (routing tables) on this node")
    .gauge("egw_agent_unreachable_routes", "Destinations routed 'unreachable' because no gateway is usable")
    .counter("egw_agent_gateway_polls_total", "Readiness polls of gateway replicas by result (up, failed)")
    .gauge("egw_agent_polled_gateways", "Polled gateway replicas by state (up, down, unknown)")
    .counter("egw_agent_skipped_objects_total", "Malformed datastore objects skipped, by kind")
    .counter("egw_agent_watch_resyncs_total", "Watches restarted from a full list, by kind")
    .gauge("egw_agent_policy_problems", "Invalid egress policies or tiers (each logged once)");
}
