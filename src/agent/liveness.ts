// Data-path liveness of the gateway replicas this node's workloads use (`egw agent --liveness
// bfd`): one active BFD session from the node IP to each tunnel peer (which takes the tunnel, so it
// tests the path the traffic takes), with the timers of the replica's EgressGateway
// (spec.failureDetection.liveness, defaults when absent). Each session's state becomes a client
// view (liveness-view.ts: up, draining, down, held, pending) whose health goes into the
// ClusterIndex at once, with `changed()`: the plan is recomputed from memory and applied, with no
// datastore on the way. It logs one line per failover (replica, reason, detectMs, applyMs) once the
// kernel no longer routes new connections to the replica, keeps the metrics, and offers the views
// to the Node status publisher. It does not compute or apply plans.
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_OWNER } from "../api/well-known.js";
import { isGatewayPod, type ClusterIndex } from "../calc/snapshot.js";
import { podKeyOf, type PodInput } from "../calc/inputs.js";
import type { NodePlan } from "../calc/plan.js";
import type { Clock, TimerHandle } from "../daemon/clock.js";
import {
  livenessSettingsOf,
  type LivenessEndpoint,
  type LivenessPeerState,
  type OpenLivenessEndpoint,
} from "../daemon/liveness-endpoint.js";
import type { Metrics } from "../daemon/metrics.js";
import type { KernelGatewayGroup } from "../dataplane/kernel-groups.js";
import type { Logger } from "../util/log.js";
import { podReportsNotReady, replicasOutsideKernelGroups } from "./health-seed.js";
import type { GatewayLivenessEntry } from "./liveness-status.js";
import {
  ReplicaLiveness,
  type ClientView,
  type ReplicaLivenessSettings,
  type ViewChange,
} from "./liveness-view.js";
import type { ReplicaHealth } from "./replica-health.js";

export interface GatewayLivenessOptions {
  index: ClusterIndex;
  /** Opens the BFD endpoint on the node IP. */
  open: OpenLivenessEndpoint;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** A replica's health changed: the plan must be recomputed. */
  changed(): void;
  /** The views changed (for the Node's status.gatewayLiveness). */
  publish?(entries: GatewayLivenessEntry[]): void;
}

/** The series this module keeps (registered on the agent's Metrics). */
export const registerLivenessMetrics = (m: Metrics): Metrics =>
  m
    .counter(
      "egw_agent_liveness_transitions_total",
      "Client-view changes of gateway replicas, by the new view",
    )
    .gauge("egw_agent_liveness_sessions", "Liveness sessions with gateway replicas, by client view")
    .histogram(
      "egw_agent_failover_seconds",
      "From the last liveness packet seen from a failed replica to the kernel no longer routing new connections to it",
      [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10],
    );

const VIEWS: readonly ClientView[] = ["up", "draining", "down", "held", "pending"];

const STATUS_STATE: Record<ClientView, GatewayLivenessEntry["state"]> = {
  up: "Up",
  draining: "Draining",
  down: "Down",
  held: "Held",
  pending: "Held",
};

const NOT_READY = "its pod's Ready condition is False; held until its session is up";
const NEW_REPLICA = "new to this agent; held until its session is up";
/** watch(): no doubt, the replica keeps its connections until its session decides. */
const TRUSTED = "";

interface Watched {
  key: string;
  ip: string;
  judge: ReplicaLiveness;
  timer: TimerHandle | undefined;
  /** Created in the current pass (follow decides whether the plan must be recomputed). */
  fresh: boolean;
}

interface PendingFailover {
  reason: string;
  detectedAt: number;
  lastRxAt: number | undefined;
}

export class GatewayLiveness implements ReplicaHealth {
  private readonly watched = new Map<string, Watched>();
  private readonly byIp = new Map<string, string>();
  private readonly gateways = new Map<string, Resource>();
  /** Replicas held before any session judged them (key → why): their pod said Ready=False, or they are new. */
  private readonly doubted = new Map<string, string>();
  /** Gateway pods this agent has seen (a pod seen for the first time after start is new). */
  private readonly seen = new Set<string>();
  /** Set once the kernel's state is adopted: from then on, unseen replicas are new. */
  private adopted = false;
  private readonly failovers = new Map<string, PendingFailover>();
  private endpoint: LivenessEndpoint | undefined;
  private endpointAddress: string | undefined;
  private opening: Promise<void> | undefined;
  private openError: string | undefined;
  private stopped = false;

  constructor(private readonly o: GatewayLivenessOptions) {}

  podChanged(pod: PodInput): void {
    if (!isGatewayPod(pod)) return;
    const key = podKeyOf(pod);
    const isNew = !this.seen.has(key);
    this.seen.add(key);
    const w = this.watched.get(key);
    if (podReportsNotReady(pod)) {
      if (w !== undefined) this.apply(w, w.judge.doubt(NOT_READY, this.now()));
      else this.hold(key, NOT_READY);
    } else if (isNew && this.adopted && w === undefined) {
      // A new replica takes no new connections before its session is up.
      this.hold(key, NEW_REPLICA);
    }
  }

  podRemoved(pod: PodInput): void {
    const key = podKeyOf(pod);
    this.seen.delete(key);
    if (this.doubted.delete(key) && !this.watched.has(key)) this.o.index.setGatewayHealth(key, undefined);
  }

  egressGatewayChanged(gateway: Resource, present: boolean): void {
    const key = `${gateway.metadata.namespace ?? ""}/${gateway.metadata.name}`;
    if (present) this.gateways.set(key, gateway);
    else this.gateways.delete(key);
  }

  holdOutsideKernelGroups(plan: NodePlan, groups: readonly KernelGatewayGroup[]): boolean {
    this.adopted = true;
    const inKernel = new Set(groups.flatMap((g) => g.hops));
    const outside = replicasOutsideKernelGroups(plan, groups);
    // Judge the plan's replicas now, so the plan is recomputed without the doubtful ones: those
    // the kernel routed through stay (pending) until their session decides; the others are held.
    let held = false;
    for (const hop of plan.tunnelPeers) {
      const why = inKernel.has(hop.ip) ? outside.get(hop.replica) : (outside.get(hop.replica) ?? NEW_REPLICA);
      const w = this.watch(hop.replica, hop.ip, why ?? TRUSTED);
      w.fresh = false;
      if (w.judge.health === false) held = true;
    }
    return held;
  }

  follow(plan: NodePlan): void {
    if (this.stopped) return;
    this.adopted = true;
    // Sessions only with the plan's tunnel peers: those are the replicas this node's workloads
    // use, down and draining ones included (calc retains them), and the only ones the liveness
    // path through the tunnel is routed to. A replica no local workload selects gets no session.
    const wanted = new Map(plan.tunnelPeers.map((h) => [h.replica, h.ip]));
    for (const [key, w] of this.watched) {
      if (wanted.get(key) === w.ip) continue;
      this.unwatch(w);
    }
    let replan = false;
    for (const [key, ip] of wanted) {
      const before = this.o.index.gatewayHealth(key);
      const w = this.watch(key, ip, NEW_REPLICA);
      // A replica this plan still counted as usable is held now: plan again without it.
      if (w.fresh && before !== false && w.judge.health === false) replan = true;
      w.fresh = false;
    }
    this.ensureEndpoint(plan.nodeIP);
    this.syncSessions();
    this.offerStatus();
    if (replan) this.o.changed();
  }

  applied(plan: NodePlan, at: number): void {
    if (this.failovers.size === 0) return;
    const routed = new Set<string>();
    for (const set of plan.gatewaySets)
      for (const r of set.routes) if (r.action === "gateways") for (const h of r.hops) routed.add(h.replica);
    for (const [key, f] of this.failovers) {
      if (routed.has(key)) continue;
      this.failovers.delete(key);
      const detectMs = f.lastRxAt === undefined ? undefined : Math.max(0, f.detectedAt - f.lastRxAt);
      const applyMs = Math.max(0, at - f.detectedAt);
      this.o.metrics.observe("egw_agent_failover_seconds", ((detectMs ?? 0) + applyMs) / 1000);
      this.o.log.info("gateway replica failover", { replica: key, reason: f.reason, detectMs, applyMs });
    }
  }

  setGauges(metrics: Metrics): void {
    const counts = new Map<ClientView, number>(VIEWS.map((v) => [v, 0]));
    for (const w of this.watched.values()) {
      const v = w.judge.state.view;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const [state, n] of counts) metrics.set("egw_agent_liveness_sessions", n, { state });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watched.values()) this.o.clock.clearTimeout(w.timer);
    await this.opening;
    await this.endpoint?.close();
    this.endpoint = undefined;
  }

  // ---- sessions ------------------------------------------------------------------------------

  private now(): number {
    return this.o.clock.now();
  }

  private settingsOf(key: string): ReplicaLivenessSettings {
    const slash = key.indexOf("/");
    const pod = this.o.index.pod(key.slice(0, slash), key.slice(slash + 1));
    const owner = pod?.metadata.annotations?.[ANN_GATEWAY_OWNER];
    return livenessSettingsOf(owner === undefined ? undefined : this.gateways.get(owner));
  }

  /**
   * The replica's record, created if new (held for `why`, or pending when `why` is TRUSTED);
   * settings refreshed.
   */
  private watch(key: string, ip: string, why: string): Watched {
    const existing = this.watched.get(key);
    if (existing !== undefined) {
      existing.judge.retime(this.settingsOf(key));
      return existing;
    }
    const reason = this.doubted.get(key) ?? why;
    this.doubted.delete(key);
    const doubt = reason === TRUSTED ? undefined : reason;
    const w: Watched = {
      key,
      ip,
      judge: new ReplicaLiveness(this.settingsOf(key), this.now(), doubt),
      timer: undefined,
      fresh: true,
    };
    this.watched.set(key, w);
    this.byIp.set(ip, key);
    this.o.index.setGatewayHealth(key, w.judge.health);
    this.arm(w);
    return w;
  }

  /** Held before any session: health false until its session is up. */
  private hold(key: string, why: string): void {
    if (this.doubted.get(key) === why) return;
    this.doubted.set(key, why);
    this.o.index.setGatewayHealth(key, false);
    this.o.log.info("gateway replica held until its liveness session is up", { replica: key, why });
  }

  private unwatch(w: Watched): void {
    this.o.clock.clearTimeout(w.timer);
    this.watched.delete(w.key);
    if (this.byIp.get(w.ip) === w.key) this.byIp.delete(w.ip);
    this.endpoint?.remove(w.ip);
    this.o.index.setGatewayHealth(w.key, undefined);
  }

  private ensureEndpoint(address: string): void {
    if (this.endpointAddress === address && (this.endpoint !== undefined || this.opening !== undefined))
      return;
    if (this.opening !== undefined) return;
    const old = this.endpoint;
    this.endpoint = undefined;
    this.endpointAddress = address;
    this.opening = (async () => {
      await old?.close();
      const r = await this.o.open({
        address,
        onChange: (peer, state) => this.onSession(peer, state),
      });
      if (this.stopped) {
        if (r.ok) await r.value.close();
        return;
      }
      if (!r.ok) {
        // Retried on the next pass; sessions not up are judged down meanwhile (fail closed).
        if (r.error !== this.openError)
          this.o.log.error("cannot open the liveness endpoint; retrying on the next pass", {
            address,
            error: r.error,
          });
        this.openError = r.error;
        this.endpointAddress = undefined;
        return;
      }
      this.openError = undefined;
      this.endpoint = r.value;
      this.o.log.info("liveness endpoint open", { address });
      this.syncSessions();
    })().finally(() => {
      this.opening = undefined;
    });
  }

  /** Sessions on the endpoint = the watched replicas, with their current timers. */
  private syncSessions(): void {
    const e = this.endpoint;
    if (e === undefined) return;
    const ips = new Set<string>();
    for (const w of this.watched.values()) {
      ips.add(w.ip);
      const s = this.settingsOf(w.key);
      e.ensure(w.ip, { intervalMs: s.intervalMs, multiplier: s.multiplier });
    }
    for (const ip of e.peers().keys()) if (!ips.has(ip)) e.remove(ip);
  }

  private onSession(peer: string, state: LivenessPeerState): void {
    if (this.stopped) return;
    const key = this.byIp.get(peer);
    const w = key === undefined ? undefined : this.watched.get(key);
    if (w === undefined) return;
    this.apply(w, w.judge.observe(state, this.now()));
  }

  private arm(w: Watched): void {
    this.o.clock.clearTimeout(w.timer);
    w.timer = undefined;
    const at = w.judge.nextDeadline();
    if (at === undefined || this.stopped) return;
    w.timer = this.o.clock.setTimeout(
      () => {
        w.timer = undefined;
        if (this.watched.get(w.key) !== w) return;
        this.apply(w, w.judge.tick(this.now()));
      },
      Math.max(0, at - this.now()),
    );
  }

  private apply(w: Watched, change: ViewChange | undefined): void {
    this.arm(w);
    if (change === undefined) return;
    const now = this.now();
    if (change.from !== change.to) {
      this.o.metrics.inc("egw_agent_liveness_transitions_total", { to: change.to });
      this.o.log.info("gateway replica liveness changed", {
        replica: w.key,
        from: change.from,
        to: change.to,
        reason: change.reason,
      });
      const wasUsable = change.from === "up" || change.from === "pending";
      if (wasUsable && (change.to === "down" || change.to === "draining"))
        this.failovers.set(w.key, { reason: change.reason, detectedAt: now, lastRxAt: change.lastRxAt });
      if (change.to === "up") this.failovers.delete(w.key);
    }
    const before = this.o.index.gatewayHealth(w.key);
    this.o.index.setGatewayHealth(w.key, w.judge.health);
    if (before !== w.judge.health) this.o.changed();
    this.offerStatus();
  }

  private offerStatus(): void {
    if (this.o.publish === undefined) return;
    const entries = [...this.watched.values()]
      .map((w): GatewayLivenessEntry => {
        const s = w.judge.state;
        return {
          replica: w.key,
          state: STATUS_STATE[s.view],
          since: new Date(s.since).toISOString(),
          reason: s.reason,
        };
      })
      .sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0));
    this.o.publish(entries);
  }
}
