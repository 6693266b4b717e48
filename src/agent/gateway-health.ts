// The health of the gateway replicas this node's workloads use, as calc sees it: polled by the
// GatewayPoller (poller.ts), and held down until a first successful poll where there is evidence a
// replica was not carrying traffic (health-seed.ts: its pod says not ready, or the kernel's group
// left it out when this agent started). It writes every change into the ClusterIndex and calls
// `changed` so the plan is recomputed; it does not compute or apply plans itself.
import { GATEWAY_HEALTH_PORT } from "../api/well-known.js";
import { isGatewayPod, type ClusterIndex } from "../calc/snapshot.js";
import { podKeyOf, type PodInput } from "../calc/inputs.js";
import type { NodePlan } from "../calc/plan.js";
import type { Clock } from "../daemon/clock.js";
import type { HttpGet } from "../daemon/http-get.js";
import type { Metrics } from "../daemon/metrics.js";
import type { KernelGatewayGroup } from "../dataplane/kernel-groups.js";
import type { Logger } from "../util/log.js";
import { podReportsNotReady, replicasOutsideKernelGroups } from "./health-seed.js";
import { GatewayPoller, readinessUrl } from "./poller.js";
import type { ReplicaHealth } from "./replica-health.js";

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

export const pollSettings = (o: Partial<PollSettings> = {}): PollSettings => ({
  intervalMs: o.intervalMs ?? 10_000,
  failureThreshold: o.failureThreshold ?? 3,
  port: o.port ?? GATEWAY_HEALTH_PORT,
  ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
});

export interface GatewayHealthOptions {
  index: ClusterIndex;
  poll: PollSettings;
  clock: Clock;
  httpGet: HttpGet;
  random?: () => number;
  log: Logger;
  metrics: Metrics;
  /** A replica's health changed: the plan must be recomputed. */
  changed(): void;
}

export class GatewayHealth implements ReplicaHealth {
  private readonly poller: GatewayPoller;
  /**
   * Replicas held down until their first successful poll (replica key → why): their pod says not
   * ready, or the kernel's group did not use them when this agent started (health-seed.ts).
   */
  private readonly unconfirmed = new Map<string, string>();

  constructor(private readonly o: GatewayHealthOptions) {
    this.poller = new GatewayPoller({
      clock: o.clock,
      httpGet: o.httpGet,
      intervalMs: o.poll.intervalMs,
      failureThreshold: o.poll.failureThreshold,
      ...(o.poll.timeoutMs === undefined ? {} : { timeoutMs: o.poll.timeoutMs }),
      ...(o.random === undefined ? {} : { random: o.random }),
      onChange: (key, health) => {
        o.log.info("gateway replica health changed", {
          replica: key,
          health: health === undefined ? "unknown" : health ? "up" : "down",
        });
        // A poll verdict replaces whatever was assumed at start.
        if (health !== undefined) this.unconfirmed.delete(key);
        o.index.setGatewayHealth(key, this.effectiveHealth(key));
        o.changed();
      },
      onPoll: (_key, success) =>
        o.metrics.inc("egw_agent_gateway_polls_total", { result: success ? "up" : "failed" }),
    });
  }

  /** Holding replicas down until polled only makes sense while polling can confirm them. */
  get holdsUnpolled(): boolean {
    return this.o.poll.intervalMs > 0;
  }

  /** A pod was stored: a gateway pod whose own process reported it not ready, and that no poll has judged yet, is held. */
  podChanged(pod: PodInput): void {
    if (!this.holdsUnpolled || !isGatewayPod(pod) || !podReportsNotReady(pod)) return;
    const key = podKeyOf(pod);
    if (this.poller.health(key) !== undefined || this.unconfirmed.has(key)) return;
    this.hold(key, "its pod's Ready condition is False");
  }

  /** A pod was deleted: a replica held for it is released (the index forgets the pod anyway). */
  podRemoved(pod: PodInput): void {
    const key = podKeyOf(pod);
    if (this.unconfirmed.delete(key)) this.o.index.setGatewayHealth(key, this.poller.health(key));
  }

  /**
   * At start: holds the plan's unpolled replicas that the kernel's existing groups for the same
   * route lack; true when any was held (the plan must then be recomputed).
   */
  holdOutsideKernelGroups(plan: NodePlan, groups: readonly KernelGatewayGroup[]): boolean {
    if (!this.holdsUnpolled) return false;
    let held = false;
    for (const [key, why] of replicasOutsideKernelGroups(plan, groups)) {
      if (this.poller.health(key) !== undefined || this.unconfirmed.has(key)) continue;
      this.hold(key, why);
      held = true;
    }
    return held;
  }

  /**
   * Polls every replica the plan routes to, and keeps polling replicas that are down (or held
   * down until polled) while their pod still exists: they left the plan because of their health
   * and must be able to come back.
   */
  follow(plan: NodePlan): void {
    const port = this.o.poll.port;
    const targets = new Map<string, string>();
    for (const hop of plan.tunnelPeers) targets.set(hop.replica, readinessUrl(hop.ip, port));
    const down = this.poller.targetKeys().filter((key) => this.poller.health(key) === false);
    for (const key of [...down, ...this.unconfirmed.keys()]) {
      if (targets.has(key)) continue;
      const slash = key.indexOf("/");
      const ip = this.o.index.pod(key.slice(0, slash), key.slice(slash + 1))?.status?.podIP;
      if (ip) targets.set(key, readinessUrl(ip, port));
    }
    this.poller.setTargets(targets);
  }

  /** Polled replicas by state, for metrics. */
  counts(): { up: number; down: number; unknown: number } {
    return this.poller.counts();
  }

  setGauges(metrics: Metrics): void {
    for (const [state, n] of Object.entries(this.counts()))
      metrics.set("egw_agent_polled_gateways", n, { state });
  }

  /** Polling reads no EgressGateway settings (the agent's flags set the interval). */
  egressGatewayChanged(): void {}

  /** Polling keeps no failover timings. */
  applied(): void {}

  async stop(): Promise<void> {
    this.poller.stop();
  }

  /** Polled health wins; a replica not polled yet is down while held, else unknown (= up). */
  private effectiveHealth(key: string): boolean | undefined {
    return this.poller.health(key) ?? (this.unconfirmed.has(key) ? false : undefined);
  }

  private hold(key: string, why: string): void {
    this.unconfirmed.set(key, why);
    this.o.index.setGatewayHealth(key, false);
    this.o.log.info("gateway replica held out until a poll succeeds", { replica: key, why });
  }
}
