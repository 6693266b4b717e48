// Publishes one status condition on a stored object (a replica's Pod Ready, an agent's Node
// EgwAgentReady), as a kubelet would. Only written when the condition changes; compare-and-swap
// with a few retries (datastore/read-modify-write): other writers (the controller's annotations,
// the lab runtime's status) win races and we re-apply on top.
import { sameCondition, withCondition, conditionOf, type ConditionUpdate } from "../api/conditions.js";
import { describeRef, type ObjectRef } from "../api/meta.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
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
  const r = await readModifyWrite(
    store,
    ref,
    (current) =>
      sameCondition(conditionOf(current, condition.type), condition)
        ? undefined
        : withCondition(current, condition, now()),
    { attempts },
  );
  if (!r.ok) return err(`cannot update ${what} status: ${r.error.message}`);
  if (r.value.kind === "absent") return err(`cannot update ${what} status: it does not exist`);
  return ok(r.value.kind);
}
