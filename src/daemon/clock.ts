// Time as a port: the daemons' state machines take a Clock, so tests drive them with a fake one.
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** The real clock (Node timers). */
export function systemClock(): Clock {
  let next = 1;
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, ms),
      );
      return { id };
    },
    clearTimeout(handle) {
      if (handle === undefined) return;
      const t = timers.get(handle.id);
      if (t !== undefined) clearTimeout(t);
      timers.delete(handle.id);
    },
  };
}

/** `base` spread by ±fraction (e.g. 0.05 → 95–105 %), so many clients do not poll in lockstep. */
export const jittered = (base: number, fraction: number, random: () => number = Math.random): number =>
  Math.max(1, Math.round(base * (1 - fraction + 2 * fraction * random())));

/** Sleeps on a Clock; wake() ends the current sleep early (used on stop). */
export class Sleeper {
  private wakeCurrent: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.clock.clearTimeout(timer);
        if (this.wakeCurrent === wake) this.wakeCurrent = undefined;
        resolve();
      };
      const timer = this.clock.setTimeout(wake, ms);
      this.wakeCurrent = wake;
    });
  }

  wake(): void {
    this.wakeCurrent?.();
  }
}
