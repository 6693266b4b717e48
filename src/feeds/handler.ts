// One HTTP request to the feeds server, decided without sockets (pure apart from reading the
// catalog's cache): availability first (503 until synced and while the datastore is unreachable —
// a firewall then keeps its last good copy; never an empty or partial 200), then the path, then
// credentials, then If-None-Match. server.ts only moves bytes.
import { authorize, type Credentials } from "./auth.js";
import type { FeedCatalog } from "./catalog.js";
import type { AddressGroup } from "./feed-entries.js";
import { feedUrlPath, FEEDS_PREFIX, parseFeedRequest } from "./feed-url.js";
import { ifNoneMatchHits, JSON_TYPE, TEXT_TYPE } from "./formats.js";

export type Availability = { ok: true } | { ok: false; reason: string };

/** Serving is allowed once the mirror has synced and while a datastore read succeeded recently. */
export const feedAvailability = (i: {
  synced: boolean;
  nowMs: number;
  /** When the last successful datastore read started; undefined before any. */
  lastOkAtMs: number | undefined;
  /** Unavailable after this long without a successful read. */
  staleAfterMs: number;
}): Availability => {
  if (!i.synced) return { ok: false, reason: "the feeds server has not loaded the cluster state yet" };
  if (i.lastOkAtMs === undefined || i.nowMs - i.lastOkAtMs > i.staleAfterMs)
    return {
      ok: false,
      reason: `the datastore has not answered for ${Math.round((i.nowMs - (i.lastOkAtMs ?? 0)) / 100) / 10} s: the feed may be stale, keep your last copy`,
    };
  return { ok: true };
};

export interface FeedRequestIn {
  method: string;
  /** Path and query, as in the request line. */
  url: string;
  headers: { authorization?: string; ifNoneMatch?: string };
}

export interface FeedReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The group and format served (for metrics), when the request named one. */
  served?: { kind: AddressGroup["kind"] };
}

export interface HandlerContext {
  availability: Availability;
  catalog: FeedCatalog;
  /** What a group requires; an error text when its credentials cannot be resolved (served as 503). */
  credentials(group: AddressGroup): Credentials | { error: string };
  /** Required for every path but /healthz and /metrics (egw feeds --token-file); none: open. */
  serverCredentials: Credentials;
  metricsText(): string;
}

const text = (status: number, body: string, headers: Record<string, string> = {}): FeedReply => ({
  status,
  headers: { "content-type": TEXT_TYPE, "cache-control": "no-cache", ...headers },
  body: body.endsWith("\n") ? body : `${body}\n`,
});

const RETRY_AFTER_SECONDS = "5";

export const handleFeedRequest = (req: FeedRequestIn, ctx: HandlerContext): FeedReply => {
  if (req.method !== "GET" && req.method !== "HEAD")
    return text(405, "only GET and HEAD", { allow: "GET, HEAD" });
  const url = new URL(req.url, "http://feeds.invalid");
  const pathname = url.pathname.replace(/\/+$/, "") || "/";
  if (pathname === "/healthz") return text(200, "ok");
  if (pathname === "/metrics")
    return {
      status: 200,
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      body: ctx.metricsText(),
    };
  if (pathname === "/readyz")
    return ctx.availability.ok ? text(200, "ready") : text(503, `not ready: ${ctx.availability.reason}`);
  const deny = (challenge: string, message: string): FeedReply =>
    text(401, `unauthorized: ${message}`, { "www-authenticate": challenge });
  if (pathname === FEEDS_PREFIX) {
    const auth = authorize(req.headers.authorization, ctx.serverCredentials);
    if (!auth.ok) return deny(auth.challenge, auth.message);
    if (!ctx.availability.ok)
      return text(503, `unavailable: ${ctx.availability.reason}`, { "retry-after": RETRY_AFTER_SECONDS });
    const index = ctx.catalog.summaries().map((s) => {
      const g = ctx.catalog.group(s.path);
      return {
        ...s,
        urls: Object.fromEntries((g?.formats ?? []).map((f) => [f, feedUrlPath(s.path, f)])),
      };
    });
    return {
      status: 200,
      headers: { "content-type": JSON_TYPE, "cache-control": "no-cache" },
      body: JSON.stringify({ groups: index }, null, 2) + "\n",
    };
  }
  const parsed = parseFeedRequest(pathname, url.searchParams.get("format"));
  if (!parsed.ok) return text(parsed.error.status, parsed.error.message);
  const { path, format } = parsed.value;
  const group = ctx.catalog.group(path);
  // Until synced, an unknown group may just not be loaded yet: 503 rather than 404.
  if (!ctx.availability.ok)
    return text(503, `unavailable: ${ctx.availability.reason}`, { "retry-after": RETRY_AFTER_SECONDS });
  if (group === undefined) return text(404, `no address group ${path}; GET ${FEEDS_PREFIX} lists them`);
  const required = ctx.credentials(group);
  if ("error" in required)
    return text(503, `unavailable: ${required.error}`, { "retry-after": RETRY_AFTER_SECONDS });
  // A feed's own credentials replace the server-wide token.
  const auth = authorize(
    req.headers.authorization,
    required.kind === "none" ? ctx.serverCredentials : required,
  );
  if (!auth.ok) return deny(auth.challenge, auth.message);
  if (!group.formats.includes(format))
    return text(
      404,
      `${path} is not served as ${format}: its FirewallFeed lists ${group.formats.join(", ")}`,
    );
  if (group.error !== undefined) return text(500, `cannot compute ${path}: ${group.error}`);
  const served = ctx.catalog.served(path, format);
  if (served === undefined) return text(404, `no address group ${path}`);
  const summary = ctx.catalog.summary(path);
  const headers: Record<string, string> = {
    etag: served.etag,
    "cache-control": "no-cache",
    "x-egw-feed-entries": String(group.entries.length),
    "x-egw-feed-empty": String(group.entries.length === 0),
    ...(summary === undefined ? {} : { "x-egw-feed-last-change": summary.lastChange }),
  };
  if (ifNoneMatchHits(req.headers.ifNoneMatch, served.etag))
    return { status: 304, headers, body: "", served: { kind: group.kind } };
  return {
    status: 200,
    headers: { ...headers, "content-type": served.contentType },
    body: served.body,
    served: { kind: group.kind },
  };
};
