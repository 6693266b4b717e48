// Pure decisions behind `egw apply`: namespace defaulting, and create / update / unchanged per object.
import { kindInfo } from "../api/kinds.js";
import type { Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Structural equality, independent of key order. */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
    );
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
};

/** An absent map and an empty one mean the same. */
const sameMap = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean =>
  deepEqual(a ?? {}, b ?? {});

/** Everything beside metadata and status: spec, or a Secret's type, data and stringData. */
const userFields = (r: Resource): Record<string, unknown> => {
  const { metadata: _metadata, status: _status, ...rest } = r;
  return rest;
};

/** What apply compares: the user-owned parts, never status or server-set metadata. */
export const sameContent = (desired: Resource, stored: Resource): boolean =>
  deepEqual(userFields(desired), userFields(stored)) &&
  sameMap(desired.metadata.labels, stored.metadata.labels) &&
  sameMap(desired.metadata.annotations, stored.metadata.annotations);

/**
 * Gives namespaced objects without `metadata.namespace` the CLI's namespace. With an explicit -n,
 * an object naming another namespace is an error (as kubectl does). Input is unvalidated.
 */
export const withNamespace = (
  value: unknown,
  namespace: string,
  explicit: boolean,
): Result<unknown, string> => {
  if (!isRecord(value) || typeof value.kind !== "string" || !kindInfo(value.kind)?.namespaced)
    return ok(value);
  const meta = value.metadata;
  if (!isRecord(meta)) return ok(value);
  if (meta.namespace === undefined) return ok({ ...value, metadata: { ...meta, namespace } });
  if (explicit && meta.namespace !== namespace) {
    return err(
      `${value.kind} ${String(meta.name)}: metadata.namespace "${String(meta.namespace)}" does not match ` +
        `-n "${namespace}"; drop -n or use -n ${String(meta.namespace)}`,
    );
  }
  return ok(value);
};

export type ApplyStep =
  { action: "create"; object: Resource } | { action: "update"; object: Resource } | { action: "unchanged" };

/** The object to create: server-owned fields (status, uid, resourceVersion, timestamps) left out. */
const forCreate = (desired: Resource): Resource => {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ts, ...metadata } = desired.metadata;
  const { status: _status, ...rest } = desired;
  return { ...rest, metadata };
};

/**
 * Decides what apply does with one validated object given what is stored. An update keeps the
 * stored status, uid and creation time, and carries a resourceVersion for compare-and-swap: the one
 * from the file if the user gave one (their edit was based on it), else the stored one.
 */
export const planApply = (desired: Resource, stored: Resource | undefined): ApplyStep => {
  if (!stored) return { action: "create", object: forCreate(desired) };
  if (sameContent(desired, stored)) return { action: "unchanged" };
  const metadata = {
    ...desired.metadata,
    uid: stored.metadata.uid,
    creationTimestamp: stored.metadata.creationTimestamp,
    resourceVersion: desired.metadata.resourceVersion ?? stored.metadata.resourceVersion,
  };
  for (const k of ["uid", "creationTimestamp", "resourceVersion"] as const) {
    if (metadata[k] === undefined) delete metadata[k];
  }
  const { status: _ignored, ...rest } = desired;
  const object: Resource = { ...rest, metadata };
  if (stored.status !== undefined) object.status = stored.status;
  return { action: "update", object };
};
