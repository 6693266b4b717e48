// Turns bursts of triggers into one run of an async job: the first trigger schedules the job
// `delayMs` later, triggers meanwhile join that run, and a trigger during a run schedules exactly
// one more. Runs never overlap. An urgent trigger skips the delay.
import type { Clock, TimerHandle } from "./clock.js";

export class Coalescer {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private dirtyUrgent = false;
  private timerUrgent = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly job: () => Promise<void>,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  /**
   * Schedules a run. `urgent` runs it without the delay (at once, or right after the run in
   * progress): for changes that must not wait for a burst to gather, such as a failover.
   */
  trigger(urgent = false): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.dirty = true;
      this.dirtyUrgent ||= urgent;
      return;
    }
    if (this.timer !== undefined) {
      if (!urgent || this.timerUrgent) return;
      this.clock.clearTimeout(this.timer);
    }
    this.timerUrgent = urgent;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.fire();
      },
      urgent ? 0 : this.delayMs,
    );
  }

  /** True while a run is scheduled or in progress. */
  get busy(): boolean {
    return this.timer !== undefined || this.running !== undefined;
  }

  /** Cancels a scheduled run and waits for the current one. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private fire(): void {
    this.dirty = false;
    this.running = (async () => {
      try {
        await this.job();
      } catch (e) {
        this.onError(e);
      }
    })();
    void this.running.then(() => {
      this.running = undefined;
      if (this.dirty) {
        const urgent = this.dirtyUrgent;
        this.dirty = false;
        this.dirtyUrgent = false;
        this.trigger(urgent);
      }
    });
  }
}
