// The datastore port and its backends.
export * from "./types.js";
export {
  openDatastore,
  DEFAULT_ETCD_ENDPOINTS,
  type DatastoreConfig,
  type DatastoreType,
} from "./connect.js";
export { EtcdDatastore, type EtcdDatastoreOptions } from "./etcd.js";
export { MemoryDatastore, MemoryStore, createMemoryDatastore, type MemoryStoreOptions } from "./memory.js";
export {
  readModifyWrite,
  DEFAULT_RMW_ATTEMPTS,
  type Modify,
  type ReadModifyWriteOptions,
  type ReadModifyWriteOutcome,
} from "./read-modify-write.js";
