// Upstream probes of a replica: every interval (jittered) all targets of one kind are probed in
// parallel and any success refreshes that kind's lastSuccessAt. ICMP uses `ping` (through a
// Runner, so it runs in the replica's netns); HTTP counts any response as success.
import { jittered, type Clock, type TimerHandle } from "../daemon/clock.js";
import type { HttpGet } from "../daemon/http-get.js";
import type { Runner } from "../dataplane/runner.js";
import type { ProbeSettings, ProbeState } from "./readiness.js";

/** One probe of one target: undefined on success, else what went wrong. */
export type ProbeFn = (target: string, timeoutMs: number) => Promise<string | undefined>;

export const pingProbe =
  (runner: Runner): ProbeFn =>
  async (ip, timeoutMs) => {
    // iputils takes fractional seconds: rounding up to whole ones would make a lost upstream
    // take a full second per probe to notice, however short the configured timeout.
    const seconds = (Math.max(100, Math.round(timeoutMs)) / 1000).toFixed(3);
    const r = await runner.run(["ping", "-n", "-q", "-c", "1", "-W", seconds, ip]);
    return r.code === 0 ? undefined : `ping ${ip}: ${r.stderr.trim() || "no reply"}`;
  };

export const httpProbe =
  (get: HttpGet): ProbeFn =>
  async (url, timeoutMs) => {
    const r = await get(url, timeoutMs);
    return "status" in r ? undefined : `GET ${url}: ${r.error}`;
  };

export interface ProbeLoopOptions {
  clock: Clock;
  settings: ProbeSettings;
  probe: ProbeFn;
  random?: () => number;
  /** After every round. */
  onRound(kind: ProbeSettings["kind"], success: boolean): void;
}

export class ProbeLoop {
  readonly state: ProbeState;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly o: ProbeLoopOptions) {
    this.state = { kind: o.settings.kind, timeoutMs: o.settings.timeoutMs };
  }

  start(): void {
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
  }

  private async round(): Promise<void> {
    const { targets, intervalMs } = this.o.settings;
    // One probe may not outlive the interval, so rounds never pile up.
    const perProbe = Math.min(intervalMs, this.o.settings.timeoutMs);
    const results = await Promise.all(targets.map((t) => this.o.probe(t, perProbe).catch((e) => String(e))));
    if (this.stopped) return;
    const success = results.some((r) => r === undefined);
    if (success) this.state.lastSuccessAt = this.o.clock.now();
    else this.state.lastError = results.find((r) => r !== undefined);
    this.timer = this.o.clock.setTimeout(() => void this.round(), jittered(intervalMs, 0.05, this.o.random));
    this.o.onRound(this.o.settings.kind, success);
  }
}
