// A work queue keyed by string: adding a key that is already waiting does nothing (coalescing),
// one key is never handled twice at once (a key added while it runs is handled again after), and
// up to `concurrency` different keys run in parallel. The handler must not throw; if it does, the
// error is swallowed so the queue keeps going. Delayed keys wait on the daemon Clock.
import type { Clock, TimerHandle } from "../daemon/clock.js";

export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly pendingSet = new Set<string>();
  private readonly running = new Set<string>();
  private readonly rerun = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly handler: (key: string) => Promise<void>,
    private readonly concurrency = 4,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.rerun.add(key);
      return;
    }
    if (this.pendingSet.has(key)) return;
    this.pendingSet.add(key);
    this.pending.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending wake-up for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + Math.max(0, ms);
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, at - this.clock.now());
    this.delayed.set(key, { at, timer });
  }

  /** Resolves once nothing is waiting or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work, drops delayed keys and waits for running handlers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.timer);
    this.delayed.clear();
    this.pending.length = 0;
    this.pendingSet.clear();
    this.rerun.clear();
    await Promise.all([...this.inFlight]);
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.running.size === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency) {
      const key = this.pending.shift();
      if (key === undefined) break;
      this.pendingSet.delete(key);
      this.running.add(key);
      const job = this.runOne(key);
      this.inFlight.add(job);
      void job.finally(() => this.inFlight.delete(job));
    }
    this.notifyIdle();
  }

  private async runOne(key: string): Promise<void> {
    try {
      await this.handler(key);
    } catch {
      // the handler logs its own failures
    }
    this.running.delete(key);
    if (this.rerun.delete(key)) this.add(key);
    this.pump();
  }
}
