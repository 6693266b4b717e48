// The datastore port: one interface, several backends (etcd, memory for unit tests, Kubernetes later).
import type { ObjectRef, Resource } from "../api/meta.js";
import type { Result } from "../util/result.js";

export type DatastoreErrorCode =
  | "NotFound" // get/update/delete of an object that does not exist
  | "AlreadyExists" // create of an object that exists
  | "Conflict" // update/delete with a stale metadata.resourceVersion
  | "Unavailable" // backend unreachable / timed out
  | "Invalid"; // the object cannot be stored (missing name, unknown kind, …)

export class DatastoreError extends Error {
  constructor(
    readonly code: DatastoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DatastoreError";
  }
}

export interface ListOptions {
  /** Only objects of this namespace (namespaced kinds). Omitted: all namespaces. */
  namespace?: string;
}

export interface ListResult {
  items: Resource[];
  /** The store revision the list reflects; pass it to watch() to see every later change. */
  revision: string;
}

export type WatchEvent =
  | { type: "ADDED" | "MODIFIED"; object: Resource; revision: string }
  | { type: "DELETED"; object: Resource; revision: string }
  /**
   * The watch could not resume from the requested revision (it was compacted, or the
   * backend restarted): `items` is a fresh full list and replaces whatever the consumer held.
   */
  | { type: "RESYNC"; items: Resource[]; revision: string };

export interface WatchOptions extends ListOptions {
  /** Kind to watch; omitted watches every kind. */
  kind?: string;
  /** Deliver changes strictly after this revision (as returned by list). Omitted: from now. */
  afterRevision?: string;
}

export interface WatchHandle {
  stop(): Promise<void>;
}

export interface Datastore {
  get(ref: ObjectRef): Promise<Result<Resource, DatastoreError>>;
  list(kind: string, opts?: ListOptions): Promise<Result<ListResult, DatastoreError>>;
  /** Fails with AlreadyExists if present. Returns the stored object with resourceVersion set. */
  create(obj: Resource): Promise<Result<Resource, DatastoreError>>;
  /**
   * Replaces the object. If obj.metadata.resourceVersion is set, it must equal the stored one
   * (compare-and-swap) or the update fails with Conflict; if unset the update is unconditional.
   */
  update(obj: Resource): Promise<Result<Resource, DatastoreError>>;
  /** Deletes; with resourceVersion given it must match (Conflict otherwise). Returns the deleted object. */
  delete(ref: ObjectRef, opts?: { resourceVersion?: string }): Promise<Result<Resource, DatastoreError>>;
  /**
   * Streams changes. Reconnects by itself after backend outages and resumes from the last
   * revision it delivered; if that revision is gone it delivers a RESYNC.
   */
  watch(opts: WatchOptions, onEvent: (ev: WatchEvent) => void): WatchHandle;
  close(): Promise<void>;
}
