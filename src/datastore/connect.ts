// Picks and opens a datastore backend from configuration.
import { err, ok, type Result } from "../util/result.js";
import { EtcdDatastore } from "./etcd.js";
import { createMemoryDatastore } from "./memory.js";
import { DatastoreError, type Datastore } from "./types.js";

export type DatastoreType = "etcd" | "memory" | "kubernetes";

export interface DatastoreConfig {
  type: DatastoreType;
  /** etcd client URLs; default ["http://127.0.0.1:2379"]. */
  etcdEndpoints?: string[];
  /** Per-request deadline in ms (etcd); default 5000. */
  timeoutMs?: number;
}

export const DEFAULT_ETCD_ENDPOINTS = ["http://127.0.0.1:2379"];

const validEndpoint = (e: string): boolean => {
  try {
    const u = new URL(e);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && u.port !== "";
  } catch {
    return false;
  }
};

/**
 * Opens a datastore. Connecting is lazy: an unreachable etcd shows up as an "Unavailable" error
 * from the first call, after at most timeoutMs.
 */
export const openDatastore = (cfg: DatastoreConfig): Result<Datastore, DatastoreError> => {
  switch (cfg.type) {
    case "memory":
      return ok(createMemoryDatastore());
    case "etcd": {
      const endpoints = cfg.etcdEndpoints ?? DEFAULT_ETCD_ENDPOINTS;
      if (endpoints.length === 0) {
        return err(
          new DatastoreError(
            "Invalid",
            "etcd endpoints: at least one URL is required, e.g. http://127.0.0.1:2379",
          ),
        );
      }
      const bad = endpoints.find((e) => !validEndpoint(e));
      if (bad !== undefined) {
        return err(
          new DatastoreError(
            "Invalid",
            `etcd endpoint ${JSON.stringify(bad)} is not a valid URL; expected http(s)://HOST:PORT, e.g. http://127.0.0.1:2379`,
          ),
        );
      }
      if (cfg.timeoutMs !== undefined && !(cfg.timeoutMs > 0)) {
        return err(
          new DatastoreError(
            "Invalid",
            `timeoutMs ${cfg.timeoutMs} must be a positive number of milliseconds`,
          ),
        );
      }
      return ok(
        new EtcdDatastore({
          endpoints,
          ...(cfg.timeoutMs === undefined ? {} : { timeoutMs: cfg.timeoutMs }),
        }),
      );
    }
    case "kubernetes":
      return err(
        new DatastoreError(
          "Unavailable",
          'the "kubernetes" datastore is not available yet; use --datastore etcd (EGW_DATASTORE_TYPE=etcd) with EGW_ETCD_ENDPOINTS',
        ),
      );
    default:
      return err(
        new DatastoreError(
          "Invalid",
          `unknown datastore type ${JSON.stringify((cfg as { type: unknown }).type)}; valid types: etcd, kubernetes, memory`,
        ),
      );
  }
};
