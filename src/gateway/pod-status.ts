// Publishes a replica's readiness in its Pod's status.conditions (type Ready), as a kubelet
// would, so `egw get egressgateways` and the controller can show it. Compare-and-swap with a
// few retries: other writers (the controller's annotations, the lab runtime's status) win races
// and we re-apply on top.
import type { Resource } from "../api/meta.js";
import type { Datastore } from "../datastore/types.js";
import { readyConditionOf, type Condition } from "../api/conditions.js";
import { err, ok, type Result } from "../util/result.js";
import type { Readiness } from "./readiness.js";

type PodCondition = Condition;
export { readyConditionOf };

type PodStatus = { conditions?: PodCondition[] } & Record<string, unknown>;

const sameCondition = (c: PodCondition | undefined, r: Readiness): boolean =>
  c !== undefined &&
  c.status === (r.ready ? "True" : "False") &&
  c.reason === r.reason &&
  c.message === r.message;

/** The pod with its Ready condition set to `r` (other conditions and status fields kept). */
export function withReadyCondition(pod: Resource, r: Readiness, now: Date): Resource {
  const status = { ...((pod.status as PodStatus | undefined) ?? {}) };
  const old = readyConditionOf(pod);
  const changedStatus = old?.status !== (r.ready ? "True" : "False");
  const condition: PodCondition = {
    type: "Ready",
    status: r.ready ? "True" : "False",
    reason: r.reason,
    message: r.message,
    lastTransitionTime:
      changedStatus || old?.lastTransitionTime === undefined ? now.toISOString() : old.lastTransitionTime,
  };
  status.conditions = [...(status.conditions ?? []).filter((c) => c?.type !== "Ready"), condition];
  return { ...pod, status };
}

/** Writes the condition if the stored pod does not already say so. */
export async function publishReadiness(
  store: Datastore,
  ref: { namespace: string; name: string },
  r: Readiness,
  now: () => Date,
  attempts = 3,
): Promise<Result<"written" | "unchanged", string>> {
  const what = `Pod ${ref.namespace}/${ref.name}`;
  for (let i = 0; i < attempts; i++) {
    const got = await store.get({ kind: "Pod", namespace: ref.namespace, name: ref.name });
    if (!got.ok) return err(`cannot read ${what}: ${got.error.message}`);
    if (sameCondition(readyConditionOf(got.value), r)) return ok("unchanged");
    const updated = await store.update(withReadyCondition(got.value, r, now()));
    if (updated.ok) return ok("written");
    if (updated.error.code !== "Conflict")
      return err(`cannot update ${what} status: ${updated.error.message}`);
  }
  return err(`cannot update ${what} status: it kept changing (${attempts} conflicts)`);
}
