// The shape every stored object shares (Kubernetes-style), independent of its kind's schema.
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Opaque to clients; set by the datastore. Update with a stale value fails with a Conflict. */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
}

export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

/** Identifies one object: kind + (namespace) + name. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export const refOf = (r: Resource): ObjectRef =>
  r.metadata.namespace === undefined
    ? { kind: r.kind, name: r.metadata.name }
    : { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };

/** `kind namespace/name` or `kind name`, for messages. */
export const describeRef = (ref: ObjectRef): string =>
  ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
