// Taking replicas out of service (pure). A retired replica drains: the egw.dev/terminating
// annotation carries a deadline `terminationGracePeriodSeconds` ahead, clients stop sending it
// new connections, and the pod is deleted (its IP released) once the deadline passed. With no
// grace period, or when it carries no traffic (not running), it is deleted at once. A replica of
// a deleted gateway drains the same way, for the grace period its pod was created with.
import { DEFAULTS } from "../api/defaults.js";
import type { EgressGateway } from "../api/schemas/egress.js";
import type { ReplicaView } from "./views.js";

/** The gateway's drain time in ms (template.spec.terminationGracePeriodSeconds). */
export const drainGraceMs = (gw: EgressGateway): number => {
  const s =
    gw.spec.template?.spec?.terminationGracePeriodSeconds ??
    DEFAULTS.egressGateway.terminationGracePeriodSeconds;
  return Math.max(0, s) * 1000;
};

/** The deadline a drain starting now writes into the annotation. */
export const drainDeadline = (nowMs: number, graceMs: number): string =>
  new Date(nowMs + graceMs).toISOString();

/** Where a draining replica (its annotation's value) stands at `nowMs`. */
export type DrainProgress =
  | { kind: "unreadable" } // the deadline does not parse: drain again
  | { kind: "finished" } // delete it
  | { kind: "draining"; remainingMs: number };

export const drainProgress = (terminating: string, nowMs: number): DrainProgress => {
  const deadline = Date.parse(terminating);
  if (!Number.isFinite(deadline)) return { kind: "unreadable" };
  if (deadline <= nowMs) return { kind: "finished" };
  return { kind: "draining", remainingMs: deadline - nowMs };
};

/** Running with an address: it may carry connections, so it drains rather than goes at once. */
export const servesTraffic = (r: ReplicaView): boolean => r.phase === "Running" && r.podIP !== undefined;

/** A replica whose gateway is gone: drain it for its own grace period, then delete it. */
export type OrphanStep =
  | { kind: "drain"; started: string; deadline: string }
  | { kind: "delete"; why: string }
  | { kind: "wait"; remainingMs: number };

export const orphanStep = (r: ReplicaView, nowMs: number): OrphanStep => {
  if (r.terminating !== undefined) {
    const p = drainProgress(r.terminating, nowMs);
    if (p.kind === "draining") return { kind: "wait", remainingMs: p.remainingMs };
    if (p.kind === "finished") return { kind: "delete", why: "drain finished" };
  }
  const graceMs = Math.max(0, r.graceSeconds ?? DEFAULTS.egressGateway.terminationGracePeriodSeconds) * 1000;
  if (graceMs === 0 || !servesTraffic(r)) return { kind: "delete", why: "its gateway is gone" };
  return { kind: "drain", started: new Date(nowMs).toISOString(), deadline: drainDeadline(nowMs, graceMs) };
};
