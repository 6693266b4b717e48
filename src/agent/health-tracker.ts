// Client-side bookkeeping of gateway replica health (as Calico's Felix does it): a replica is
// down after `failureThreshold` consecutive failed polls, up again after one success, and
// unknown until polled (calc treats unknown as up, so a restart does not black-hole traffic; the
// agent holds a replica down instead where it has evidence, see health-seed.ts).

export type Health = boolean | undefined;

export class HealthTracker {
  private readonly failures = new Map<string, number>();
  private readonly states = new Map<string, boolean>();

  constructor(private readonly failureThreshold: number) {}

  /** Records one poll result; returns the new state if it changed, else "unchanged". */
  record(key: string, success: boolean): Health | "unchanged" {
    const before = this.states.get(key);
    if (success) {
      this.failures.set(key, 0);
      this.states.set(key, true);
      return before === true ? "unchanged" : true;
    }
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    if (n < this.failureThreshold || before === false) return "unchanged";
    this.states.set(key, false);
    return false;
  }

  state(key: string): Health {
    return this.states.get(key);
  }

  forget(key: string): void {
    this.failures.delete(key);
    this.states.delete(key);
  }

  /** Replicas by state, for metrics. */
  counts(keys: Iterable<string>): { up: number; down: number; unknown: number } {
    const c = { up: 0, down: 0, unknown: 0 };
    for (const k of keys) {
      const s = this.states.get(k);
      if (s === true) c.up++;
      else if (s === false) c.down++;
      else c.unknown++;
    }
    return c;
  }
}
