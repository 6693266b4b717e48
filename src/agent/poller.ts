// Polls `/readiness` of the gateway replicas a node's workloads may use (Felix-style): each
// target on its own jittered timer, one request in flight per target, results fed to a
// HealthTracker; `onChange` fires only when a replica's health changes.
import { jittered, type Clock, type TimerHandle } from "../daemon/clock.js";
import { HealthTracker, type Health } from "./health-tracker.js";
import type { HttpGet } from "../daemon/http-get.js";
import { ipFamilyOf } from "../util/ip.js";

export interface PollerOptions {
  clock: Clock;
  httpGet: HttpGet;
  /** Time between polls of one replica; 0 disables polling (every replica stays "unknown"). */
  intervalMs: number;
  /** Per-request timeout; default 90 % of the interval. */
  timeoutMs?: number;
  /** Consecutive failures before a replica is down. */
  failureThreshold: number;
  random?: () => number;
  onChange(key: string, health: Health): void;
  /** Every poll result, for metrics. */
  onPoll?(key: string, success: boolean): void;
}

interface Target {
  url: string;
  timer: TimerHandle | undefined;
}

/** The readiness URL of a replica. */
export const readinessUrl = (podIP: string, port: number): string =>
  `http://${ipFamilyOf(podIP) === 6 ? `[${podIP}]` : podIP}:${port}/readiness`;

export class GatewayPoller {
  private readonly targets = new Map<string, Target>();
  private readonly tracker: HealthTracker;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly o: PollerOptions) {
    this.tracker = new HealthTracker(Math.max(1, o.failureThreshold));
    this.random = o.random ?? Math.random;
  }

  /** Replaces the polled set (replica key → readiness URL). Dropped replicas forget their health. */
  setTargets(wanted: ReadonlyMap<string, string>): void {
    if (this.stopped) return;
    for (const [key, t] of this.targets) {
      if (wanted.get(key) === t.url) continue;
      this.drop(key, t);
    }
    if (this.o.intervalMs <= 0) return;
    for (const [key, url] of wanted) {
      if (this.targets.has(key)) continue;
      const t: Target = { url, timer: undefined };
      this.targets.set(key, t);
      // Spread first polls over one interval so a restart does not burst.
      this.schedule(key, t, Math.round(this.random() * this.o.intervalMs));
    }
  }

  health(key: string): Health {
    return this.tracker.state(key);
  }

  targetKeys(): string[] {
    return [...this.targets.keys()];
  }

  counts(): { up: number; down: number; unknown: number } {
    return this.tracker.counts(this.targets.keys());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.targets.values()) this.o.clock.clearTimeout(t.timer);
    this.targets.clear();
  }

  private drop(key: string, t: Target): void {
    this.o.clock.clearTimeout(t.timer);
    this.targets.delete(key);
    const had = this.tracker.state(key);
    this.tracker.forget(key);
    if (had !== undefined) this.o.onChange(key, undefined);
  }

  private schedule(key: string, t: Target, ms: number): void {
    t.timer = this.o.clock.setTimeout(() => {
      t.timer = undefined;
      void this.poll(key, t);
    }, ms);
  }

  private async poll(key: string, t: Target): Promise<void> {
    const timeout = this.o.timeoutMs ?? Math.max(1, Math.round(this.o.intervalMs * 0.9));
    const r = await this.o.httpGet(t.url, timeout);
    // The target may have been dropped or replaced while the request was in flight.
    if (this.stopped || this.targets.get(key) !== t) return;
    const success = "status" in r && r.status >= 200 && r.status < 300;
    this.o.onPoll?.(key, success);
    const change = this.tracker.record(key, success);
    this.schedule(key, t, jittered(this.o.intervalMs, 0.05, this.random));
    if (change !== "unchanged") this.o.onChange(key, change);
  }
}
