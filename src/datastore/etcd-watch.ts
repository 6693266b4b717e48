// One resumable etcd watch over a raw gRPC watch stream. It remembers the last revision it has
// delivered; when the stream breaks it reopens from the next revision, so no event is lost or
// repeated. If etcd has compacted that revision away it relists and delivers a RESYNC.
// (The etcd3 client's own Watcher advances its resume point to the server's current revision
// on every reconnect, before the backlog has arrived, which can lose events; hence this.)
import type { IKeyValue, IWatchRequest, IWatchResponse } from "etcd3";
import type { Resource } from "../api/meta.js";
import { kindInfo } from "../api/kinds.js";
import type { Result } from "../util/result.js";
import { decodeStored, withVersion } from "./codec.js";
import type { CheckedRef } from "./keys.js";
import { inNamespace } from "./keys.js";
import { prefixEnd } from "./prefix.js";
import type { DatastoreError, ListResult, WatchEvent } from "./types.js";

/** The raw watch stream as the etcd3 client exposes it. */
export interface WatchStream {
  on(event: "data", fn: (res: IWatchResponse) => void): unknown;
  on(event: "end", fn: () => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  write(req: IWatchRequest): void;
  cancel(): void;
}

export interface WatchStreamSource {
  openStream(): Promise<WatchStream>;
  /** A full list of what the watch covers, for RESYNC. */
  list(): Promise<Result<ListResult, DatastoreError>>;
}

export interface EtcdWatchConfig {
  prefix: string;
  afterRevision: string | undefined;
  parseKey: (key: string) => CheckedRef | undefined;
  /** Only objects in this namespace (all-kinds watches; kind watches filter by prefix). */
  namespace: string | undefined;
  onEvent: (ev: WatchEvent) => void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

export class EtcdWatch {
  /** Every event at or below this revision has been delivered (or was not ours). */
  private lastRevision: bigint | undefined;
  private stream: WatchStream | undefined;
  /** Bumped whenever a stream is dropped, so its late callbacks are ignored. */
  private generation = 0;
  private needResync = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = MIN_BACKOFF_MS;

  constructor(
    private readonly source: WatchStreamSource,
    private readonly cfg: EtcdWatchConfig,
  ) {
    const after = cfg.afterRevision;
    this.lastRevision = after !== undefined && /^\d+$/.test(after) ? BigInt(after) : undefined;
  }

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.dropStream();
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.needResync && !(await this.resync())) return this.retryLater();
    let stream: WatchStream;
    try {
      stream = await this.source.openStream();
    } catch {
      return this.retryLater();
    }
    if (this.stopped) {
      stream.cancel();
      return;
    }
    const gen = ++this.generation;
    this.stream = stream;
    stream.on("data", (res) => {
      if (gen === this.generation) this.onResponse(res);
    });
    stream.on("error", () => this.onBroken(gen));
    stream.on("end", () => this.onBroken(gen));
    stream.write({
      create_request: {
        key: Buffer.from(this.cfg.prefix),
        range_end: prefixEnd(this.cfg.prefix),
        ...(this.lastRevision === undefined ? {} : { start_revision: String(this.lastRevision + 1n) }),
        prev_kv: true,
        progress_notify: true,
      },
    });
  }

  private async resync(): Promise<boolean> {
    const listed = await this.source.list();
    if (!listed.ok || this.stopped) return false;
    this.needResync = false;
    this.lastRevision = BigInt(listed.value.revision);
    this.emit({ type: "RESYNC", items: listed.value.items, revision: listed.value.revision });
    return true;
  }

  private onResponse(res: IWatchResponse): void {
    const headerRevision = BigInt(res.header.revision);
    if (res.created) {
      this.backoffMs = MIN_BACKOFF_MS;
      // A watch "from now" starts after the revision current at creation.
      if (this.lastRevision === undefined) this.lastRevision = headerRevision;
    }
    if (res.canceled) {
      this.dropStream();
      const compacted = res.compact_revision !== undefined && BigInt(res.compact_revision) > 0n;
      if (compacted) this.needResync = true;
      this.retryLater(compacted ? 0 : undefined);
      return;
    }
    const base = this.lastRevision ?? 0n;
    for (const ev of res.events) {
      const rev = BigInt(ev.kv.mod_revision);
      if (rev <= base) continue; // already delivered before a reconnect
      this.lastRevision = rev;
      const out = this.toEvent(ev.type, ev.kv, ev.prev_kv);
      if (out) this.emit(out);
      if (this.stopped) return;
    }
    // A progress notification promises that nothing at or below its revision is still coming.
    if (res.events.length === 0 && !res.created && headerRevision > (this.lastRevision ?? 0n)) {
      this.lastRevision = headerRevision;
    }
  }

  private toEvent(type: string, kv: IKeyValue, prev: IKeyValue | undefined): WatchEvent | undefined {
    const key = kv.key.toString();
    const ref = this.cfg.parseKey(key);
    if (!ref || !inNamespace(this.cfg.namespace, ref.namespace)) return undefined;
    const revision = kv.mod_revision;
    if (type === "Delete") {
      const before = prev ? decodeStored(key, prev.value.toString()) : undefined;
      const object = before?.ok ? before.value : skeleton(ref);
      return { type: "DELETED", object: withVersion(object, revision), revision };
    }
    const decoded = decodeStored(key, kv.value.toString());
    if (!decoded.ok) return undefined; // not an egw value; nothing a consumer could use
    const type_ = kv.create_revision === kv.mod_revision ? "ADDED" : "MODIFIED";
    return { type: type_, object: withVersion(decoded.value, revision), revision };
  }

  private emit(ev: WatchEvent): void {
    try {
      this.cfg.onEvent(ev);
    } catch {
      // A throwing handler must not break the stream.
    }
  }

  private onBroken(gen: number): void {
    if (gen !== this.generation || this.stopped) return;
    this.dropStream();
    this.retryLater();
  }

  private dropStream(): void {
    this.generation += 1;
    const s = this.stream;
    this.stream = undefined;
    try {
      s?.cancel();
    } catch {
      // already gone
    }
  }

  private retryLater(delayMs?: number): void {
    if (this.stopped || this.timer) return;
    const delay = delayMs ?? this.backoffMs;
    if (delayMs === undefined) this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

/** What a DELETED event carries when the previous value is no longer available. */
const skeleton = (ref: CheckedRef): Resource => ({
  apiVersion: kindInfo(ref.kind)?.apiVersion ?? "",
  kind: ref.kind,
  metadata: ref.namespace === undefined ? { name: ref.name } : { name: ref.name, namespace: ref.namespace },
});
