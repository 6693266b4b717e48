// Status conditions (Kubernetes' `status.conditions[]`), read defensively from any stored object.
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
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
