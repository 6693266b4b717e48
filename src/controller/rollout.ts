// Replacing replicas (pure): a rolling update within the gateway's spec.strategy.rollingUpdate.
// Serving replicas are current (made from the current template, on a node that fits, with an IP
// in the pools) or outdated (why not); this decides, for one pass, which replicas drain and how
// many new ones to create: new replicas first (up to maxSurge beyond spec.replicas), an old one
// drains only while at least spec.replicas − maxUnavailable replicas stay available. A scale-down
// is the same decision with fewer replicas wanted.
//
// "Available" is stricter than Ready: a replica counts once its Ready condition has held for the
// settle time, because clients admit a new replica only after their liveness check saw it up and
// its hold-down passed; draining the old one earlier would leave them without a usable replica.
// A replica that is Ready but still settling is neither: clients may already send through it, so
// it is not drained for free like one that is not Ready; an outdated one waits until it settles.
// It does not place replicas, allocate IPs or carry anything out (gateway-actions.ts, execute.ts).
import { DEFAULTS } from "../api/defaults.js";
import type { EgressGateway } from "../api/schemas/egress.js";
import { replicaReady } from "./replicas.js";
import type { ReplicaView } from "./views.js";

export interface RollingLimits {
  maxSurge: number;
  maxUnavailable: number;
}

export const rollingLimits = (gw: EgressGateway): RollingLimits => {
  const r = gw.spec.strategy?.rollingUpdate;
  const d = DEFAULTS.egressGateway.rollingUpdate;
  const maxSurge = Math.max(0, r?.maxSurge ?? d.maxSurge);
  const maxUnavailable = Math.max(0, r?.maxUnavailable ?? d.maxUnavailable);
  // Both 0 is rejected at apply; a stored one still makes progress by surging.
  return maxSurge === 0 && maxUnavailable === 0
    ? { maxSurge: 1, maxUnavailable: 0 }
    : { maxSurge, maxUnavailable };
};

/** For the clients' agents to apply the change after they judged the replica up. */
const APPLY_MARGIN_MS = 1000;

/**
 * How long a replica must have been Ready before it counts as available: the clients' detection
 * time plus their hold-down (spec.failureDetection.liveness, else its defaults) plus a margin for
 * applying it.
 */
export const settleMs = (gw: EgressGateway): number => {
  const l = { ...DEFAULTS.egressGateway.liveness, ...gw.spec.failureDetection?.liveness };
  return l.intervalMs * l.multiplier + l.holdDownMs + APPLY_MARGIN_MS;
};

/**
 * available: Ready for the settle time; settling: Ready, not settled yet; unavailable: not Ready
 * (no client can be sending through it).
 */
export type Availability = "available" | "settling" | "unavailable";

/** `r`'s availability at `nowMs`; when settling, how long until it is available. */
export const availability = (
  r: ReplicaView,
  nowMs: number,
  settle: number,
): { state: Availability; inMs?: number } => {
  if (!replicaReady(r)) return { state: "unavailable" };
  // Without a transition time there is nothing to wait from (a pod written by another tool).
  if (r.readySinceMs === undefined) return { state: "available" };
  const wait = r.readySinceMs + settle - nowMs;
  return wait <= 0 ? { state: "available" } : { state: "settling", inMs: wait };
};

export interface Outdated {
  replica: ReplicaView;
  why: string;
}

export interface RolloutInput {
  desired: number;
  limits: RollingLimits;
  /** Current serving replicas, in index order. */
  current: readonly ReplicaView[];
  /** Outdated serving replicas, in index order. */
  outdated: readonly Outdated[];
  availabilityOf: (r: ReplicaView) => Availability;
}

export interface RolloutDecision {
  /** Replicas to drain now, with why. */
  retire: Outdated[];
  /** How many new (current) replicas to create now. */
  create: number;
  /** Replicas that keep serving: current first, then outdated, each in index order. */
  current: ReplicaView[];
  outdated: ReplicaView[];
}

export const planRollout = (i: RolloutInput): RolloutDecision => {
  const n = Math.max(0, i.desired);
  const retire: Outdated[] = [];

  const isAvailable = (r: ReplicaView): boolean => i.availabilityOf(r) === "available";
  // Surplus current replicas (a scale-down): keep the available ones, then the settling ones,
  // then the lowest indices.
  const RANK: Record<Availability, number> = { available: 0, settling: 1, unavailable: 2 };
  const rank = (r: ReplicaView): number => RANK[i.availabilityOf(r)];
  const byIndex = new Map(i.current.map((r, k) => [r, k]));
  const keep = [...i.current].sort(
    (a, b) => rank(a) - rank(b) || (byIndex.get(a) ?? 0) - (byIndex.get(b) ?? 0),
  );
  const current = new Set(keep.slice(0, n));
  for (const r of [...i.current].reverse())
    if (!current.has(r)) retire.push({ replica: r, why: `scale down to ${n} replicas` });

  // Outdated replicas leave least available first, then from the highest index.
  const leaving = [...i.outdated].reverse().sort((a, b) => rank(b.replica) - rank(a.replica));
  const old = new Set(leaving);
  const drain = (o: Outdated, why = o.why): void => {
    old.delete(o);
    retire.push({ replica: o.replica, why });
  };
  // Never more than spec.replicas + maxSurge serving (a scale-down during a rollout).
  for (const o of leaving)
    if (current.size + old.size > n + i.limits.maxSurge) drain(o, `${o.why}; scale down to ${n} replicas`);
  // Then as far as availability allows: one that is not Ready costs nothing; a settling one
  // waits (it may carry connections already and is available within the settle time).
  const minAvailable = n - i.limits.maxUnavailable;
  let available =
    [...current].filter(isAvailable).length + [...old].filter((o) => isAvailable(o.replica)).length;
  for (const o of [...old]) {
    const state = i.availabilityOf(o.replica);
    if (state === "unavailable") drain(o);
    else if (state === "available" && available - 1 >= minAvailable) {
      drain(o);
      available -= 1;
    }
  }

  const create = Math.max(0, Math.min(n - current.size, n + i.limits.maxSurge - current.size - old.size));
  const inIndexOrder = <T>(all: readonly T[], kept: ReadonlySet<T>): T[] => all.filter((x) => kept.has(x));
  return {
    retire,
    create,
    current: inIndexOrder(i.current, current),
    outdated: inIndexOrder(i.outdated, old).map((o) => o.replica),
  };
};
