// Publishes a replica's readiness in its Pod's status.conditions (type Ready), as a kubelet
// would, so `egw get egressgateways` and the controller can show it (see daemon/publish-condition).
import { withCondition, type ConditionUpdate } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { publishCondition } from "../daemon/publish-condition.js";
import type { Datastore } from "../datastore/types.js";
import type { Result } from "../util/result.js";
import type { Readiness } from "./readiness.js";

const readyCondition = (r: Readiness): ConditionUpdate => ({
  type: "Ready",
  status: r.ready ? "True" : "False",
  reason: r.reason,
  message: r.message,
});

/** The pod with its Ready condition set to `r` (other conditions and status fields kept). */
export const withReadyCondition = (pod: Resource, r: Readiness, now: Date): Resource =>
  withCondition(pod, readyCondition(r), now);

/** Writes the condition if the stored pod does not already say so. */
export const publishReadiness = (
  store: Datastore,
  ref: { namespace: string; name: string },
  r: Readiness,
  now: () => Date,
  attempts = 3,
): Promise<Result<"written" | "unchanged", string>> =>
  publishCondition(
    store,
    { kind: "Pod", namespace: ref.namespace, name: ref.name },
    readyCondition(r),
    now,
    attempts,
  );
