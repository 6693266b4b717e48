// Taking replicas out of service (pure). A retired replica drains: the egw.dev/terminating
// annotation carries a deadline `terminationGracePeriodSeconds` ahead, clients stop sending it
// new connections, and the pod is deleted (its IP released) once the deadline passed. With no
// grace period it is deleted at once. A scale-down retires the highest indices first.
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

/** The serving replicas a scale-down to `desired` retires (`live` in index order): the highest. */
export const scaleDownRetirees = (live: readonly ReplicaView[], desired: number): Set<ReplicaView> => {
  const surplus = Math.max(0, live.length - desired);
  return new Set([...live].reverse().slice(0, surplus));
};
