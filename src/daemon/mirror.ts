// Keeps a local copy of some kinds in step with the datastore: list each kind, then watch it
// from the list's revision (no gap), applying RESYNCs by difference. Malformed objects are
// reported and skipped (the last good version of an object is kept).
import type { Resource } from "../api/meta.js";
import type { Datastore, WatchEvent, WatchHandle } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { malformed } from "./input-check.js";

export interface MirrorSource {
  kind: string;
  /** Only this namespace (namespaced kinds); omitted: all. */
  namespace?: string;
}

export interface MirrorHandlers {
  upsert(kind: string, obj: Resource): void;
  remove(kind: string, obj: Resource): void;
  /** After a batch of changes (a list, an event, a resync) was applied. */
  changed(): void;
  /** A malformed object was skipped. */
  skipped(kind: string, problem: string): void;
  /** The watch of a kind had to start over from a full list. */
  resynced?(kind: string): void;
}

const keyOf = (o: Resource): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

export class ResourceMirror {
  private readonly known = new Map<string, Map<string, Resource>>();
  private readonly watches: WatchHandle[] = [];
  private stopped = false;

  constructor(
    private readonly store: Datastore,
    private readonly sources: readonly MirrorSource[],
    private readonly h: MirrorHandlers,
  ) {}

  /** Lists every kind (all must succeed), then starts the watches. */
  async start(): Promise<Result<void, string>> {
    const revisions: string[] = [];
    for (const s of this.sources) {
      const listed = await this.store.list(
        s.kind,
        s.namespace === undefined ? {} : { namespace: s.namespace },
      );
      if (!listed.ok) return err(`cannot list ${s.kind}: ${listed.error.message}`);
      this.replaceAll(s.kind, listed.value.items);
      revisions.push(listed.value.revision);
    }
    this.h.changed();
    if (this.stopped) return ok(undefined);
    this.sources.forEach((s, i) => {
      const opts = {
        kind: s.kind,
        afterRevision: revisions[i],
        ...(s.namespace === undefined ? {} : { namespace: s.namespace }),
      };
      this.watches.push(this.store.watch(opts, (ev) => this.onEvent(s.kind, ev)));
    });
    return ok(undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.watches.splice(0).map((w) => w.stop()));
  }

  private onEvent(kind: string, ev: WatchEvent): void {
    if (this.stopped) return;
    if (ev.type === "RESYNC") {
      this.h.resynced?.(kind);
      this.replaceAll(kind, ev.items);
    } else if (ev.type === "DELETED") {
      const known = this.kindMap(kind);
      const old = known.get(keyOf(ev.object));
      if (old === undefined) return;
      known.delete(keyOf(ev.object));
      this.h.remove(kind, old);
    } else if (!this.accept(kind, ev.object)) return;
    this.h.changed();
  }

  /** Applies one object; false when it was skipped. */
  private accept(kind: string, obj: Resource): boolean {
    const problem = malformed(kind, obj);
    if (problem !== undefined) {
      this.h.skipped(kind, problem);
      return false;
    }
    this.kindMap(kind).set(keyOf(obj), obj);
    this.h.upsert(kind, obj);
    return true;
  }

  private replaceAll(kind: string, items: readonly Resource[]): void {
    const known = this.kindMap(kind);
    const seen = new Set<string>();
    for (const obj of items) {
      if (this.accept(kind, obj)) seen.add(keyOf(obj));
      else if (known.has(keyOf(obj))) seen.add(keyOf(obj)); // keep the last good version
    }
    for (const [key, old] of known) {
      if (seen.has(key)) continue;
      known.delete(key);
      this.h.remove(kind, old);
    }
  }

  private kindMap(kind: string): Map<string, Resource> {
    let m = this.known.get(kind);
    if (m === undefined) this.known.set(kind, (m = new Map()));
    return m;
  }
}
