// Orphans (pure): replica pods and IP allocations whose EgressGateway no longer exists, and what
// becomes of them (they drain like any retired replica; drain.ts).
import type { ReplicaAction } from "./actions.js";
import { orphanStep } from "./drain.js";
import { gatewayKey, type AllocationView, type ReplicaView } from "./views.js";

export interface OrphansInput {
  /** Keys (`namespace/name`) of the gateways that exist. */
  gateways: ReadonlySet<string>;
  /** Every pod that carries an owner annotation, with its owner key. */
  replicaPods: readonly { namespace: string; name: string; owner: string }[];
  allocations: readonly AllocationView[];
}

export interface Orphans {
  pods: { namespace: string; name: string; owner: string }[];
  allocations: AllocationView[];
}

export const findOrphans = (input: OrphansInput): Orphans => ({
  // A pod outside its owner's namespace was not made by the controller: left alone.
  pods: input.replicaPods.filter(
    (p) => !input.gateways.has(p.owner) && p.owner.startsWith(`${p.namespace}/`),
  ),
  allocations: input.allocations.filter(
    (a) => !input.gateways.has(gatewayKey(a.owner.namespace, a.owner.gateway)),
  ),
});

/**
 * What becomes of one deleted gateway's replica pods and IP allocations: each replica drains for
 * the grace period its pod was created with and is deleted after it (releasing its IP), so its
 * clients' connections end as on a scale-down; an allocation no pod holds is released at once.
 */
export const retireRemains = (o: {
  replicas: readonly ReplicaView[];
  /** The allocations of that gateway. */
  allocations: readonly AllocationView[];
  nowMs: number;
}): { actions: ReplicaAction[]; requeueAfterMs?: number } => {
  const actions: ReplicaAction[] = [];
  const wakeups: number[] = [];
  const reason = "its gateway was deleted";
  for (const r of o.replicas) {
    const step = orphanStep(r, o.nowMs);
    if (step.kind === "wait") wakeups.push(step.remainingMs);
    else if (step.kind === "drain") {
      actions.push({
        type: "drain",
        replica: r.name,
        started: step.started,
        deadline: step.deadline,
        reason,
      });
      wakeups.push(Math.max(0, Date.parse(step.deadline) - o.nowMs));
    } else {
      const release = o.allocations.filter((a) => a.owner.replica === r.name);
      actions.push({ type: "delete", replica: r.name, release, reason: `${step.why}: ${reason}` });
    }
  }
  const withPod = new Set(o.replicas.map((r) => r.name));
  for (const a of o.allocations)
    if (!withPod.has(a.owner.replica)) actions.push({ type: "release", allocation: a, reason });
  return wakeups.length > 0 ? { actions, requeueAfterMs: Math.min(...wakeups) } : { actions };
};
