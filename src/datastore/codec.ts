// How objects are stored: JSON without resourceVersion (that comes from the store's revision).
import type { Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";
import type { CheckedRef } from "./keys.js";
import { DatastoreError } from "./types.js";

/** Identity fields the store owns: set on create, carried over on update. */
export interface StoreOwned {
  uid: string;
  creationTimestamp: string;
}

export const newStoreOwned = (): StoreOwned => ({
  uid: crypto.randomUUID(),
  creationTimestamp: new Date().toISOString(),
});

/** The value to store: a copy with the checked kind/namespace, store-owned fields and no resourceVersion. */
export const toStored = (obj: Resource, ref: CheckedRef, owned: StoreOwned): Resource => {
  const copy = structuredClone(obj);
  const { resourceVersion: _rv, namespace: _ns, uid: _uid, creationTimestamp: _ts, ...rest } = copy.metadata;
  copy.kind = ref.kind;
  copy.metadata = {
    ...rest,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
    uid: owned.uid,
    creationTimestamp: owned.creationTimestamp,
  };
  return copy;
};

export const withVersion = (stored: Resource, resourceVersion: string): Resource => {
  const copy = structuredClone(stored);
  copy.metadata.resourceVersion = resourceVersion;
  return copy;
};

export const ownedOf = (stored: Resource): StoreOwned => ({
  uid: stored.metadata.uid ?? crypto.randomUUID(),
  creationTimestamp: stored.metadata.creationTimestamp ?? new Date().toISOString(),
});

export const decodeStored = (key: string, text: string): Result<Resource, DatastoreError> => {
  try {
    const v = JSON.parse(text) as Resource;
    if (typeof v !== "object" || v === null || typeof v.metadata !== "object" || v.metadata === null) {
      return err(new DatastoreError("Invalid", `stored value at ${key} is not an object with metadata`));
    }
    return ok(v);
  } catch (e) {
    return err(
      new DatastoreError("Invalid", `stored value at ${key} is not valid JSON: ${(e as Error).message}`),
    );
  }
};
