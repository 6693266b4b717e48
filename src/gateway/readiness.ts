// A replica's readiness (pure): ready only when it is not fenced, its dataplane is applied, it is not draining,
// every configured probe kind (ICMP, HTTP) had a success within its timeout, and its publish-before-use
// time (egress.egw.dev/usableAfter) has passed. Calico's
// defaults: ICMP every 5 s / 15 s timeout, HTTP every 10 s / 30 s.

/** The EgressGateway's spec.failureDetection, as the gateway reads it. */
export interface FailureDetectionInput {
  readonly icmpProbe?: {
    readonly ips?: readonly string[];
    readonly intervalMs?: number;
    readonly timeoutMs?: number;
  };
  readonly httpProbe?: {
    readonly urls?: readonly string[];
    readonly intervalMs?: number;
    readonly timeoutMs?: number;
  };
}

export type ProbeKind = "icmp" | "http";

export interface ProbeSettings {
  kind: ProbeKind;
  targets: string[];
  intervalMs: number;
  /** Not ready after this long without a success (never below the interval). */
  timeoutMs: number;
}

const DEFAULTS: Record<ProbeKind, { intervalMs: number; timeoutMs: number }> = {
  icmp: { intervalMs: 5000, timeoutMs: 15_000 },
  http: { intervalMs: 10_000, timeoutMs: 30_000 },
};

const positive = (v: number | undefined, fallback: number): number =>
  v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;

export function probeSettings(fd: FailureDetectionInput | undefined): ProbeSettings[] {
  const out: ProbeSettings[] = [];
  const add = (
    kind: ProbeKind,
    p: { intervalMs?: number; timeoutMs?: number } | undefined,
    targets: readonly string[] | undefined,
  ): void => {
    if (p === undefined || targets === undefined || targets.length === 0) return;
    const intervalMs = positive(p.intervalMs, DEFAULTS[kind].intervalMs);
    const timeoutMs = Math.max(positive(p.timeoutMs, DEFAULTS[kind].timeoutMs), intervalMs);
    out.push({ kind, targets: [...targets], intervalMs, timeoutMs });
  };
  add("icmp", fd?.icmpProbe, fd?.icmpProbe?.ips);
  add("http", fd?.httpProbe, fd?.httpProbe?.urls);
  return out;
}

export interface ProbeState {
  kind: ProbeKind;
  timeoutMs: number;
  lastSuccessAt?: number;
  lastError?: string;
}

export interface ReadinessInput {
  applied: boolean;
  /** Why the dataplane is not applied. */
  applyError?: string;
  draining: boolean;
  /** Why the replica fenced itself (fence.ts), while it is fenced. */
  fenced?: string;
  probes: readonly ProbeState[];
  now: number;
  /**
   * Publish before use: not ready before this time (ms since the epoch), so firewalls polling the
   * feeds that list this replica's egress IP have it before any client sends through it.
   */
  usableAfter?: number;
}

export type ReadinessReason =
  "Ready" | "Fenced" | "Draining" | "DataplaneNotApplied" | "ProbeFailed" | "WaitingForFeeds";

export interface Readiness {
  ready: boolean;
  reason: ReadinessReason;
  message: string;
}

export function evaluateReadiness(i: ReadinessInput): Readiness {
  if (i.fenced !== undefined) return { ready: false, reason: "Fenced", message: i.fenced };
  if (i.draining)
    return { ready: false, reason: "Draining", message: "the replica is terminating; no new flows" };
  if (!i.applied)
    return {
      ready: false,
      reason: "DataplaneNotApplied",
      message: i.applyError ?? "the dataplane is not applied yet",
    };
  for (const p of i.probes) {
    if (p.lastSuccessAt !== undefined && i.now - p.lastSuccessAt <= p.timeoutMs) continue;
    const since = p.lastSuccessAt === undefined ? "yet" : `in the last ${p.timeoutMs} ms`;
    const last = p.lastError === undefined ? "" : ` (last error: ${p.lastError})`;
    return {
      ready: false,
      reason: "ProbeFailed",
      message: `no ${p.kind.toUpperCase()} probe succeeded ${since}${last}`,
    };
  }
  if (i.usableAfter !== undefined && i.now < i.usableAfter)
    return {
      ready: false,
      reason: "WaitingForFeeds",
      message: `firewall feeds list the egress IP; usable after ${new Date(i.usableAfter).toISOString()} (publishDelaySeconds)`,
    };
  const probed = i.probes.map((p) => p.kind.toUpperCase()).join(" and ");
  return {
    ready: true,
    reason: "Ready",
    message: probed === "" ? "dataplane applied" : `dataplane applied, ${probed} probes pass`,
  };
}
