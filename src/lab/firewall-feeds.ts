// The lab firewall's allow lists as stored in firewall.json (pure): the entries added by hand and
// the feeds it polls, kept apart so removing a feed leaves the hand-added entries. Each feed keeps
// its last good copy; what a host allows is the union of both. This module decides what a fetch
// outcome does to that state (a failure keeps the old copy, as PAN-OS does); fetching, locking
// the file and loading nft are the poller's and the CLI's job.
import { parseEdl, formatEdlProblems, sortCidrs } from "./edl.js";
import { nonOverlapping, type AllowLists } from "./firewall.js";
import { err, ok, type Result } from "../util/result.js";

export const DEFAULT_FEED_INTERVAL_SECONDS = 10;
export const MAX_FEED_INTERVAL_SECONDS = 86_400;

export type FetchResult = "updated" | "unchanged" | "failed";

export interface FeedFetch {
  at: string;
  result: FetchResult;
  /** The HTTP status, when there was an answer. */
  status?: number;
  /** Why it failed, or what was wrong with some lines. */
  message?: string;
}

export interface FeedSubscription {
  host: string;
  url: string;
  intervalSeconds: number;
  addedAt: string;
  /** The last good copy: what the firewall enforces for this feed (empty until the first fetch). */
  entries: string[];
  /** The ETag of the last good copy, sent back as If-None-Match. */
  etag?: string;
  lastFetch?: FeedFetch;
  /** When the last good copy was fetched (or confirmed unchanged). */
  lastSuccess?: string;
  /** Lines of the last good copy that were skipped as invalid. */
  badLines?: number;
}

export interface FirewallState {
  /** Entries added by hand (`egw lab firewall allow --host db CIDR…`), per host. */
  allow: AllowLists;
  feeds: FeedSubscription[];
}

export const emptyFirewallState = (): FirewallState => ({ allow: {}, feeds: [] });

const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

const allowListsOf = (v: unknown): AllowLists => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([host, list]) => [host, stringList(list)]));
};

const subscriptionOf = (v: unknown): FeedSubscription | undefined => {
  if (typeof v !== "object" || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (typeof s.host !== "string" || typeof s.url !== "string") return undefined;
  const interval = typeof s.intervalSeconds === "number" && s.intervalSeconds >= 1 ? s.intervalSeconds : 10;
  const lf = s.lastFetch as Record<string, unknown> | undefined;
  const lastFetch: FeedFetch | undefined =
    typeof lf === "object" && lf !== null && typeof lf.at === "string" && typeof lf.result === "string"
      ? {
          at: lf.at,
          result: lf.result as FetchResult,
          ...(typeof lf.status === "number" ? { status: lf.status } : {}),
          ...(typeof lf.message === "string" ? { message: lf.message } : {}),
        }
      : undefined;
  return {
    host: s.host,
    url: s.url,
    intervalSeconds: interval,
    addedAt: typeof s.addedAt === "string" ? s.addedAt : "",
    entries: stringList(s.entries),
    ...(typeof s.etag === "string" ? { etag: s.etag } : {}),
    ...(lastFetch ? { lastFetch } : {}),
    ...(typeof s.lastSuccess === "string" ? { lastSuccess: s.lastSuccess } : {}),
    ...(typeof s.badLines === "number" ? { badLines: s.badLines } : {}),
  };
};

/**
 * firewall.json as read from disk, tolerant of any shape: `{allow, feeds}`, or the older plain
 * `{host: [cidr…]}` (hand-added entries only).
 */
export const parseFirewallState = (v: unknown): FirewallState => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return emptyFirewallState();
  const o = v as Record<string, unknown>;
  if (!("allow" in o) && !("feeds" in o)) return { allow: allowListsOf(o), feeds: [] };
  return {
    allow: allowListsOf(o.allow),
    feeds: (Array.isArray(o.feeds) ? o.feeds : [])
      .map(subscriptionOf)
      .filter((s): s is FeedSubscription => s !== undefined),
  };
};

/** `--interval S`: whole seconds, 1..86400. */
export const parseFeedInterval = (raw: string): Result<number, string> => {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_FEED_INTERVAL_SECONDS)
    return err(
      `--interval "${raw}" is not a whole number of seconds from 1 to ${MAX_FEED_INTERVAL_SECONDS} (e.g. --interval 10)`,
    );
  return ok(Number(raw));
};

/** `--feed URL`: an absolute http(s) URL. */
export const parseFeedUrl = (raw: string): Result<string, string> => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return err(`--feed "${raw}" is not a URL (e.g. http://172.30.0.2:8080/feeds/gateway/default/gw.txt)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    return err(`--feed "${raw}" must be an http:// or https:// URL, not ${u.protocol}`);
  return ok(u.toString());
};

/** The URL for display and logs: a password in it (basic auth) is masked. */
export const redactFeedUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password === "") return url;
    u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
};

const sameFeed = (s: FeedSubscription, host: string, url: string): boolean =>
  s.host === host && s.url === url;

export const feedsOf = (state: FirewallState, host: string): FeedSubscription[] =>
  state.feeds.filter((s) => s.host === host);

/** Subscribes a host to a feed; an existing subscription only gets the new interval. */
export const addFeed = (
  state: FirewallState,
  host: string,
  url: string,
  intervalSeconds: number,
  now: Date,
): { state: FirewallState; added: boolean } => {
  const existing = state.feeds.find((s) => sameFeed(s, host, url));
  if (existing) {
    return {
      state: { ...state, feeds: state.feeds.map((s) => (s === existing ? { ...s, intervalSeconds } : s)) },
      added: false,
    };
  }
  const sub: FeedSubscription = { host, url, intervalSeconds, addedAt: now.toISOString(), entries: [] };
  return { state: { ...state, feeds: [...state.feeds, sub] }, added: true };
};

/** Unsubscribes a host from a feed; a feed the host does not poll is an error naming the ones it does. */
export const removeFeed = (
  state: FirewallState,
  host: string,
  url: string,
): Result<FirewallState, string> => {
  if (!state.feeds.some((s) => sameFeed(s, host, url))) {
    const current = feedsOf(state, host).map((s) => s.url);
    return err(
      `${host} does not poll the feed ${redactFeedUrl(url)} (its feeds: ${current.length > 0 ? current.map(redactFeedUrl).join(", ") : "none"})`,
    );
  }
  return ok({ ...state, feeds: state.feeds.filter((s) => !sameFeed(s, host, url)) });
};

/** What a host allows: its hand-added entries and every feed's last good copy, without overlaps. */
export const hostAllowList = (state: FirewallState, host: string): string[] =>
  nonOverlapping(
    sortCidrs([...(state.allow[host] ?? []), ...feedsOf(state, host).flatMap((s) => s.entries)]),
  );

/** Every host's effective allow list, for rendering the whole table. */
export const effectiveAllowLists = (state: FirewallState): AllowLists => {
  const hosts = new Set([...Object.keys(state.allow), ...state.feeds.map((s) => s.host)]);
  return Object.fromEntries([...hosts].map((h) => [h, hostAllowList(state, h)]));
};

export interface EntryDiff {
  added: string[];
  removed: string[];
}

export const diffEntries = (before: readonly string[], after: readonly string[]): EntryDiff => {
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((c) => !b.has(c)), removed: before.filter((c) => !a.has(c)) };
};

export const sameEntries = (x: readonly string[], y: readonly string[]): boolean => {
  const d = diffEntries(x, y);
  return d.added.length === 0 && d.removed.length === 0;
};

/** Feeds whose interval has passed since their last fetch (or that were never fetched). */
export const feedsDue = (state: FirewallState, now: Date): FeedSubscription[] =>
  state.feeds.filter(
    (s) =>
      s.lastFetch === undefined || now.getTime() - Date.parse(s.lastFetch.at) >= s.intervalSeconds * 1000,
  );

/** What one HTTP fetch of a feed gave (the fetcher maps every way it can end to one of these). */
export type FeedAnswer =
  | { kind: "body"; status: number; body: string; etag?: string }
  | { kind: "not-modified"; status: 304 }
  | { kind: "failed"; status?: number; message: string };

export interface FetchLog {
  level: "info" | "warn";
  msg: string;
  fields: Record<string, unknown>;
}

export interface FetchApplied {
  state: FirewallState;
  /** The host whose allow list changed, if any (its nft set must be replaced). */
  changedHost?: string;
  /** What to log; absent when nothing is worth a line (the same list again). */
  log?: FetchLog;
}

/**
 * Records one fetch of feed (host, url) in the state. A body replaces the feed's copy (bad lines
 * skipped and reported); 304 keeps it; a failure keeps the last good copy and says so. A
 * subscription removed while the fetch ran is left removed.
 */
export const applyFetch = (
  state: FirewallState,
  host: string,
  url: string,
  answer: FeedAnswer,
  now: Date,
): FetchApplied => {
  const sub = state.feeds.find((s) => sameFeed(s, host, url));
  const at = now.toISOString();
  const base = { host, url: redactFeedUrl(url) };
  if (!sub) return { state, log: { level: "info", msg: "feed removed while it was fetched", fields: base } };
  const replace = (next: FeedSubscription): FirewallState => ({
    ...state,
    feeds: state.feeds.map((s) => (s === sub ? next : s)),
  });
  const failed = (message: string, status?: number): FetchApplied => ({
    state: replace({
      ...sub,
      lastFetch: { at, result: "failed", message, ...(status === undefined ? {} : { status }) },
    }),
    log: {
      level: "warn",
      msg: `Unable to fetch external list: ${message}. Using old copy for refresh.`,
      fields: { ...base, entries: sub.entries.length, ...(status === undefined ? {} : { status }) },
    },
  });
  if (answer.kind === "failed") return failed(answer.message, answer.status);
  // An unchanged list is logged only when it ends a run of failures (or is the first answer):
  // a feed polled every second would otherwise fill the log with nothing.
  const recovered = sub.lastFetch === undefined || sub.lastFetch.result === "failed";
  if (answer.kind === "not-modified") {
    return {
      state: replace({ ...sub, lastFetch: { at, result: "unchanged", status: 304 }, lastSuccess: at }),
      ...(recovered
        ? { log: { level: "info", msg: "feed unchanged", fields: { ...base, entries: sub.entries.length } } }
        : {}),
    };
  }
  const parsed = parseEdl(answer.body);
  const problems = formatEdlProblems(parsed.problems);
  // A body with lines but no valid entry is not a list (a JSON or HTML page at the URL, say):
  // applying it would deny everything the feed allowed.
  if (parsed.entries.length === 0 && parsed.problems.length > 0)
    return failed(`no valid entry in the body (${problems[0] ?? ""})`, answer.status);
  const before = hostAllowList(state, host);
  const next: FeedSubscription = {
    ...sub,
    entries: parsed.entries,
    lastFetch: {
      at,
      result: "updated",
      status: answer.status,
      ...(problems.length > 0 ? { message: `skipped ${parsed.problems.length} bad line(s)` } : {}),
    },
    lastSuccess: at,
    badLines: parsed.problems.length,
  };
  delete next.etag;
  if (answer.etag !== undefined) next.etag = answer.etag;
  const nextState = replace(next);
  const diff = diffEntries(sub.entries, parsed.entries);
  const log: FetchLog = {
    level: problems.length > 0 ? "warn" : "info",
    msg: diff.added.length + diff.removed.length > 0 ? "feed changed" : "feed fetched, same entries",
    fields: {
      ...base,
      status: answer.status,
      entries: parsed.entries.length,
      added: diff.added,
      removed: diff.removed,
      ...(problems.length > 0 ? { badLines: problems } : {}),
    },
  };
  const changed = !sameEntries(before, hostAllowList(nextState, host));
  return {
    state: nextState,
    ...(changed ? { changedHost: host } : {}),
    // Bad lines are reported with the list they came in, not again on every poll of it.
    ...(diff.added.length + diff.removed.length > 0 || recovered ? { log } : {}),
  };
};
