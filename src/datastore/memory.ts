// In-memory backend for unit tests. Same semantics as etcd: one global revision counter,
// resourceVersion = the revision of an object's last write, a bounded event history that can be
// compacted, and watches that resume from their last delivered revision (or RESYNC).
// MemoryStore is the shared "server"; each MemoryDatastore is one client that can be cut off.
import { describeRef, refOf, type ObjectRef, type Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";
import { newStoreOwned, ownedOf, toStored, withVersion } from "./codec.js";
import { checkRef, checkScope, DEFAULT_ROOT, inNamespace, objectKey, parseKey, scopePrefix } from "./keys.js";
import {
  DatastoreError,
  type Datastore,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from "./types.js";

interface Entry {
  stored: Resource; // without resourceVersion
  modRevision: number;
}

interface HistoryEvent {
  revision: number;
  key: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: Resource; // with resourceVersion
}

export interface MemoryStoreOptions {
  /** Events kept for watches; older ones are compacted away. Default 10,000. */
  historyLimit?: number;
}

const root = DEFAULT_ROOT;

export class MemoryStore {
  private revision = 1; // etcd starts at 1 too
  private readonly objects = new Map<string, Entry>();
  private history: HistoryEvent[] = [];
  /** Events with revision <= compactedRevision are gone. */
  private compactedRevision = 0;
  private readonly historyLimit: number;
  private readonly listeners = new Set<() => void>();

  constructor(opts: MemoryStoreOptions = {}) {
    this.historyLimit = opts.historyLimit ?? 10_000;
  }

  /** A new client of this store. */
  client(): MemoryDatastore {
    return new MemoryDatastore(this);
  }

  currentRevision(): number {
    return this.revision;
  }

  /** Drops the history up to `revision` (default: everything so far), like etcd compaction. */
  compact(revision = this.revision): void {
    this.compactedRevision = Math.max(this.compactedRevision, revision);
    this.history = this.history.filter((e) => e.revision > this.compactedRevision);
  }

  /** @internal */
  get(key: string): Entry | undefined {
    return this.objects.get(key);
  }

  /** @internal Sorted by key, as etcd returns a range. */
  range(prefix: string): { entries: Entry[]; revision: number } {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    return { entries: keys.map((k) => this.objects.get(k) as Entry), revision: this.revision };
  }

  /** @internal Applies one write at a new revision and notifies watchers. */
  write(key: string, stored: Resource | undefined): number {
    this.revision += 1;
    const rev = this.revision;
    const prev = this.objects.get(key);
    if (stored) {
      this.objects.set(key, { stored, modRevision: rev });
      this.record({
        revision: rev,
        key,
        type: prev ? "MODIFIED" : "ADDED",
        object: withVersion(stored, String(rev)),
      });
    } else if (prev) {
      this.objects.delete(key);
      this.record({ revision: rev, key, type: "DELETED", object: withVersion(prev.stored, String(rev)) });
    }
    for (const l of this.listeners) l();
    return rev;
  }

  /** @internal Events after `revision`, or undefined when some of them were compacted. */
  eventsAfter(revision: number): HistoryEvent[] | undefined {
    if (revision < this.compactedRevision) return undefined;
    return this.history.filter((e) => e.revision > revision);
  }

  /** @internal */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(ev: HistoryEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRevision = Math.max(this.compactedRevision, dropped[dropped.length - 1]?.revision ?? 0);
    }
  }
}

const unavailable = (): DatastoreError =>
  new DatastoreError("Unavailable", "cannot reach the in-memory datastore: client is disconnected");

class MemoryWatch implements WatchHandle {
  private lastDelivered: number;
  private stopped = false;
  private scheduled = false;
  private readonly unsubscribe: () => void;
  private readonly prefix: string;

  constructor(
    private readonly store: MemoryStore,
    private readonly scope: { kind?: string; namespace?: string },
    afterRevision: number,
    private readonly isConnected: () => boolean,
    private readonly onEvent: (ev: WatchEvent) => void,
  ) {
    this.lastDelivered = afterRevision;
    this.prefix = scopePrefix(root, scope);
    this.unsubscribe = store.subscribe(() => this.schedule());
    this.schedule();
  }

  /** Delivery is asynchronous, like a network watch, so handlers may write without re-entrancy. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.stopped || !this.isConnected()) return;
    const events = this.store.eventsAfter(this.lastDelivered);
    if (!events) {
      const { entries, revision } = this.store.range(this.prefix);
      const items = entries
        .map((e) => withVersion(e.stored, String(e.modRevision)))
        .filter((o) => inNamespace(this.filterNamespace(), o.metadata.namespace));
      this.lastDelivered = revision;
      this.emit({ type: "RESYNC", items, revision: String(revision) });
      return;
    }
    for (const ev of events) {
      if (this.stopped) return;
      this.lastDelivered = ev.revision;
      if (!ev.key.startsWith(this.prefix)) continue;
      if (!inNamespace(this.filterNamespace(), parseKey(root, ev.key)?.namespace)) continue;
      this.emit({ type: ev.type, object: structuredClone(ev.object), revision: String(ev.revision) });
    }
  }

  /** Kind watches filter namespaces by prefix; all-kinds watches filter here. */
  private filterNamespace(): string | undefined {
    return this.scope.kind === undefined ? this.scope.namespace : undefined;
  }

  private emit(ev: WatchEvent): void {
    try {
      this.onEvent(ev);
    } catch {
      // A throwing handler must not stop the stream for everyone else.
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
  }
}

export class MemoryDatastore implements Datastore {
  private connected = true;
  private closed = false;
  private readonly watches = new Set<MemoryWatch>();

  constructor(readonly store: MemoryStore = new MemoryStore()) {}

  /** Simulates losing the connection: calls fail with Unavailable, watches pause. */
  disconnect(): void {
    this.connected = false;
  }

  /** Reconnects; paused watches resume from their last delivered revision (or RESYNC). */
  reconnect(): void {
    this.connected = true;
    for (const w of this.watches) w.schedule();
  }

  private usable(): DatastoreError | undefined {
    if (this.closed) return new DatastoreError("Unavailable", "the in-memory datastore client is closed");
    return this.connected ? undefined : unavailable();
  }

  async get(ref: ObjectRef): Promise<Result<Resource, DatastoreError>> {
    const down = this.usable();
    if (down) return err(down);
    const checked = checkRef(ref);
    if (!checked.ok) return checked;
    const entry = this.store.get(objectKey(root, checked.value));
    if (!entry) return err(new DatastoreError("NotFound", `${describeRef(checked.value)} not found`));
    return ok(withVersion(entry.stored, String(entry.modRevision)));
  }

  async list(kind: string, opts: ListOptions = {}): Promise<Result<ListResult, DatastoreError>> {
    const down = this.usable();
    if (down) return err(down);
    const scope = checkScope(kind, opts.namespace);
    if (!scope.ok) return scope;
    const { entries, revision } = this.store.range(scopePrefix(root, scope.value));
    return ok({
      items: entries.map((e) => withVersion(e.stored, String(e.modRevision))),
      revision: String(revision),
    });
  }

  async create(obj: Resource): Promise<Result<Resource, DatastoreError>> {
    const down = this.usable();
    if (down) return err(down);
    const checked = checkRef(refOf(obj));
    if (!checked.ok) return checked;
    const key = objectKey(root, checked.value);
    if (this.store.get(key)) {
      return err(new DatastoreError("AlreadyExists", `${describeRef(checked.value)} already exists`));
    }
    const stored = toStored(obj, checked.value, newStoreOwned());
    const rev = this.store.write(key, stored);
    return ok(withVersion(stored, String(rev)));
  }

  async update(obj: Resource): Promise<Result<Resource, DatastoreError>> {
    const down = this.usable();
    if (down) return err(down);
    const checked = checkRef(refOf(obj));
    if (!checked.ok) return checked;
    const key = objectKey(root, checked.value);
    const current = this.store.get(key);
    if (!current) return err(new DatastoreError("NotFound", `${describeRef(checked.value)} not found`));
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== String(current.modRevision))
      return err(conflict(checked.value, rv, current));
    const stored = toStored(obj, checked.value, ownedOf(current.stored));
    const rev = this.store.write(key, stored);
    return ok(withVersion(stored, String(rev)));
  }

  async delete(
    ref: ObjectRef,
    opts: { resourceVersion?: string } = {},
  ): Promise<Result<Resource, DatastoreError>> {
    const down = this.usable();
    if (down) return err(down);
    const checked = checkRef(ref);
    if (!checked.ok) return checked;
    const key = objectKey(root, checked.value);
    const current = this.store.get(key);
    if (!current) return err(new DatastoreError("NotFound", `${describeRef(checked.value)} not found`));
    const rv = opts.resourceVersion;
    if (rv !== undefined && rv !== String(current.modRevision))
      return err(conflict(checked.value, rv, current));
    this.store.write(key, undefined);
    return ok(withVersion(current.stored, String(current.modRevision)));
  }

  watch(opts: WatchOptions, onEvent: (ev: WatchEvent) => void): WatchHandle {
    const scope = checkScope(opts.kind, opts.namespace);
    // An invalid watch never delivers anything; the same request fails loudly on list().
    const after =
      opts.afterRevision === undefined ? this.store.currentRevision() : Number(opts.afterRevision);
    const w = new MemoryWatch(
      this.store,
      scope.ok ? scope.value : { kind: "\u0000invalid" },
      Number.isFinite(after) ? after : this.store.currentRevision(),
      () => this.connected && !this.closed,
      onEvent,
    );
    this.watches.add(w);
    return {
      stop: async () => {
        this.watches.delete(w);
        await w.stop();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.watches].map((w) => w.stop()));
    this.watches.clear();
  }
}

const conflict = (ref: ObjectRef, rv: string, current: Entry): DatastoreError =>
  new DatastoreError(
    "Conflict",
    `${describeRef(ref)}: resourceVersion ${rv} is stale (current is ${current.modRevision}); get the object again and retry`,
  );

/** A fresh store with one client: the usual unit-test datastore. */
export const createMemoryDatastore = (opts: MemoryStoreOptions = {}): MemoryDatastore =>
  new MemoryStore(opts).client();
