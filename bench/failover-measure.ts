// What one failover round measured (pure): from the client's connection and stream records and
// the fault's time, the new-connection outage, the failed connections, and the streams broken
// where they should not be; plus when a round has seen enough to stop watching, and the
// per-scenario summary. All times are epoch ms from the same clock (one machine).
import type { ConnRecord, StreamRecord } from "../src/lab/testing/failover-client.js";
import { percentile } from "./report.js";

/**
 * Connections started this long before the fault still count as the fault's: one in flight when
 * the fault hits fails because of it.
 */
export const LOOKBACK_MS = 1000;

/**
 * A connection that took longer than this failed too, for the client: its first SYN was lost and
 * the kernel's first retransmission (after 1 s) found a path again, e.g. after the failover
 * pinned the retried SYN to another replica. Lab connections otherwise take milliseconds.
 */
export const SLOW_MS = 900;

/** Failed, or answered only after a retransmission. */
export const impaired = (c: ConnRecord): boolean => !c.ok || c.end - c.start > SLOW_MS;

export interface RoundInput {
  faultAt: number;
  conns: readonly ConnRecord[];
  streams: readonly StreamRecord[];
  /** The egress IP of the replica the fault hit. */
  victimIP: string;
  /** Drain only: the end of the grace period; streams on the victim were ended cleanly before it. */
  graceEndsAt?: number;
  /** The watch stopped before the outage was seen to end (the outage is a lower bound). */
  censored: boolean;
}

export interface RoundResult {
  /** Fault → start of the last failed connection (0 when none failed). */
  outageMs: number;
  censored: boolean;
  /** Connections started from LOOKBACK_MS before the fault on that failed (or were slow). */
  failed: number;
  /** Of those, the ones that did get an answer, after SLOW_MS. */
  slow: number;
  /** Failures earlier than that: noise the fault cannot explain (should be 0). */
  failedBefore: number;
  conns: number;
  /** Streams connected through a replica the fault did not hit, and how many of them broke. */
  survivorStreams: number;
  survivorBroken: number;
  /** Drain only: connections through the victim that ended within the grace period, and how many broke. */
  graceEnded?: number;
  graceBroken?: number;
}

const finals = (streams: readonly StreamRecord[]): Map<number, StreamRecord> =>
  new Map(streams.filter((s) => s.event !== "connected").map((s) => [s.id, s]));

export const measureRound = (i: RoundInput): RoundResult => {
  const from = i.faultAt - LOOKBACK_MS;
  const failures = i.conns.filter(impaired);
  const counted = failures.filter((c) => c.start >= from);
  const lastFailure = Math.max(i.faultAt, ...counted.map((c) => c.start));
  const sources = new Map(
    i.streams.flatMap((s) => (s.event === "connected" ? [[s.id, s.source] as const] : [])),
  );
  const ends = finals(i.streams);
  const survivors = [...sources].filter(([, ip]) => ip !== i.victimIP).map(([id]) => id);
  const r: RoundResult = {
    outageMs: lastFailure - i.faultAt,
    censored: i.censored,
    failed: counted.length,
    slow: counted.filter((c) => c.ok).length,
    failedBefore: failures.length - counted.length,
    conns: i.conns.filter((c) => c.start >= from).length,
    survivorStreams: survivors.length,
    survivorBroken: survivors.filter((id) => ends.get(id)?.event === "error").length,
  };
  if (i.graceEndsAt !== undefined) {
    const graceEnd = i.graceEndsAt;
    // Through the draining replica and over before the deadline: the streams it carried, and
    // short connections that were open when the drain began.
    const victimStreams = [...sources]
      .filter(([, ip]) => ip === i.victimIP)
      .map(([id]) => ends.get(id))
      .filter((e): e is StreamRecord => e !== undefined && e.at <= graceEnd);
    const inFlight = i.conns.filter((c) => c.start < i.faultAt && c.end > i.faultAt && c.end <= graceEnd);
    r.graceEnded = victimStreams.length + inFlight.length;
    r.graceBroken =
      victimStreams.filter((e) => e.event === "error").length + inFlight.filter((c) => !c.ok).length;
  }
  return r;
};

export interface WatchSettings {
  /** Watch at least this long after the fault. */
  minMs: number;
  /** ... and at most this long (then the round is censored). */
  maxMs: number;
  /** Done once this long passed without a failure, with at least `minSuccesses` successes in it. */
  quietMs: number;
  minSuccesses: number;
  /** The client's connection timeout: a connection started later than now minus this may not have reported yet. */
  timeoutMs: number;
}

export type WatchVerdict = "watching" | "recovered" | "censored";

/** Whether a round has seen the outage end, judged only on connections that must have reported by `now`. */
export const watchVerdict = (
  now: number,
  faultAt: number,
  conns: readonly ConnRecord[],
  w: WatchSettings,
): WatchVerdict => {
  const elapsed = now - faultAt;
  const horizon = now - w.timeoutMs - 200;
  const known = conns.filter((c) => c.start >= faultAt - LOOKBACK_MS && c.start <= horizon);
  const lastFailure = Math.max(faultAt, ...known.filter(impaired).map((c) => c.start));
  const successesSince = known.filter((c) => !impaired(c) && c.start > lastFailure).length;
  if (elapsed >= w.minMs && horizon - lastFailure >= w.quietMs && successesSince >= w.minSuccesses)
    return "recovered";
  return elapsed >= w.maxMs ? "censored" : "watching";
};

/** Whether the client is in a steady state before a fault: every replica answering, nothing failing. */
export const steady = (
  now: number,
  conns: readonly ConnRecord[],
  egressIPs: readonly string[],
  windowMs: number,
): boolean => {
  const recent = conns.filter((c) => c.end >= now - windowMs);
  const seen = new Set(recent.filter((c) => c.ok).map((c) => c.ip));
  return recent.length >= 5 && !recent.some(impaired) && egressIPs.every((ip) => seen.has(ip));
};

export interface ScenarioSummary {
  rounds: number;
  censored: number;
  outageP50: number;
  outageP99: number;
  outageMax: number;
  failed: number;
  slow: number;
  failedBefore: number;
  conns: number;
  survivorStreams: number;
  survivorBroken: number;
  graceEnded?: number;
  graceBroken?: number;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export const summarize = (rounds: readonly RoundResult[]): ScenarioSummary => {
  const outages = rounds.map((r) => r.outageMs);
  const s: ScenarioSummary = {
    rounds: rounds.length,
    censored: rounds.filter((r) => r.censored).length,
    outageP50: percentile(outages, 50),
    outageP99: percentile(outages, 99),
    outageMax: percentile(outages, 100),
    failed: sum(rounds.map((r) => r.failed)),
    slow: sum(rounds.map((r) => r.slow)),
    failedBefore: sum(rounds.map((r) => r.failedBefore)),
    conns: sum(rounds.map((r) => r.conns)),
    survivorStreams: sum(rounds.map((r) => r.survivorStreams)),
    survivorBroken: sum(rounds.map((r) => r.survivorBroken)),
  };
  const grace = rounds.filter((r) => r.graceEnded !== undefined);
  if (grace.length > 0) {
    s.graceEnded = sum(grace.map((r) => r.graceEnded ?? 0));
    s.graceBroken = sum(grace.map((r) => r.graceBroken ?? 0));
  }
  return s;
};
