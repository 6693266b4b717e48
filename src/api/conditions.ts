// Status conditions (Kubernetes' `status.conditions[]`), read defensively from any stored object.
import type { Condition } from "./schemas/common.js";

export type { Condition };

/** What a writer sets: the condition without its transition time (kept or stamped by withCondition). */
export interface ConditionUpdate {
  type: string;
  status: Condition["status"];
  reason?: string;
  message?: string;
}

/** The condition of `type` on the object's status, if present and well-formed enough to have a type. */
export function conditionOf(obj: { status?: unknown }, type: string): Condition | undefined {
  const conditions = (obj.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find(
    (c): c is Condition => typeof c === "object" && c !== null && (c as { type?: unknown }).type === type,
  );
}

/** The Ready condition a gateway replica publishes on its Pod. */
export const readyConditionOf = (pod: { status?: unknown }): Condition | undefined =>
  conditionOf(pod, "Ready");

/** Whether stored condition `a` already says what `b` says (type, status, reason, message). */
export const sameCondition = (a: ConditionUpdate | undefined, b: ConditionUpdate | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.type === b.type &&
  a.status === b.status &&
  a.reason === b.reason &&
  a.message === b.message;

/**
 * A copy of `obj` whose status.conditions has condition `c` (replacing the one of its type); other
 * conditions and status fields are kept. lastTransitionTime stays unless the status value flips.
 */
export function withCondition<T extends { status?: unknown }>(obj: T, c: ConditionUpdate, now: Date): T {
  const status = { ...((obj.status as Record<string, unknown> | undefined) ?? {}) };
  const old = conditionOf(obj, c.type);
  const condition: Condition = {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime:
      old?.status !== c.status || old.lastTransitionTime === undefined
        ? now.toISOString()
        : old.lastTransitionTime,
  };
  const others: unknown[] = Array.isArray(status.conditions)
    ? status.conditions.filter((x: unknown) => (x as { type?: unknown } | null)?.type !== c.type)
    : [];
  status.conditions = [...others, condition];
  return { ...obj, status };
}
