// Read-modify-write of one stored object with compare-and-swap: read it, let `modify` compute the
// next version from the current one, write that with the resourceVersion that was read, and on
// Conflict (someone wrote in between) read again and redo, a bounded number of times. An object
// that is gone (NotFound on the read or the write) ends it cleanly as "absent": there is nothing
// left to modify. Creating objects, and deciding what to do when one is absent, is the caller's.
import { describeRef, type ObjectRef, type Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";
import { DatastoreError, type Datastore } from "./types.js";

/**
 * The next version of `current` (a copy the function may change and return), or undefined when
 * it already is as wanted: nothing is written then.
 */
export type Modify = (current: Resource) => Resource | undefined;

export type ReadModifyWriteOutcome =
  { kind: "written"; object: Resource } | { kind: "unchanged"; object: Resource } | { kind: "absent" };

export interface ReadModifyWriteOptions {
  /** Writes tried before giving up with Conflict; default 5. */
  attempts?: number;
  /** The object as the caller already read it: the first attempt starts from it, without a read. */
  current?: Resource;
}

export const DEFAULT_RMW_ATTEMPTS = 5;

/**
 * Applies `modify` to the object at `ref` with compare-and-swap. Errors are the datastore's
 * (Unavailable, Invalid, …), or Conflict when every attempt lost a race.
 */
export async function readModifyWrite(
  store: Datastore,
  ref: ObjectRef,
  modify: Modify,
  opts: ReadModifyWriteOptions = {},
): Promise<Result<ReadModifyWriteOutcome, DatastoreError>> {
  const attempts = opts.attempts ?? DEFAULT_RMW_ATTEMPTS;
  let first = opts.current;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let current = first;
    first = undefined;
    if (current === undefined) {
      const got = await store.get(ref);
      if (!got.ok) return got.error.code === "NotFound" ? ok({ kind: "absent" }) : got;
      current = got.value;
    }
    const next = modify(structuredClone(current));
    if (next === undefined) return ok({ kind: "unchanged", object: current });
    // The write is conditional on the version read, whatever `modify` left in metadata.
    const put = await store.update({
      ...next,
      metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion },
    });
    if (put.ok) return ok({ kind: "written", object: put.value });
    if (put.error.code === "NotFound") return ok({ kind: "absent" });
    if (put.error.code !== "Conflict") return put;
  }
  return err(
    new DatastoreError(
      "Conflict",
      `${describeRef(ref)} kept changing while being updated (${attempts} conflicting writes in a row)`,
    ),
  );
}
