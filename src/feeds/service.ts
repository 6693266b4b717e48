// The `egw feeds` process (I/O loop): mirrors the resources feeds depend on, recomputes the address
// groups after each burst of changes (feed-entries.ts, pure), keeps the catalog the server answers
// from, reads the datastore every second so a broken connection turns every feed into a 503, and
// writes FirewallFeed status (coalesced, compare-and-swap). It decides nothing about which IPs.
import type { Resource } from "../api/meta.js";
import { Coalescer } from "../daemon/coalescer.js";
import { periodic, retryUntilOk, Sleeper, systemClock, type Clock, type Periodic } from "../daemon/clock.js";
import { Metrics } from "../daemon/metrics.js";
import { ResourceMirror, type MirrorSource } from "../daemon/mirror.js";
import type { Datastore } from "../datastore/types.js";
import { createLogger, type Logger } from "../util/log.js";
import type { Credentials } from "./auth.js";
import { FeedCatalog } from "./catalog.js";
import { addressGroups, type AddressGroup } from "./feed-entries.js";
import { desiredFeedStatus, statusIsCurrent, writeFeedStatus } from "./feed-status.js";
import { feedAvailability, handleFeedRequest, type FeedReply, type FeedRequestIn } from "./handler.js";
import { credentialsOf, FEED_SECRET_NAMESPACE, SECRET_KIND } from "./secrets.js";

export interface FeedServiceOptions {
  store: Datastore;
  /** Base URL clients use (for FirewallFeed status), e.g. `http://172.30.0.2:8080`. */
  advertiseUrl: string;
  /** Bearer tokens every request must carry unless its feed has its own auth (--token-file). */
  serverTokens?: readonly string[];
  log?: Logger;
  clock?: Clock;
  /** Recompute after a burst of changes gathered this long; default 100 ms. */
  debounceMs?: number;
  /** Datastore read interval; default 1000 ms. */
  probeMs?: number;
  /** 503 after this long without a successful datastore read; default 3000 ms. */
  staleAfterMs?: number;
  /** Write FirewallFeed status (default true). */
  writeStatus?: boolean;
}

const KINDS = ["IPPool", "EgressGateway", "Namespace", "Pod", "FirewallFeed"] as const;

export const feedMetrics = (): Metrics =>
  new Metrics()
    .counter("egw_feeds_requests_total", "Feed requests by HTTP status code")
    .gauge("egw_feeds_entries", "Egress IPs listed per address group")
    .gauge("egw_feeds_groups", "Address groups served")
    .gauge(
      "egw_feeds_available",
      "1 while feeds are served (synced and the datastore answers), 0 while every feed answers 503",
    )
    .counter("egw_feeds_recomputes_total", "Recomputations of the address groups")
    .counter("egw_feeds_status_writes_total", "FirewallFeed status writes by result");

export class FeedService {
  readonly metrics = feedMetrics();
  readonly catalog = new FeedCatalog();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly objects = new Map<string, Map<string, Resource>>();
  private readonly mirror: ResourceMirror;
  private readonly recompute: Coalescer;
  private readonly statusWriter: Coalescer;
  private readonly sleeper: Sleeper;
  private synced = false;
  private lastOkAtMs: number | undefined;
  private probeTimer: Periodic | undefined;
  private probing = false;
  private lastProbeError: string | undefined;
  private stopped = false;
  private starting: Promise<void> | undefined;

  constructor(private readonly o: FeedServiceOptions) {
    this.log = o.log ?? createLogger("feeds");
    this.clock = o.clock ?? systemClock();
    this.sleeper = new Sleeper(this.clock);
    const sources: MirrorSource[] = KINDS.map((kind) => ({ kind }));
    // Only egw's own namespace: feed credentials live there, and other Secrets are none of its business.
    sources.push({ kind: SECRET_KIND, namespace: FEED_SECRET_NAMESPACE });
    for (const s of sources) this.objects.set(s.kind, new Map());
    this.recompute = new Coalescer(
      this.clock,
      o.debounceMs ?? 100,
      async () => this.refresh(),
      (e) => this.log.error("recompute failed", { error: e }),
    );
    this.statusWriter = new Coalescer(
      this.clock,
      500,
      () => this.writeStatuses(),
      (e) => this.log.error("status write failed", { error: e }),
    );
    this.mirror = new ResourceMirror(o.store, sources, {
      upsert: (kind, obj) => this.objects.get(kind)?.set(keyOf(obj), obj),
      remove: (kind, obj) => this.objects.get(kind)?.delete(keyOf(obj)),
      changed: () => this.recompute.trigger(),
      skipped: (kind, problem) => this.log.warn("skipping malformed object", { kind, problem }),
      resynced: (kind) => this.log.warn("watch restarted from a full list", { kind }),
    });
  }

  /** Loads the cluster (retrying while the datastore is unreachable) and starts following it. */
  start(): Promise<void> {
    this.probeTimer ??= periodic(this.clock, this.o.probeMs ?? 1000, () => this.probe());
    this.starting ??= retryUntilOk(
      async () => {
        const startedAt = this.clock.now();
        const r = await this.mirror.start();
        if (r.ok) {
          this.lastOkAtMs = Math.max(this.lastOkAtMs ?? 0, startedAt);
          this.refresh();
          this.synced = true;
          this.log.info("feeds synced", { groups: this.catalog.size });
        }
        return r;
      },
      {
        sleeper: this.sleeper,
        firstMs: 500,
        maxMs: 5000,
        stopped: () => this.stopped,
        onError: (error, retryInMs) =>
          this.log.warn("cannot load cluster state; retrying", { error, retryInMs }),
      },
    );
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    this.probeTimer?.stop();
    await this.starting;
    await this.mirror.stop();
    await this.recompute.stop();
    await this.statusWriter.stop();
  }

  private availability(): ReturnType<typeof feedAvailability> {
    const availability = feedAvailability({
      synced: this.synced,
      nowMs: this.clock.now(),
      lastOkAtMs: this.lastOkAtMs,
      staleAfterMs: this.o.staleAfterMs ?? 3000,
    });
    this.metrics.set("egw_feeds_available", availability.ok ? 1 : 0);
    return availability;
  }

  /** Answers one request (the server calls this) and counts it. */
  handle(req: FeedRequestIn): FeedReply {
    const availability = this.availability();
    const serverCredentials: Credentials =
      this.o.serverTokens && this.o.serverTokens.length > 0
        ? { kind: "bearer", tokens: this.o.serverTokens }
        : { kind: "none" };
    const reply = handleFeedRequest(req, {
      availability,
      catalog: this.catalog,
      credentials: (g) => this.credentials(g),
      serverCredentials,
      metricsText: () => this.metrics.render(),
    });
    this.metrics.inc("egw_feeds_requests_total", { code: String(reply.status) });
    return reply;
  }

  private credentials(g: AddressGroup): Credentials | { error: string } {
    if (g.auth === undefined) return { kind: "none" };
    return credentialsOf(g.auth, [...(this.objects.get(SECRET_KIND)?.values() ?? [])]);
  }

  private list(kind: string): Resource[] {
    return [...(this.objects.get(kind)?.values() ?? [])];
  }

  /** Recomputes every group from the mirror and updates the catalog. */
  private refresh(): void {
    const groups = addressGroups({
      pools: this.list("IPPool"),
      gateways: this.list("EgressGateway"),
      namespaces: this.list("Namespace"),
      pods: this.list("Pod"),
      firewallFeeds: this.list("FirewallFeed"),
    });
    const changed = this.catalog.update(groups, new Date(this.clock.now()).toISOString());
    this.metrics.inc("egw_feeds_recomputes_total");
    this.metrics.set("egw_feeds_groups", this.catalog.size);
    for (const path of changed) {
      const s = this.catalog.summary(path);
      if (s === undefined) this.metrics.remove("egw_feeds_entries", { group: path });
      else this.metrics.set("egw_feeds_entries", s.entries, { group: path });
      if (s !== undefined && this.synced)
        this.log.info("address group changed", { group: path, entries: s.entries, lastChange: s.lastChange });
    }
    this.statusWriter.trigger();
  }

  private async writeStatuses(): Promise<void> {
    if (this.o.writeStatus === false || !this.synced) return;
    const feeds = this.objects.get("FirewallFeed") ?? new Map<string, Resource>();
    for (const feed of feeds.values()) {
      const s = this.catalog.summary(`custom/${feed.metadata.name}`);
      if (s === undefined || this.stopped) continue;
      const want = desiredFeedStatus(this.o.advertiseUrl, s);
      if (statusIsCurrent(feed, want)) continue;
      const r = await writeFeedStatus(this.o.store, feed.metadata.name, want);
      this.metrics.inc("egw_feeds_status_writes_total", { result: r.ok ? r.value : "error" });
      if (!r.ok) {
        this.log.warn("cannot write FirewallFeed status; retrying", { error: r.error });
        this.statusWriter.trigger();
        await this.sleeper.sleep(1000);
        return;
      }
    }
  }

  /** One cheap read; its success keeps the feeds available (a broken watch alone says nothing). */
  private probe(): void {
    if (this.probing || this.stopped) return;
    this.probing = true;
    const startedAt = this.clock.now();
    void this.o.store
      .get({ kind: "Namespace", name: "default" })
      .then((r) => {
        if (r.ok || r.error.code === "NotFound") {
          this.lastOkAtMs = Math.max(this.lastOkAtMs ?? 0, startedAt);
          if (this.lastProbeError !== undefined) this.log.info("datastore answers again; serving feeds");
          this.lastProbeError = undefined;
        } else {
          if (this.lastProbeError === undefined)
            this.log.warn("datastore read failed; feeds answer 503 until it answers", {
              error: r.error.message,
            });
          this.lastProbeError = r.error.message;
        }
      })
      .finally(() => {
        this.probing = false;
        this.availability(); // keeps the gauge current between requests
      });
  }
}

const keyOf = (o: Resource): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
