// The lab firewall's feed poller (the loop, with its I/O passed in): it polls each feed in
// firewall.json when its interval has passed, records the answer there (a failure keeps the last
// good copy) and, when a host's allow list changed, replaces that host's nft set in one
// transaction. On start it loads every host's stored list first, so a restarted poller enforces
// its last good copies before it fetches anything. It never edits hand-added entries. Also the
// argv that runs it as a lab component in the router's namespace (feed-poller-main.ts).
import { applyFetch, feedsDue, hostAllowList, redactFeedUrl, type FeedAnswer } from "./firewall-feeds.js";
import { firewalledHosts } from "./firewall.js";
import { changeFirewallState, readFirewallState } from "./firewall-store.js";
import { inNetns } from "./exec.js";
import { labScriptArgv } from "./processes.js";
import type { ExternalHost } from "./topology.js";
import type { Logger } from "../util/log.js";
import { ok, type Result } from "../util/result.js";
import { sleep } from "../util/wait.js";

export interface FeedPollerDeps {
  stateDir: string;
  fetchFeed: (url: string, etag: string | undefined) => Promise<FeedAnswer>;
  /** Replaces the host's allow set with exactly these CIDRs, atomically. */
  applyAllowSet: (host: ExternalHost, cidrs: readonly string[]) => Promise<Result<void, string>>;
  log: Logger;
  now?: () => Date;
}

/** The lab component (and log) name of the poller. */
export const FEED_POLLER_COMPONENT = "feed-poller";

/** The poller runs where the firewall is, so it reaches feed servers as a real firewall would. */
export const feedPollerArgv = (stateDir: string, routerNetns: string): string[] =>
  inNetns(
    routerNetns,
    process.execPath,
    labScriptArgv("feed-poller-main", ["--state-dir", stateDir]).slice(1),
  );

/** How often the poller looks at firewall.json for due or new feeds. */
export const POLLER_TICK_MS = 250;

const hostByName = (name: string): ExternalHost | undefined => firewalledHosts().find((h) => h.name === name);

/** Loads every firewalled host's stored allow list into nft (under the state lock). */
export const enforceStoredLists = async (deps: FeedPollerDeps): Promise<Result<void, string>> =>
  changeFirewallState(deps.stateDir, async (state) => {
    for (const host of firewalledHosts()) {
      const r = await deps.applyAllowSet(host, hostAllowList(state, host.name));
      if (!r.ok) return r;
    }
    return ok({ value: undefined });
  });

/** Fetches one feed and records the answer; loads the host's set first when its list changed. */
export const pollFeed = async (
  deps: FeedPollerDeps,
  host: string,
  url: string,
  etag?: string,
): Promise<void> => {
  const now = deps.now ?? (() => new Date());
  const answer = await deps.fetchFeed(url, etag);
  const r = await changeFirewallState(deps.stateDir, async (state) => {
    const at = now();
    const applied = applyFetch(state, host, url, answer, at);
    const h = applied.changedHost === undefined ? undefined : hostByName(applied.changedHost);
    if (h) {
      const loaded = await deps.applyAllowSet(h, hostAllowList(applied.state, h.name));
      if (!loaded.ok) {
        // nft did not take the new list: the old copy stays (and so does its ETag, so the next
        // fetch brings the list again).
        const message = `the firewall did not load the list: ${loaded.error}`;
        const kept = applyFetch(state, host, url, { kind: "failed", message }, at);
        return ok({ state: kept.state, value: kept.log });
      }
    }
    return ok({ state: applied.state, value: applied.log });
  });
  if (!r.ok) {
    deps.log.error("cannot apply the feed", { host, url: redactFeedUrl(url), error: r.error });
    return;
  }
  if (r.value) deps.log[r.value.level](r.value.msg, r.value.fields);
};

/** Polls until stop resolves; each feed is fetched on its own, at most one fetch per feed at a time. */
export const runFeedPoller = async (deps: FeedPollerDeps, stop: Promise<void>): Promise<void> => {
  const now = deps.now ?? (() => new Date());
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const enforced = await enforceStoredLists(deps);
  if (!enforced.ok) deps.log.error("cannot load the stored allow lists", { error: enforced.error });
  const inFlight = new Map<string, Promise<void>>();
  while (!stopped) {
    for (const sub of feedsDue(readFirewallState(deps.stateDir), now())) {
      const key = `${sub.host} ${sub.url}`;
      if (inFlight.has(key)) continue;
      const p = pollFeed(deps, sub.host, sub.url, sub.etag).finally(() => inFlight.delete(key));
      inFlight.set(key, p);
    }
    await Promise.race([sleep(POLLER_TICK_MS), stop]);
  }
  await Promise.allSettled(inFlight.values());
};
