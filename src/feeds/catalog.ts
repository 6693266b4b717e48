// The served state of every address group (no I/O): the groups from the latest computation, when
// each one's entries last changed, and each rendered body with its ETag, rendered once per change
// and format (a poll of an unchanged feed costs a map lookup). The clock is passed in.
import { renderFeed, etagOf } from "./formats.js";
import type { FeedFormat } from "../api/schemas/routing.js";
import type { AddressGroup } from "./feed-entries.js";

export interface ServedFeed {
  body: string;
  contentType: string;
  etag: string;
}

interface GroupState {
  group: AddressGroup;
  /** Entries (addresses and their draining flags) as one string, to tell a change. */
  fingerprint: string;
  lastChange: string;
  rendered: Map<FeedFormat, ServedFeed>;
}

/** What a status writer or metrics need about one group. */
export interface GroupSummary {
  path: string;
  kind: AddressGroup["kind"];
  name: string;
  entries: number;
  lastChange: string;
  error?: string;
}

const fingerprintOf = (g: AddressGroup): string =>
  `${g.error ?? ""}|${g.entries.map((e) => `${e.cidr} ${e.pod}${e.draining ? " d" : ""}`).join(",")}`;

/** The latest `since` among the entries (when a group is first seen, its last change is at least that). */
const latestSince = (g: AddressGroup): string | undefined =>
  g.entries.reduce<string | undefined>(
    (m, e) => (e.since !== undefined && (m === undefined || e.since > m) ? e.since : m),
    undefined,
  );

export class FeedCatalog {
  private readonly groups = new Map<string, GroupState>();

  /** Replaces the groups; returns the paths whose entries changed (new and removed groups included). */
  update(groups: readonly AddressGroup[], nowIso: string): string[] {
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const g of groups) {
      seen.add(g.path);
      const fingerprint = fingerprintOf(g);
      const prev = this.groups.get(g.path);
      if (prev !== undefined && prev.fingerprint === fingerprint) {
        // Same entries: keep the renders; the group object may differ in what is not rendered.
        prev.group = g;
        continue;
      }
      changed.push(g.path);
      this.groups.set(g.path, {
        group: g,
        fingerprint,
        lastChange: prev === undefined ? (latestSince(g) ?? nowIso) : nowIso,
        rendered: new Map(),
      });
    }
    for (const path of [...this.groups.keys()])
      if (!seen.has(path)) {
        this.groups.delete(path);
        changed.push(path);
      }
    return changed;
  }

  group(path: string): AddressGroup | undefined {
    return this.groups.get(path)?.group;
  }

  /** The body of `path` in `format`, rendered on first use after a change. */
  served(path: string, format: FeedFormat): ServedFeed | undefined {
    const s = this.groups.get(path);
    if (s === undefined) return undefined;
    let r = s.rendered.get(format);
    if (r === undefined) {
      const { body, contentType } = renderFeed(s.group, format, s.lastChange);
      r = { body, contentType, etag: etagOf(body) };
      s.rendered.set(format, r);
    }
    return r;
  }

  summary(path: string): GroupSummary | undefined {
    const s = this.groups.get(path);
    if (s === undefined) return undefined;
    const { group: g } = s;
    return {
      path: g.path,
      kind: g.kind,
      name: g.name,
      entries: g.entries.length,
      lastChange: s.lastChange,
      ...(g.error === undefined ? {} : { error: g.error }),
    };
  }

  summaries(): GroupSummary[] {
    return [...this.groups.keys()]
      .sort()
      .map((p) => this.summary(p))
      .filter((s) => s !== undefined);
  }

  get size(): number {
    return this.groups.size;
  }
}
