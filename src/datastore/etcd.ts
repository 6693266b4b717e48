// etcd v3 backend over the `etcd3` client. resourceVersion = the key's mod_revision; every
// conditional write is one etcd transaction, so compare-and-swap is atomic on the server.
import { Etcd3, GRPCInvalidArgumentError, type IKeyValue, type IOptions } from "etcd3";
import { describeRef, refOf, type ObjectRef, type Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";
import { decodeStored, newStoreOwned, ownedOf, toStored, withVersion } from "./codec.js";
import {
  checkRef,
  checkScope,
  DEFAULT_ROOT,
  inNamespace,
  objectKey,
  parseKey,
  scopePrefix,
  type CheckedRef,
} from "./keys.js";
import {
  DatastoreError,
  type Datastore,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from "./types.js";
import { EtcdWatch, type WatchStreamSource } from "./etcd-watch.js";
import { prefixEnd } from "./prefix.js";

export interface EtcdDatastoreOptions {
  /** Client URLs, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Deadline for each request (connecting included); default 5000 ms. */
  timeoutMs?: number;
  /** Key root; default "/egw/v1". Tests use a unique root per test for isolation. */
  root?: string;
}

// The client's default policies retry writes (a retried create that already applied would report
// AlreadyExists) and open a circuit for seconds after failures; egw wants neither: every call is
// tried once with a deadline and the callers (controllers, watches) do their own retrying.
const passThroughPolicy = {
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
};
type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

export class EtcdDatastore implements Datastore {
  private readonly client: Etcd3;
  private readonly root: string;
  private readonly timeoutMs: number;
  private readonly endpoints: string;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(opts: EtcdDatastoreOptions) {
    this.root = opts.root ?? DEFAULT_ROOT;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.endpoints = opts.endpoints.join(",");
    const timeoutMs = this.timeoutMs;
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: timeoutMs,
      // Unary calls get a deadline; the watch stream must live on.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      faultHandling: {
        global: passThroughPolicy as unknown as Policy,
        host: () => passThroughPolicy as unknown as Policy,
      },
      grpcOptions: {
        "grpc.initial_reconnect_backoff_ms": 100,
        "grpc.max_reconnect_backoff_ms": 1000,
        "grpc.keepalive_time_ms": 10_000,
        "grpc.keepalive_timeout_ms": 5000,
      },
    });
  }

  /** Runs one etcd call, mapping every failure (and a missed deadline) to a DatastoreError. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<Result<T, DatastoreError>> {
    if (this.closed) return err(new DatastoreError("Unavailable", "the etcd datastore client is closed"));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs + 500,
      );
    });
    try {
      return ok(await Promise.race([fn(), deadline]));
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      // etcd refused the request itself (e.g. "request is too large"): retrying cannot help. The
      // client types errors by their gRPC status code; egw does not read their text.
      if (e instanceof GRPCInvalidArgumentError) return err(new DatastoreError("Invalid", `${what}: ${msg}`));
      return err(
        new DatastoreError("Unavailable", `cannot reach etcd at ${this.endpoints}: ${what}: ${msg}`),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private decode(kv: IKeyValue): Result<Resource, DatastoreError> {
    const stored = decodeStored(kv.key.toString(), kv.value.toString());
    return stored.ok ? ok(withVersion(stored.value, kv.mod_revision)) : stored;
  }

  private async readKey(ref: CheckedRef): Promise<Result<IKeyValue | undefined, DatastoreError>> {
    const key = Buffer.from(objectKey(this.root, ref));
    const res = await this.call(`get ${describeRef(ref)}`, () => this.client.kv.range({ key }));
    return res.ok ? ok(res.value.kvs[0]) : res;
  }

  async get(ref: ObjectRef): Promise<Result<Resource, DatastoreError>> {
    const checked = checkRef(ref);
    if (!checked.ok) return checked;
    const kv = await this.readKey(checked.value);
    if (!kv.ok) return kv;
    if (!kv.value) return err(notFound(checked.value));
    return this.decode(kv.value);
  }

  async list(kind: string, opts: ListOptions = {}): Promise<Result<ListResult, DatastoreError>> {
    const scope = checkScope(kind, opts.namespace);
    if (!scope.ok) return scope;
    return this.listPrefix(scopePrefix(this.root, scope.value), undefined);
  }

  /** @internal Lists a prefix (used by watches to resync); `namespace` filters all-kinds lists. */
  async listPrefix(
    prefix: string,
    namespace: string | undefined,
  ): Promise<Result<ListResult, DatastoreError>> {
    const res = await this.call(`list ${prefix}`, () =>
      this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }),
    );
    if (!res.ok) return res;
    const items: Resource[] = [];
    for (const kv of res.value.kvs) {
      const obj = this.decode(kv);
      if (!obj.ok) return obj;
      if (inNamespace(namespace, obj.value.metadata.namespace)) items.push(obj.value);
    }
    return ok({ items, revision: res.value.header.revision });
  }

  async create(obj: Resource): Promise<Result<Resource, DatastoreError>> {
    const checked = checkRef(refOf(obj));
    if (!checked.ok) return checked;
    const key = Buffer.from(objectKey(this.root, checked.value));
    const stored = toStored(obj, checked.value, newStoreOwned());
    const res = await this.call(`create ${describeRef(checked.value)}`, () =>
      this.client.kv.txn({
        compare: [{ key, target: "Create", result: "Equal", create_revision: 0 }],
        success: [{ request_put: { key, value: Buffer.from(JSON.stringify(stored)) } }],
      }),
    );
    if (!res.ok) return res;
    if (!res.value.succeeded) {
      return err(new DatastoreError("AlreadyExists", `${describeRef(checked.value)} already exists`));
    }
    return ok(withVersion(stored, res.value.header.revision));
  }

  async update(obj: Resource): Promise<Result<Resource, DatastoreError>> {
    const checked = checkRef(refOf(obj));
    if (!checked.ok) return checked;
    const ref = checked.value;
    const key = Buffer.from(objectKey(this.root, ref));
    const wanted = obj.metadata.resourceVersion;
    // Read to carry over uid/creationTimestamp, then write only if nothing changed in between.
    // Without a resourceVersion the update is unconditional, so a lost race simply retries.
    for (;;) {
      const current = await this.readKey(ref);
      if (!current.ok) return current;
      if (!current.value) return err(notFound(ref));
      const modRevision = current.value.mod_revision;
      if (wanted !== undefined && wanted !== modRevision) return err(conflict(ref, wanted, modRevision));
      const old = decodeStored(key.toString(), current.value.value.toString());
      const stored = toStored(obj, ref, old.ok ? ownedOf(old.value) : newStoreOwned());
      const res = await this.call(`update ${describeRef(ref)}`, () =>
        this.client.kv.txn({
          compare: [{ key, target: "Mod", result: "Equal", mod_revision: modRevision }],
          success: [{ request_put: { key, value: Buffer.from(JSON.stringify(stored)) } }],
        }),
      );
      if (!res.ok) return res;
      if (res.value.succeeded) return ok(withVersion(stored, res.value.header.revision));
      if (wanted !== undefined) {
        // Changed or deleted since the read: report which.
        const now = await this.readKey(ref);
        if (!now.ok) return now;
        return err(now.value ? conflict(ref, wanted, now.value.mod_revision) : notFound(ref));
      }
    }
  }

  async delete(
    ref: ObjectRef,
    opts: { resourceVersion?: string } = {},
  ): Promise<Result<Resource, DatastoreError>> {
    const checked = checkRef(ref);
    if (!checked.ok) return checked;
    const key = Buffer.from(objectKey(this.root, checked.value));
    const rv = opts.resourceVersion;
    const res = await this.call(`delete ${describeRef(checked.value)}`, () =>
      this.client.kv.txn({
        compare:
          rv === undefined
            ? [{ key, target: "Create", result: "Greater", create_revision: 0 }]
            : [{ key, target: "Mod", result: "Equal", mod_revision: rv }],
        success: [{ request_delete_range: { key, prev_kv: true } }],
        failure: [{ request_range: { key } }],
      }),
    );
    if (!res.ok) return res;
    const first = res.value.responses[0];
    if (res.value.succeeded) {
      const prev = first?.response_delete_range.prev_kvs[0];
      if (!prev) return err(notFound(checked.value));
      return this.decode(prev);
    }
    const current = first?.response_range.kvs[0];
    if (!current) return err(notFound(checked.value));
    return err(conflict(checked.value, rv ?? "", current.mod_revision));
  }

  watch(opts: WatchOptions, onEvent: (ev: WatchEvent) => void): WatchHandle {
    const scope = checkScope(opts.kind, opts.namespace);
    const prefix = scope.ok ? scopePrefix(this.root, scope.value) : `${this.root}/\u0000invalid/`;
    // Kind watches filter namespaces by key prefix; all-kinds watches filter each event.
    const nsFilter = scope.ok && scope.value.kind === undefined ? scope.value.namespace : undefined;
    const source: WatchStreamSource = {
      openStream: () => this.client.watchClient.watch(),
      list: () => this.listPrefix(prefix, nsFilter),
    };
    const watch = new EtcdWatch(source, {
      prefix,
      afterRevision: opts.afterRevision,
      parseKey: (key) => parseKey(this.root, key),
      namespace: nsFilter,
      onEvent,
    });
    this.watches.add(watch);
    watch.start();
    return {
      stop: async () => {
        this.watches.delete(watch);
        await watch.stop();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.watches].map((w) => w.stop()));
    this.watches.clear();
    this.closed = true;
    this.client.close();
  }
}

const notFound = (ref: ObjectRef): DatastoreError =>
  new DatastoreError("NotFound", `${describeRef(ref)} not found`);

const conflict = (ref: ObjectRef, rv: string, current: string): DatastoreError =>
  new DatastoreError(
    "Conflict",
    `${describeRef(ref)}: resourceVersion ${rv} is stale (current is ${current}); get the object again and retry`,
  );
