// One egress gateway replica, running in its own netns: follows its Pod, the Nodes, the IPPools
// and its EgressGateway; keeps the replica's dataplane (tunnel endpoint, SNAT to the egress IP,
// anti-relay filter, return routes) applied, on change and periodically; runs the upstream
// probes; serves /readiness and /metrics; publishes readiness in its Pod's status and, when given
// a liveness endpoint, on its passive BFD sessions with the client nodes (liveness.ts). While
// fenced (fence.ts: its own pod unreadable for fenceAfter, or gone) it withdraws its dataplane.
import type { Resource } from "../api/meta.js";
import {
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
  ANN_GATEWAY_USABLE_AFTER,
  GATEWAY_HEALTH_PORT,
} from "../api/well-known.js";
import type { IPPoolInput, PodInput } from "../calc/inputs.js";
import type { ReconcileReport } from "../dataplane/node-dataplane.js";
import type { GatewayReplicaPlan } from "../dataplane/render-gateway.js";
import type { Runner } from "../dataplane/runner.js";
import type { Datastore } from "../datastore/types.js";
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
import { fetchGet, type HttpGet } from "../daemon/http-get.js";
import { livenessSettingsOf, type OpenLivenessEndpoint } from "../daemon/liveness-endpoint.js";
import { createLogger, type Logger } from "../util/log.js";
import { Metrics } from "../daemon/metrics.js";
import { ResourceMirror } from "../daemon/mirror.js";
import type { Reply } from "../daemon/status-server.js";
import type { Result } from "../util/result.js";
import { Fence } from "./fence.js";
import { ReplicaLivenessSessions } from "./liveness.js";
import { buildGatewayPlan, type GatewayNodeInput } from "./plan.js";
import { publishReadiness } from "./pod-status.js";
import { httpProbe, pingProbe, ProbeLoop } from "./probes.js";
import { evaluateReadiness, probeSettings, type FailureDetectionInput, type Readiness } from "./readiness.js";

export interface GatewayDataplanePort {
  reconcile(plan: GatewayReplicaPlan): Promise<Result<ReconcileReport, string>>;
  /** Removes the replica's table (SNAT), tunnel device and egress address. */
  teardown(plan: Pick<GatewayReplicaPlan, "egressIP" | "uplink">): Promise<Result<void, string>>;
}

export interface GatewayOptions {
  store: Datastore;
  /** The replica's own Pod. */
  pod: { namespace: string; name: string };
  dataplane: GatewayDataplanePort;
  /** Where `ping` runs (the replica's netns). */
  runner: Runner;
  /** Interface towards the outside world. */
  uplink: string;
  healthPort?: number;
  /** Full reconcile even without changes (drift repair); default 10 000 ms. */
  resyncMs?: number;
  debounceMs?: number;
  clock?: Clock;
  log?: Logger;
  /** For HTTP probes; default fetch. */
  httpGet?: HttpGet;
  random?: () => number;
  /** Withdraw SNAT and the egress address after this long without reading its own pod; default 5000 ms. */
  fenceAfterMs?: number;
  /** Publish readiness into the Pod's status (default true). */
  publishStatus?: boolean;
  /** Answer the client nodes' liveness sessions (BFD) on the pod IP, opened with this. */
  liveness?: OpenLivenessEndpoint;
  /** After every reconcile attempt (tests, diagnostics). */
  onReconcile?: (plan: GatewayReplicaPlan, result: Result<ReconcileReport, string>) => void;
}

type Json = Record<string, unknown>;

export class Gateway {
  readonly metrics = gatewayMetrics();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly healthPort: number;
  private readonly resyncMs: number;
  private readonly mirror: ResourceMirror;
  private readonly coalescer: Coalescer;
  private pod: PodInput | undefined;
  private readonly nodes = new Map<string, GatewayNodeInput>();
  private readonly pools = new Map<string, IPPoolInput>();
  private readonly gateways = new Map<string, Resource>();
  private applied = false;
  private applyError: string | undefined;
  private appliedFingerprint: string | undefined;
  private forceReconcile = true;
  private lastWarnings = "";
  private probes: ProbeLoop[] = [];
  private probeFingerprint = "";
  private terminating = false;
  private published: string | undefined;
  private publishing: Promise<void> | undefined;
  private publishAgain = false;
  private lastReadiness: Readiness | undefined;
  private resync: Periodic | undefined;
  private stopped = false;
  private readonly sleeper: Sleeper;
  private readonly fence: Fence;
  private withdrawn = false;
  private lastEgressIP: string | undefined;
  private readonly liveness: ReplicaLivenessSessions | undefined;
  private usableTimer: TimerHandle | undefined;
  private usableWakeAt: number | undefined;

  constructor(private readonly o: GatewayOptions) {
    this.log = o.log ?? createLogger("gateway");
    this.clock = o.clock ?? systemClock();
    this.sleeper = new Sleeper(this.clock);
    this.healthPort = o.healthPort ?? GATEWAY_HEALTH_PORT;
    this.resyncMs = o.resyncMs ?? 10_000;
    this.liveness = o.liveness && new ReplicaLivenessSessions({ open: o.liveness, log: this.log });
    this.coalescer = new Coalescer(
      this.clock,
      o.debounceMs ?? 50,
      () => this.sync(),
      (e) => this.log.error("sync failed unexpectedly", { error: e }),
    );
    this.mirror = new ResourceMirror(
      o.store,
      [
        { kind: "Pod", namespace: o.pod.namespace },
        { kind: "Node" },
        { kind: "IPPool" },
        { kind: "EgressGateway" },
      ],
      {
        upsert: (kind, obj) => this.apply(kind, obj, true),
        remove: (kind, obj) => this.apply(kind, obj, false),
        changed: () => this.coalescer.trigger(),
        skipped: (kind, problem) => this.log.warn("skipping malformed object", { kind, problem }),
        resynced: (kind) => this.log.warn("watch restarted from a full list", { kind }),
      },
    );
    this.fence = new Fence({
      store: o.store,
      pod: o.pod,
      clock: this.clock,
      log: this.log,
      ...(o.fenceAfterMs === undefined ? {} : { fenceAfterMs: o.fenceAfterMs }),
      clientContactAt: () => this.liveness?.lastHeardAt(),
      onChange: () => {
        this.forceReconcile = true;
        this.coalescer.trigger();
      },
    });
  }

  /** Loads state (retrying while the datastore is unreachable), then follows changes. */
  async start(): Promise<void> {
    this.log.info("gateway starting", {
      pod: this.o.pod,
      uplink: this.o.uplink,
      healthPort: this.healthPort,
    });
    this.fence.start();
    await retryUntilOk(() => this.mirror.start(), {
      sleeper: this.sleeper,
      firstMs: 1000,
      maxMs: this.resyncMs,
      stopped: () => this.stopped,
      onError: (error, retryInMs) =>
        this.log.error("cannot load cluster state; retrying", { error, retryInMs }),
    });
    if (this.stopped) return;
    this.resync?.stop();
    this.resync = periodic(this.clock, this.resyncMs, () => {
      this.forceReconcile = true;
      this.coalescer.trigger();
    });
  }

  /**
   * Graceful termination: report not ready at once (clients stop sending new flows) and stop
   * following changes. The kernel state stays, so established flows keep working until the
   * replica's netns is removed.
   */
  async drain(): Promise<void> {
    this.terminating = true;
    await this.refreshReadiness();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    this.resync?.stop();
    this.clock.clearTimeout(this.usableTimer);
    for (const p of this.probes) p.stop();
    await this.fence.stop();
    await this.mirror.stop();
    await this.coalescer.stop();
    await this.liveness?.stop();
    this.log.info("gateway stopped", { pod: this.o.pod });
  }

  readiness(): Readiness {
    const fence = this.fence.state();
    return evaluateReadiness({
      ...(fence.kind === "open" ? {} : { fenced: fence.message }),
      applied: this.applied,
      ...(this.applyError === undefined ? {} : { applyError: this.applyError }),
      draining: this.draining(),
      probes: this.probes.map((p) => p.state),
      now: this.clock.now(),
      ...usableAfterOf(this.pod),
    });
  }

  /** `/readiness`: 200 only when applied, probes pass and not draining. */
  readinessReply(): Reply {
    const r = this.readiness();
    return {
      status: r.ready ? 200 : 503,
      body: `${r.ready ? "ready" : "not ready"}: ${r.reason}: ${r.message}\n`,
    };
  }

  metricsText(): Reply {
    const r = this.readiness();
    this.metrics.set("egw_gateway_ready", r.ready ? 1 : 0);
    this.metrics.set("egw_gateway_draining", this.draining() ? 1 : 0);
    return {
      status: 200,
      body: this.metrics.render(),
      contentType: "text/plain; version=0.0.4; charset=utf-8",
    };
  }

  private draining(): boolean {
    const meta = this.pod?.metadata;
    return (
      this.terminating ||
      meta?.deletionTimestamp !== undefined ||
      meta?.annotations?.[ANN_GATEWAY_TERMINATING] !== undefined
    );
  }

  private apply(kind: string, obj: Resource, present: boolean): void {
    const name = obj.metadata.name;
    switch (kind) {
      case "Pod":
        if (name !== this.o.pod.name) return;
        this.pod = present ? (obj as PodInput) : undefined;
        this.fence.observe(present ? obj : undefined);
        return;
      case "Node":
        if (present) this.nodes.set(name, obj as GatewayNodeInput);
        else this.nodes.delete(name);
        return;
      case "IPPool":
        if (present) this.pools.set(name, obj as IPPoolInput);
        else this.pools.delete(name);
        return;
      case "EgressGateway": {
        const key = `${obj.metadata.namespace ?? ""}/${name}`;
        if (present) this.gateways.set(key, obj);
        else this.gateways.delete(key);
        return;
      }
    }
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    if (this.fence.state().kind !== "open") return this.withdraw();
    this.withdrawn = false;
    this.updateProbes();
    const built = buildGatewayPlan({
      replica: this.o.pod,
      pod: this.pod,
      nodes: this.nodes.values(),
      pools: this.pools.values(),
      uplink: this.o.uplink,
      healthPort: this.healthPort,
    });
    if (!built.ok) {
      // Keep whatever the kernel has (established flows), but do not claim readiness.
      if (this.applyError !== built.error)
        this.log.warn("cannot build the gateway plan", { error: built.error });
      this.applied = false;
      this.applyError = built.error;
      this.appliedFingerprint = undefined;
      await this.refreshReadiness();
      return;
    }
    const warnings = built.value.warnings.join("\n");
    if (warnings !== this.lastWarnings && warnings !== "")
      this.log.warn("objects left out of the plan", { warnings: built.value.warnings });
    this.lastWarnings = warnings;
    const plan = built.value.plan;
    this.metrics.set("egw_gateway_nodes", plan.nodes.length);
    this.liveness?.follow(plan, livenessSettingsOf(this.owner()));
    const fingerprint = JSON.stringify(plan);
    if (this.forceReconcile || fingerprint !== this.appliedFingerprint) {
      this.forceReconcile = false;
      const result = await this.o.dataplane.reconcile(plan);
      if (result.ok) {
        if (result.value.changes > 0)
          this.log.info("dataplane reconciled", {
            changes: result.value.changes,
            actions: result.value.actions.slice(0, 20),
          });
        this.applied = true;
        this.applyError = undefined;
        this.appliedFingerprint = fingerprint;
        this.lastEgressIP = plan.egressIP;
        this.metrics.inc("egw_gateway_reconciles_total", { result: "ok" });
      } else {
        this.log.error("reconcile failed; the kernel keeps its previous state", { error: result.error });
        this.applied = false;
        this.applyError = result.error;
        this.appliedFingerprint = undefined;
        this.metrics.inc("egw_gateway_reconciles_total", { result: "error" });
      }
      this.o.onReconcile?.(plan, result);
    }
    await this.refreshReadiness();
    this.wakeWhenUsable();
  }

  /** Re-evaluates readiness when the publish-before-use time passes (nothing else would trigger it). */
  private wakeWhenUsable(): void {
    const at = usableAfterOf(this.pod).usableAfter;
    const now = this.clock.now();
    if (at === undefined || at <= now || at === this.usableWakeAt) return;
    this.clock.clearTimeout(this.usableTimer);
    this.usableWakeAt = at;
    this.usableTimer = this.clock.setTimeout(
      () => {
        this.usableTimer = undefined;
        this.coalescer.trigger(true);
      },
      at - now + 1,
    );
  }

  /** Fenced: the table (SNAT), tunnel and egress address go, once, until the fence lifts (fail closed). */
  private async withdraw(): Promise<void> {
    if (!this.withdrawn) {
      const egressIP = this.lastEgressIP ?? this.pod?.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? "";
      const r = await this.o.dataplane.teardown({ egressIP, uplink: this.o.uplink });
      if (r.ok) {
        this.withdrawn = true;
        this.log.warn("SNAT and egress address withdrawn", { egressIP, fence: this.fence.state() });
      } else this.log.error("cannot withdraw the dataplane; retrying", { error: r.error });
      this.applied = false;
      this.appliedFingerprint = undefined;
    }
    await this.refreshReadiness();
  }

  /** (Re)starts the probe loops when the owner's failureDetection changed. */
  private updateProbes(): void {
    const settings = probeSettings(this.failureDetection());
    const fingerprint = JSON.stringify(settings);
    if (fingerprint === this.probeFingerprint) return;
    this.probeFingerprint = fingerprint;
    for (const p of this.probes) p.stop();
    this.log.info("upstream probes", { probes: settings });
    const get = this.o.httpGet ?? fetchGet;
    this.probes = settings.map(
      (s) =>
        new ProbeLoop({
          clock: this.clock,
          settings: s,
          probe: s.kind === "icmp" ? pingProbe(this.o.runner) : httpProbe(get),
          ...(this.o.random === undefined ? {} : { random: this.o.random }),
          onRound: (kind, success) => {
            this.metrics.inc("egw_gateway_probes_total", { kind, result: success ? "success" : "failure" });
            void this.refreshReadiness();
          },
        }),
    );
    for (const p of this.probes) p.start();
  }

  /** The owning EgressGateway (from the pod's annotation). */
  private owner(): Resource | undefined {
    const owner = this.pod?.metadata.annotations?.[ANN_GATEWAY_OWNER];
    return owner === undefined ? undefined : this.gateways.get(owner);
  }

  /** The owning EgressGateway's spec.failureDetection. */
  private failureDetection(): FailureDetectionInput | undefined {
    const spec = this.owner()?.spec as Json | undefined;
    return spec?.failureDetection as FailureDetectionInput | undefined;
  }

  /** Logs readiness transitions and publishes them in the Pod's status. */
  private async refreshReadiness(): Promise<void> {
    const r = this.readiness();
    this.liveness?.setReadiness(r);
    // Published on transitions only: probe error texts must not cause a write per round.
    const key = `${r.ready}|${r.reason}`;
    if (
      this.lastReadiness === undefined ||
      this.lastReadiness.ready !== r.ready ||
      this.lastReadiness.reason !== r.reason
    ) {
      this.log.info(r.ready ? "replica ready" : "replica not ready", {
        reason: r.reason,
        message: r.message,
      });
    }
    this.lastReadiness = r;
    if (this.o.publishStatus === false || this.pod === undefined || key === this.published) return;
    await this.publishLatest();
  }

  /**
   * Writes the latest readiness, one write at a time: a slow write of an older state (say, while
   * the datastore comes back) must never land after a newer one and stay there.
   */
  private publishLatest(): Promise<void> {
    if (this.publishing !== undefined) {
      this.publishAgain = true;
      return this.publishing;
    }
    this.publishing = (async () => {
      do {
        this.publishAgain = false;
        const r = this.lastReadiness;
        if (r === undefined) return;
        const key = `${r.ready}|${r.reason}`;
        if (key === this.published) continue;
        const written = await publishReadiness(this.o.store, this.o.pod, r, () => new Date(this.clock.now()));
        if (!written.ok) {
          this.published = undefined; // retried on the next sync
          this.log.warn("cannot publish readiness", { error: written.error });
          return;
        }
        this.published = key;
      } while (this.publishAgain);
    })().finally(() => {
      this.publishing = undefined;
    });
    return this.publishing;
  }
}

function gatewayMetrics(): Metrics {
  return new Metrics()
    .gauge("egw_gateway_ready", "1 if the replica is ready (dataplane applied, probes pass, not draining)")
    .gauge("egw_gateway_draining", "1 while the replica is terminating")
    .gauge("egw_gateway_nodes", "Cluster nodes the replica accepts tunnel traffic from")
    .counter("egw_gateway_reconciles_total", "Dataplane reconciles by result (ok, error)")
    .counter("egw_gateway_probes_total", "Upstream probe rounds by kind (icmp, http) and result");
}

/** The pod's publish-before-use time (egress.egw.dev/usableAfter), when it has a valid one. */
const usableAfterOf = (pod: PodInput | undefined): { usableAfter?: number } => {
  const at = Date.parse(pod?.metadata.annotations?.[ANN_GATEWAY_USABLE_AFTER] ?? "");
  return Number.isFinite(at) ? { usableAfter: at } : {};
};
