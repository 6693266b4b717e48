// Publishes one status condition on a stored object (a replica's Pod Ready, an agent's Node
// EgwAgentReady), as a kubelet would. Only written when the condition changes; compare-and-swap
// with a few retries: other writers (the controller's annotations, the lab runtime's status) win
// races and we re-apply on top.
import { sameCondition, withCondition, conditionOf, type ConditionUpdate } from "../api/conditions.js";
import { describeRef, type ObjectRef } from "../api/meta.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";

/** Writes `condition` on the object at `ref` unless it already says so. */
export async function publishCondition(
  store: Datastore,
  ref: ObjectRef,
  condition: ConditionUpdate,
  now: () => Date,
  attempts = 3,
): Promise<Result<"written" | "unchanged", string>> {
  const what = describeRef(ref);
  for (let i = 0; i < attempts; i++) {
    const got = await store.get(ref);
    if (!got.ok) return err(`cannot read ${what}: ${got.error.message}`);
    if (sameCondition(conditionOf(got.value, condition.type), condition)) return ok("unchanged");
    const updated = await store.update(withCondition(got.value, condition, now()));
    if (updated.ok) return ok("written");
    if (updated.error.code !== "Conflict")
      return err(`cannot update ${what} status: ${updated.error.message}`);
  }
  return err(`cannot update ${what} status: it kept changing (${attempts} conflicts)`);
}
