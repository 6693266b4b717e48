// What `egw lab firewall list` prints (pure): per firewalled host its hand-added entries, then
// the feeds it polls with their interval, last fetch, result and entry count; and the same as
// JSON. Reading firewall.json is the command's job.
import {
  feedsOf,
  hostAllowList,
  redactFeedUrl,
  type FeedSubscription,
  type FirewallState,
} from "../lab/firewall-feeds.js";
import type { ExternalHost } from "../lab/topology.js";
import { formatTable } from "../util/table.js";

const ago = (iso: string, now: Date): string => {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

const count = (n: number): string => `${n} entr${n === 1 ? "y" : "ies"}`;

const resultOf = (s: FeedSubscription): string => {
  const f = s.lastFetch;
  if (!f) return "not fetched yet";
  const status = f.status === undefined ? "" : ` (${f.status})`;
  return `${f.result}${status}`;
};

/** One row per feed: what it is, how it went last time, what the firewall enforces from it. */
const feedRows = (feeds: readonly FeedSubscription[], now: Date): string[][] => [
  ["FEED", "INTERVAL", "LAST FETCH", "RESULT", "ENTRIES", "DETAIL"],
  ...feeds.map((s) => [
    redactFeedUrl(s.url),
    `${s.intervalSeconds}s`,
    s.lastFetch ? `${s.lastFetch.at} (${ago(s.lastFetch.at, now)})` : "-",
    resultOf(s),
    String(s.entries.length),
    s.lastFetch?.result === "failed"
      ? `${s.lastFetch.message ?? ""}; using the copy from ${s.lastSuccess ?? "never (empty)"}`
      : (s.lastFetch?.message ?? ""),
  ]),
];

export const formatFirewallList = (
  hosts: readonly ExternalHost[],
  state: FirewallState,
  now: Date,
): string => {
  const out: string[] = [];
  for (const h of hosts) {
    const manual = state.allow[h.name] ?? [];
    const feeds = feedsOf(state, h.name);
    const byHand =
      manual.length > 0 ? manual.join(", ") : feeds.length > 0 ? "(nothing by hand)" : "(nothing allowed)";
    out.push(`${h.name}\t${h.ip}:${h.port}\t${byHand}`);
    if (feeds.length > 0) {
      out.push(...formatTable(feedRows(feeds, now)).map((l) => `  ${l}`));
      out.push(`  allowed now: ${count(hostAllowList(state, h.name).length)} (egw lab firewall list --json)`);
    }
  }
  return `${out.join("\n")}\n`;
};

export interface FirewallHostJson {
  host: string;
  address: string;
  /** Everything the firewall accepts for this host now. */
  allowed: string[];
  byHand: string[];
  feeds: FeedSubscription[];
}

export const firewallListJson = (hosts: readonly ExternalHost[], state: FirewallState): FirewallHostJson[] =>
  hosts.map((h) => ({
    host: h.name,
    address: `${h.ip}:${h.port}`,
    allowed: hostAllowList(state, h.name),
    byHand: state.allow[h.name] ?? [],
    feeds: feedsOf(state, h.name).map((s) => ({ ...s, url: redactFeedUrl(s.url) })),
  }));
