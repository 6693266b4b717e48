// Turns bursts of triggers into one run of an async job: the first trigger schedules the job
// `delayMs` later, triggers meanwhile join that run, and a trigger during a run schedules exactly
// one more. Runs never overlap.
import type { Clock, TimerHandle } from "./clock.js";

export class Coalescer {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly job: () => Promise<void>,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  trigger(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.dirty = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, this.delayMs);
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
        this.dirty = false;
        this.trigger();
      }
    });
  }
}
