// The plan → apply loop of one node. Every trigger (coalesced) computes the node's NodePlan from
// the ClusterIndex (calc, pure) and hands it to the node dataplane when it changed, or when the
// periodic resync or a retry forces it (a full reconcile: drift repair). It keeps the outcome: /healthz status, the
// health to publish on the Node, metrics and logs. A failed pass is retried with backoff while the
// kernel keeps its previous state. Before the first reconcile the dataplane adopts what a previous
// agent left in the kernel, and replicas its groups did not route to are held down until polled
// (gateway-health.ts, liveness.ts). Nothing on the way from a trigger to the kernel waits for the
// datastore: a replica's health change is applied from the index in memory. It does not follow
// the datastore, judge gateways or write the Node itself.
import { computeNodePlan } from "../calc/node-plan.js";
import type { ClusterIndex } from "../calc/snapshot.js";
import type { NodePlan } from "../calc/plan.js";
import { periodic, type Clock, type Periodic, type TimerHandle } from "../daemon/clock.js";
import { Coalescer } from "../daemon/coalescer.js";
import type { Metrics } from "../daemon/metrics.js";
import type { NodeDataplanePort, NodeReconcileReport } from "../dataplane/node-dataplane.js";
import type { Logger } from "../util/log.js";
import type { Result } from "../util/result.js";
import { setPlanGauges } from "./agent-metrics.js";
import type { ReplicaHealth } from "./replica-health.js";
import type { AgentHealth } from "./node-status.js";
import { ProblemLog } from "./problem-log.js";

export interface AgentStatus {
  /** undefined until the first reconcile. */
  lastReconcileOk: boolean | undefined;
  lastError?: string;
}

export interface ReconcileLoopOptions {
  index: ClusterIndex;
  node: string;
  dataplane: NodeDataplanePort;
  gateways: ReplicaHealth;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Full reconcile even without changes (drift repair). */
  resyncMs: number;
  /** Triggers within this window are coalesced into one pass. */
  debounceMs: number;
  /** First retry delay after a failed pass (doubles up to resyncMs). */
  retryMs: number;
  /**
   * After every pass, with the health it ended in (undefined before the first outcome). Must not
   * block: the loop does not wait for it.
   */
  afterPass(health: AgentHealth | undefined): void;
  /** After every reconcile attempt (tests, diagnostics). */
  onReconcile?: (plan: NodePlan, result: Result<NodeReconcileReport, string>) => void;
}

/** Reported while the dataplane is programmed (the message stays put: every change is a write). */
const PROGRAMMED = "the node's egress dataplane is programmed";

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class ReconcileLoop {
  private readonly coalescer: Coalescer;
  private readonly state: AgentStatus = { lastReconcileOk: undefined };
  private health: AgentHealth | undefined;
  /** Whether the dataplane has adopted the kernel's state (once per process). */
  private adopted = false;
  /** Fingerprint of the last plan the dataplane accepted; undefined forces the next reconcile. */
  private appliedFingerprint: string | undefined;
  private forceReconcile = true;
  private resync: Periodic | undefined;
  private retryTimer: TimerHandle | undefined;
  private retryDelay: number;
  private stopped = false;
  private readonly policyProblems: ProblemLog;
  private readonly kernelProblems: ProblemLog;

  constructor(private readonly o: ReconcileLoopOptions) {
    this.retryDelay = o.retryMs;
    this.coalescer = new Coalescer(
      o.clock,
      o.debounceMs,
      async () => {
        await this.pass();
        // Not awaited: publishing goes to the datastore, and the next pass (a failover) must not
        // wait for it (afterPass keeps at most one write in flight).
        if (!this.stopped) o.afterPass(this.health);
      },
      (e) => o.log.error("sync failed unexpectedly", { error: e }),
    );
    this.policyProblems = new ProblemLog(o.log, {
      problem: "egress policy problem",
      resolved: "egress policy problems resolved",
    });
    this.kernelProblems = new ProblemLog(o.log, {
      problem: "workload not programmed as planned",
      resolved: "every workload is programmed as planned",
    });
  }

  /** Something changed: a pass follows (coalesced; `urgent`: without the debounce delay). */
  trigger(urgent = false): void {
    this.coalescer.trigger(urgent);
  }

  /** Arms the periodic forced reconcile (drift repair). */
  startResync(): void {
    this.resync?.stop();
    this.resync = periodic(this.o.clock, this.o.resyncMs, () => this.force());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resync?.stop();
    this.o.clock.clearTimeout(this.retryTimer);
    await this.coalescer.stop();
  }

  status(): Readonly<AgentStatus> {
    return this.state;
  }

  private force(): void {
    this.forceReconcile = true;
    this.coalescer.trigger();
  }

  /** Compute the plan, update polling, reconcile if anything changed (or forced). */
  private async pass(): Promise<void> {
    if (this.stopped) return;
    const missing = this.nodeProblem();
    if (missing !== undefined) {
      this.fail(missing, "NodeIncomplete");
      return;
    }
    let plan = this.computePlan();
    if (plan === undefined) return;
    if (!this.adopted) {
      // The dataplane keeps each gateway set on the slot the kernel already uses (a restart), so
      // established connections' conntrack marks keep naming their set's table; and a replica the
      // kernel was not routing to is not put back on a guess: out until polled OK.
      const kernel = await this.o.dataplane.adoptKernelState(plan);
      if (this.stopped) return;
      if (!kernel.ok) {
        this.fail(kernel.error, "KernelReadFailed");
        return;
      }
      this.adopted = true;
      const groups = kernel.value.gatewayGroups;
      if (groups.length > 0)
        this.o.log.info("adopting the kernel's gateway groups", { groups: groups.length });
      if (this.o.gateways.holdOutsideKernelGroups(plan, groups)) plan = this.computePlan();
      if (plan === undefined) return;
    }
    const problems = this.policyProblems.update(plan.access?.problems ?? []);
    if (problems !== undefined) this.o.metrics.set("egw_agent_policy_problems", problems);
    this.o.gateways.follow(plan);
    setPlanGauges(this.o.metrics, plan);

    const fingerprint = JSON.stringify(plan);
    if (!this.forceReconcile && fingerprint === this.appliedFingerprint) {
      this.o.gateways.applied(plan, this.o.clock.now());
      return;
    }
    // A forced pass (the first, the periodic resync, a retry) reads the kernel back and repairs
    // it; a pass for an event lets the dataplane send only what changed.
    const full = this.forceReconcile;
    this.forceReconcile = false;
    const started = this.o.clock.now();
    const result = await this.o.dataplane.reconcile(plan, { full });
    const seconds = (this.o.clock.now() - started) / 1000;
    this.o.metrics.set("egw_agent_reconcile_duration_seconds", seconds);
    if (result.ok) {
      this.succeeded(fingerprint, result.value, seconds);
      this.o.gateways.applied(plan, this.o.clock.now());
    } else this.fail(result.error);
    this.o.onReconcile?.(plan, result);
  }

  /** The node's plan; undefined (after fail()) when calc threw, which is a bug, not bad input. */
  private computePlan(): NodePlan | undefined {
    try {
      return computeNodePlan(this.o.index, this.o.node);
    } catch (e) {
      this.fail(`computing the plan failed: ${errorText(e)}`, "PlanFailed");
      return undefined;
    }
  }

  private succeeded(fingerprint: string, report: NodeReconcileReport, seconds: number): void {
    const m = this.o.metrics;
    this.appliedFingerprint = fingerprint;
    this.state.lastReconcileOk = true;
    delete this.state.lastError;
    this.retryDelay = this.o.retryMs;
    this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    m.inc("egw_agent_reconciles_total", { result: "ok" });
    m.inc("egw_agent_kernel_changes_total", {}, report.changes);
    m.set("egw_agent_last_reconcile_success", 1);
    m.set("egw_agent_last_success_timestamp_seconds", this.o.clock.now() / 1000);
    // What the kernel holds: pods it cannot hold left out, sets beyond the band blocked.
    setPlanGauges(m, report.plan);
    this.kernelProblems.update(report.problems);
    this.health = { ready: true, reason: "Programmed", message: PROGRAMMED };
    if (report.changes > 0) {
      this.o.log.info("dataplane reconciled", {
        changes: report.changes,
        actions: report.actions.slice(0, 20),
        seconds,
        workloads: report.plan.workloads.length,
        gatewaySets: report.plan.gatewaySets.length,
      });
    }
  }

  /** Without its own Node (and its underlay address) the agent cannot program anything. */
  private nodeProblem(): string | undefined {
    const name = this.o.node;
    if (this.o.index.node(name) === undefined)
      return `Node "${name}" is not in the datastore (yet); nothing is programmed`;
    if (this.o.index.nodeIP(name) === undefined)
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
    // Whatever runs next (the retry or an event) reads the kernel back.
    this.forceReconcile = true;
    this.state.lastReconcileOk = false;
    this.state.lastError = error;
    this.o.metrics.inc("egw_agent_reconciles_total", { result: "error" });
    this.o.metrics.set("egw_agent_last_reconcile_success", 0);
    this.o.log.error("reconcile failed; the kernel keeps its previous state", {
      error,
      retryInMs: this.retryDelay,
    });
    if (this.retryTimer !== undefined || this.stopped) return;
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.force();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, this.o.resyncMs);
  }
}
