// Time as a port: the daemons' state machines take a Clock, so tests drive them with a fake one.
import type { Result } from "../util/result.js";

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

/** A repeating timer; stop() ends it. */
export interface Periodic {
  stop(): void;
}

/**
 * Calls `fn` every `ms` on `clock` until stopped. Each tick re-arms after `fn` returns, and
 * clears the previous timer first, so at most one is ever pending.
 */
export function periodic(clock: Clock, ms: number, fn: () => void): Periodic {
  let timer: TimerHandle | undefined;
  let stopped = false;
  const arm = (): void => {
    clock.clearTimeout(timer);
    if (stopped) return;
    timer = clock.setTimeout(() => {
      fn();
      arm();
    }, ms);
  };
  arm();
  return {
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

export interface RetryOptions<E> {
  sleeper: Sleeper;
  /** First delay after a failure; doubles after each further failure, up to maxMs. */
  firstMs: number;
  maxMs: number;
  /** Checked before every attempt: true ends the loop (e.g. on stop). */
  stopped: () => boolean;
  /** Called after each failed attempt, before sleeping `retryInMs`. */
  onError: (error: E, retryInMs: number) => void;
}

/** Runs `attempt` until it succeeds or `stopped()` says so, with exponential backoff in between. */
export async function retryUntilOk<E>(
  attempt: () => Promise<Result<unknown, E>>,
  o: RetryOptions<E>,
): Promise<void> {
  for (let delay = o.firstMs; !o.stopped(); delay = Math.min(delay * 2, o.maxMs)) {
    const r = await attempt();
    if (r.ok) return;
    o.onError(r.error, delay);
    await o.sleeper.sleep(delay);
  }
}
