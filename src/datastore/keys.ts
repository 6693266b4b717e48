// Key layout and ref checks shared by the backends (pure).
//   <root>/<Kind>/<namespace>/<name>   namespaced kinds
//   <root>/<Kind>/_/<name>             cluster kinds ("_" is not a valid DNS-1123 namespace)
// so one kind, or one kind in one namespace, is a single prefix range.
import { describeRef, type ObjectRef } from "../api/meta.js";
import { kindInfo, KINDS } from "../api/kinds.js";
import { err, ok, type Result } from "../util/result.js";
import { DatastoreError } from "./types.js";

export const DEFAULT_ROOT = "/egw/v1";
export const CLUSTER_SCOPE = "_";

/** A ref whose kind is known and whose namespace matches the kind's scope. */
export interface CheckedRef {
  kind: string;
  namespace?: string;
  name: string;
}

const invalid = (msg: string): Result<never, DatastoreError> => err(new DatastoreError("Invalid", msg));

const knownKinds = (): string => KINDS.map((k) => k.kind).join(", ");

/** Segments must be non-empty and may not contain "/" (they become key path segments). */
const badSegment = (s: string): boolean => s.length === 0 || s.includes("/");

/**
 * Checks a ref against the kind table. Cluster kinds ignore a namespace (as kubectl does);
 * namespaced kinds require one.
 */
export const checkRef = (ref: ObjectRef): Result<CheckedRef, DatastoreError> => {
  const info = kindInfo(ref.kind);
  if (!info) return invalid(`unknown kind "${ref.kind}"; valid kinds: ${knownKinds()}`);
  if (typeof ref.name !== "string" || badSegment(ref.name)) {
    return invalid(
      `${ref.kind}: metadata.name ${JSON.stringify(ref.name)} must be non-empty and contain no "/"`,
    );
  }
  if (!info.namespaced) return ok({ kind: info.kind, name: ref.name });
  if (ref.namespace === undefined || badSegment(ref.namespace)) {
    return invalid(
      `${describeRef(ref)}: metadata.namespace ${JSON.stringify(ref.namespace ?? "")} must be set (non-empty, no "/") for the namespaced kind ${info.kind}`,
    );
  }
  return ok({ kind: info.kind, namespace: ref.namespace, name: ref.name });
};

/** Checks a kind and optional namespace for list/watch; a namespace on a cluster kind is ignored. */
export const checkScope = (
  kind: string | undefined,
  namespace: string | undefined,
): Result<{ kind?: string; namespace?: string }, DatastoreError> => {
  if (kind === undefined) {
    if (namespace !== undefined && badSegment(namespace))
      return invalid(`invalid namespace ${JSON.stringify(namespace)}`);
    return ok(namespace === undefined ? {} : { namespace });
  }
  const info = kindInfo(kind);
  if (!info) return invalid(`unknown kind "${kind}"; valid kinds: ${knownKinds()}`);
  if (!info.namespaced || namespace === undefined) return ok({ kind: info.kind });
  if (badSegment(namespace)) return invalid(`invalid namespace ${JSON.stringify(namespace)}`);
  return ok({ kind: info.kind, namespace });
};

export const objectKey = (root: string, ref: CheckedRef): string =>
  `${root}/${ref.kind}/${ref.namespace ?? CLUSTER_SCOPE}/${ref.name}`;

/** Prefix covering a kind (and namespace), or everything under root when kind is undefined. */
export const scopePrefix = (root: string, scope: { kind?: string; namespace?: string }): string => {
  if (scope.kind === undefined) return `${root}/`;
  if (scope.namespace === undefined) return `${root}/${scope.kind}/`;
  return `${root}/${scope.kind}/${scope.namespace}/`;
};

/** Inverse of objectKey; undefined for keys outside the layout. */
export const parseKey = (root: string, key: string): CheckedRef | undefined => {
  if (!key.startsWith(`${root}/`)) return undefined;
  const parts = key.slice(root.length + 1).split("/");
  if (parts.length !== 3) return undefined;
  const [kind, ns, name] = parts as [string, string, string];
  return ns === CLUSTER_SCOPE ? { kind, name } : { kind, namespace: ns, name };
};

/**
 * Namespace filter of an all-kinds watch: with a filter, only objects in that namespace pass
 * (cluster objects do not). Kind watches filter by key prefix instead.
 */
export const inNamespace = (filter: string | undefined, namespace: string | undefined): boolean =>
  filter === undefined || namespace === filter;
