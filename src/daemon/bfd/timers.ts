// BFD timer arithmetic (RFC 5880 §6.8.2–§6.8.4, §6.8.7), pure: what a session advertises, which
// intervals are in force while a Poll Sequence carries a change to the peer, how often it sends
// (with jitter) and how long the peer may stay silent. session.ts owns the state and the clock.

/** A session's timers: desired min tx = required min rx = intervalMs; detect mult = multiplier. */
export interface BfdTimers {
  intervalMs: number;
  multiplier: number;
}

/** A pair of intervals in microseconds: ours to send at (tx) and the peer's to send at (rx). */
export interface Intervals {
  txUs: number;
  rxUs: number;
}

/** The intervals in force, and those a running Poll Sequence announced first (undefined: none runs). */
export interface Negotiation {
  effective: Intervals;
  polling: Intervals | undefined;
}

/** RFC 5880 §6.8.3: while not Up, Desired Min TX is at least one second. */
export const SLOW_TX_US = 1_000_000;
/** Intervals travel as 32-bit microseconds. */
export const MAX_INTERVAL_MS = Math.floor(0xffff_ffff / 1000);

/** Why `t` is not a usable timer pair, or undefined when it is. */
export function timersProblem(t: BfdTimers): string | undefined {
  if (!Number.isInteger(t.intervalMs) || t.intervalMs < 1 || t.intervalMs > MAX_INTERVAL_MS)
    return `intervalMs ${t.intervalMs}: must be an integer 1..${MAX_INTERVAL_MS}`;
  if (!Number.isInteger(t.multiplier) || t.multiplier < 1 || t.multiplier > 255)
    return `multiplier ${t.multiplier}: must be an integer 1..255`;
  return undefined;
}

/** What a session puts in its packets: Desired Min TX is slow while not Up (§6.8.3). */
export const advertisedIntervals = (configuredUs: number, up: boolean): Intervals => ({
  txUs: up ? configuredUs : Math.max(SLOW_TX_US, configuredUs),
  rxUs: configuredUs,
});

const same = (a: Intervals, b: Intervals): boolean => a.txUs === b.txUs && a.rxUs === b.rxUs;

/**
 * The advertised intervals became `want`. Outside Up they apply at once (no Poll). While Up, the
 * changes that are safe before the peer knows apply at once (sending faster, expecting packets
 * more slowly); the others (sending more slowly, expecting packets faster) wait for the peer's
 * Final (§6.8.3), and a Poll Sequence starts unless one already runs.
 */
export function negotiate(
  n: Negotiation,
  want: Intervals,
  up: boolean,
): { next: Negotiation; startPoll: boolean } {
  if (!up) return { next: { effective: want, polling: undefined }, startPoll: false };
  if (n.polling === undefined && same(want, n.effective)) return { next: n, startPoll: false };
  const effective = {
    txUs: Math.min(n.effective.txUs, want.txUs),
    rxUs: Math.max(n.effective.rxUs, want.rxUs),
  };
  if (n.polling !== undefined) return { next: { effective, polling: n.polling }, startPoll: false };
  return { next: { effective, polling: want }, startPoll: true };
}

/**
 * The peer answered our Poll with a Final: it knows the intervals that Poll announced first. If
 * they changed again meanwhile, what the peer has not acknowledged stays on the safe side and a
 * new Poll carries the newest values (§6.5).
 */
export function finalReceived(n: Negotiation, want: Intervals): { next: Negotiation; pollAgain: boolean } {
  const acked = n.polling;
  if (acked === undefined) return { next: n, pollAgain: false };
  const effective = { txUs: Math.min(acked.txUs, want.txUs), rxUs: Math.max(acked.rxUs, want.rxUs) };
  if (same(acked, want)) return { next: { effective, polling: undefined }, pollAgain: false };
  return { next: { effective, polling: want }, pollAgain: true };
}

/** The periodic interval (ms): the slower of ours and the peer's Required Min RX; none for 0 (§6.8.3). */
export const txIntervalMs = (effectiveTxUs: number, remoteMinRxUs: number): number | undefined =>
  remoteMinRxUs === 0 ? undefined : Math.max(effectiveTxUs, remoteMinRxUs) / 1000;

/**
 * A periodic transmission interval with §6.8.7 jitter: 75–100 % of `ms`, or 75–90 % when the
 * detect multiplier is 1 (so one late packet cannot cost the session).
 */
export const jitteredTxMs = (ms: number, detectMult: number, random: () => number): number =>
  Math.max(1, Math.floor(ms * (0.75 + (detectMult === 1 ? 0.15 : 0.25) * random())));

/** §6.8.4: the peer's Detect Mult × the slower of our Required Min RX and its Desired Min TX (ms). */
export const detectionTimeMs = (
  remoteDetectMult: number,
  effectiveRxUs: number,
  remoteDesiredMinTxUs: number,
): number => (remoteDetectMult * Math.max(effectiveRxUs, remoteDesiredMinTxUs)) / 1000;
