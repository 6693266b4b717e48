// The EgressGateway status (pure): per-replica node, egress IP and readiness, and two conditions:
// Ready (every requested replica serves and is ready) and Degraded (something keeps the gateway
// from its spec: a pool problem, no node, an invalid spec, a failing action).
import type { Condition } from "../api/schemas/common.js";
import type { EgressGatewayStatus } from "../api/schemas/egress.js";
import type { Problem, ReplicaStatus } from "./actions.js";
import { replicaReady } from "./replicas.js";
import type { ReplicaView } from "./views.js";

/** A replica pod as the status lists it. */
export const replicaStatus = (r: ReplicaView): ReplicaStatus => ({
  name: r.name,
  ...(r.node === undefined ? {} : { node: r.node }),
  ...(r.egressIP === undefined ? {} : { egressIP: r.egressIP }),
  ready: replicaReady(r),
});

export interface StatusInput {
  replicas: readonly ReplicaStatus[];
  desired: number;
  live: number;
  ready: number;
  /** Serving replicas still to be replaced (rolling update). */
  outdated?: number;
  problems: readonly Problem[];
}

const readyCondition = (s: StatusInput): Condition => {
  const outdated = s.outdated ?? 0;
  // While replicas are replaced the surge may serve more than spec.replicas.
  const rolling = outdated > 0 ? `; rolling update: ${s.live - outdated}/${s.live} replicas updated` : "";
  const message = `${Math.min(s.ready, s.desired)}/${s.desired} replicas ready${rolling}`;
  if (s.ready >= s.desired && s.live >= s.desired) {
    return {
      type: "Ready",
      status: "True",
      reason: s.desired === 0 ? "ScaledToZero" : outdated > 0 ? "RollingUpdate" : "AllReplicasReady",
      message,
    };
  }
  return {
    type: "Ready",
    status: "False",
    reason: s.live < s.desired ? "ReplicasMissing" : "ReplicasNotReady",
    message,
  };
};

const degradedCondition = (problems: readonly Problem[]): Condition => {
  const first = problems[0];
  if (!first) return { type: "Degraded", status: "False", reason: "AsExpected" };
  return {
    type: "Degraded",
    status: "True",
    reason: first.reason,
    message: problems.map((p) => p.message).join("; "),
  };
};

/** A condition keeps its lastTransitionTime while its status does not change. */
const withTransition = (c: Condition, previous: readonly Condition[], now: string): Condition => {
  const prev = previous.find((p) => p.type === c.type);
  const since = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
  return { ...c, lastTransitionTime: since };
};

export const gatewayStatus = (
  s: StatusInput,
  previous: EgressGatewayStatus | undefined,
  now: string,
): EgressGatewayStatus => {
  const prev = Array.isArray(previous?.conditions) ? previous.conditions : [];
  return {
    replicas: s.replicas.map((r) => ({ ...r })),
    conditions: [readyCondition(s), degradedCondition(s.problems)].map((c) => withTransition(c, prev, now)),
  };
};

/** Status of a gateway whose spec is invalid: its replicas are left as they are. */
export const invalidSpecStatus = (
  messages: readonly string[],
  previous: EgressGatewayStatus | undefined,
  now: string,
): EgressGatewayStatus => {
  const prevReplicas = Array.isArray(previous?.replicas) ? previous.replicas : [];
  const prev = Array.isArray(previous?.conditions) ? previous.conditions : [];
  const conditions: Condition[] = [
    { type: "Ready", status: "Unknown", reason: "InvalidSpec", message: "the spec is invalid" },
    { type: "Degraded", status: "True", reason: "InvalidSpec", message: messages.join("; ") },
  ];
  return { replicas: prevReplicas, conditions: conditions.map((c) => withTransition(c, prev, now)) };
};

/** Same content (JSON), so an unchanged status is not written again. */
export const sameStatus = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
