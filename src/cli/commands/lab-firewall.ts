// `egw lab firewall allow|revoke|list|log`: the lab's upstream firewall in front of db. Sources
// are allowed by hand (CIDRs) or through a feed the firewall polls (`--feed URL`, an address-group
// list in PAN-OS EDL text, e.g. from `egw feeds`); the two are kept apart in firewall.json, so
// revoking a feed leaves the hand-added entries. Every change re-renders the firewall's table from
// the stored state under the state lock the feed poller also takes.
import type { Command } from "commander";
import {
  addFeed,
  DEFAULT_FEED_INTERVAL_SECONDS,
  effectiveAllowLists,
  feedsOf,
  parseFeedInterval,
  parseFeedUrl,
  redactFeedUrl,
  removeFeed,
  type FirewallState,
} from "../../lab/firewall-feeds.js";
import {
  allow,
  firewalledHost,
  firewalledHosts,
  formatFirewallLogEntry,
  parseFirewallLogLine,
  renderFirewall,
  revoke,
} from "../../lab/firewall.js";
import { changeFirewallState, readFirewallState } from "../../lab/firewall-store.js";
import { FEED_POLLER_COMPONENT, feedPollerArgv } from "../../lab/feed-poller.js";
import { startSupervised } from "../../lab/supervision.js";
import { readLines } from "../../lab/logs.js";
import { nftApply } from "../../lab/netns.js";
import { runsAsOurs } from "../../lab/processes.js";
import { labPaths, type LabManifest } from "../../lab/state.js";
import { planTopology, type ExternalHost } from "../../lab/topology.js";
import { err, ok, type Result } from "../../util/result.js";
import { waitFor } from "../../util/wait.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { firewallListJson, formatFirewallList } from "../firewall-view.js";
import { runningLab, untilSignal, type LabFlags } from "./lab.js";

/** How long `allow --feed` waits for the poller's first fetch before it leaves it to `list`. */
const FIRST_FETCH_WAIT_MS = 15_000;

interface ChangeFlags extends LabFlags {
  host: string;
  feed?: string;
  interval?: string;
}

/** Changes the stored state and loads the whole firewall table rendered from it, under the lock. */
const changeFirewall = async (
  m: LabManifest,
  change: (s: FirewallState) => Result<FirewallState, string>,
): Promise<FirewallState> => {
  const t = planTopology(m.name, m.nodes);
  if (!t.ok) throw new CliError(t.error);
  const r = await changeFirewallState(m.stateDir, async (current) => {
    const next = change(current);
    if (!next.ok) return next;
    const applied = await nftApply(t.value.netns.rtr, renderFirewall(effectiveAllowLists(next.value)));
    if (!applied.ok) return err(`cannot update the firewall: ${applied.error}`);
    return ok({ state: next.value, value: next.value });
  });
  if (!r.ok) throw new CliError(r.error);
  return r.value;
};

const pollerRuns = (m: LabManifest): boolean => {
  const rec = m.processes[FEED_POLLER_COMPONENT];
  return rec !== undefined && runsAsOurs(rec.pid, m.stateDir);
};

const describeHost = (host: ExternalHost, state: FirewallState): string => {
  const byHand = state.allow[host.name] ?? [];
  const feeds = feedsOf(state, host.name).length;
  const fromFeeds = feeds === 0 ? "" : ` and the entries of ${feeds} feed${feeds === 1 ? "" : "s"}`;
  return `${host.name} (${host.ip}:${host.port}) allows: ${byHand.length > 0 ? byHand.join(", ") : feeds > 0 ? "nothing by hand" : "nothing"}${fromFeeds}\n`;
};

/** Subscribes the host to a feed and reports the poller's first fetch (or why there is none yet). */
const allowFeed = async (
  ctx: CliContext,
  m: LabManifest,
  host: ExternalHost,
  opts: ChangeFlags,
): Promise<void> => {
  const url = parseFeedUrl(opts.feed ?? "");
  if (!url.ok) throw new CliError(url.error, EXIT_USAGE);
  const interval = parseFeedInterval(opts.interval ?? String(DEFAULT_FEED_INTERVAL_SECONDS));
  if (!interval.ok) throw new CliError(interval.error, EXIT_USAGE);
  let added = false;
  const state = await changeFirewall(m, (s) => {
    const r = addFeed(s, host.name, url.value, interval.value, new Date());
    added = r.added;
    return ok(r.state);
  });
  ctx.io.stdout(
    `${host.name} (${host.ip}:${host.port}) ${added ? "polls" : "already polls"} ${redactFeedUrl(url.value)} every ${interval.value} s\n`,
  );
  // A poller that died (nothing restarts it) is started again: its state is in firewall.json.
  if (!pollerRuns(m)) {
    const t = planTopology(m.name, m.nodes);
    if (!t.ok) throw new CliError(t.error);
    const started = startSupervised({
      stateDir: m.stateDir,
      component: FEED_POLLER_COMPONENT,
      argv: feedPollerArgv(m.stateDir, t.value.netns.rtr),
      netns: t.value.netns.rtr,
    });
    if (!started.ok)
      throw new CliError(`the feed is recorded, but the poller does not run: ${started.error}`);
    ctx.io.stderr(`started the lab's ${FEED_POLLER_COMPONENT} (it was not running; pid ${started.value})\n`);
  }
  if (!added) return ctx.io.stdout(describeHost(host, state));
  const fetched = (): FirewallState | undefined => {
    const s = readFirewallState(m.stateDir);
    return s.feeds.find((f) => f.host === host.name && f.url === url.value)?.lastFetch ? s : undefined;
  };
  await waitFor(() => fetched() !== undefined, FIRST_FETCH_WAIT_MS, 100);
  const now = fetched();
  const sub = now?.feeds.find((f) => f.host === host.name && f.url === url.value);
  if (!now || !sub?.lastFetch) {
    ctx.io.stdout(`  not fetched yet; see egw lab firewall list and egw logs ${FEED_POLLER_COMPONENT}\n`);
    return;
  }
  const f = sub.lastFetch;
  ctx.io.stdout(
    f.result === "failed"
      ? `  first fetch failed: ${f.message ?? "?"}; the feed allows nothing until a fetch succeeds\n`
      : `  first fetch: ${sub.entries.length} entr${sub.entries.length === 1 ? "y" : "ies"}${f.message ? ` (${f.message})` : ""}\n`,
  );
  ctx.io.stdout(describeHost(host, now));
};

export const registerLabFirewall = (lab: Command, ctx: CliContext): void => {
  const fw = lab
    .command("firewall")
    .description("the lab's upstream firewall in front of the external hosts");
  const hostNames = firewalledHosts()
    .map((h) => h.name)
    .join(", ");

  const change = (verb: "allow" | "revoke"): void => {
    const cmd = fw
      .command(verb)
      .description(
        verb === "allow"
          ? "allow sources to connect to a host: CIDRs by hand, or the entries of a feed the firewall polls (--feed)"
          : "remove sources from a host's allow list: CIDRs added by hand, or a feed (--feed) with its entries",
      )
      .requiredOption("--host <host>", `firewalled host (${hostNames})`)
      .argument("[cidr...]", "source addresses or CIDRs, e.g. 172.30.0.0/24")
      .option(
        "--feed <url>",
        verb === "allow"
          ? "poll this address-group feed (PAN-OS EDL text: one IP, CIDR or range per line) and allow its entries"
          : "stop polling this feed; its entries leave the allow list (hand-added entries stay)",
      );
    if (verb === "allow")
      cmd.option(
        "--interval <seconds>",
        `seconds between polls of --feed (default ${DEFAULT_FEED_INTERVAL_SECONDS})`,
      );
    cmd
      .option("--name <lab>", "lab name")
      .option("--state-dir <dir>", "state directory")
      .action(async (cidrs: string[], opts: ChangeFlags) => {
        const host = firewalledHost(opts.host);
        if (!host.ok) throw new CliError(host.error, EXIT_USAGE);
        if (opts.feed !== undefined && cidrs.length > 0)
          throw new CliError(`give source CIDRs or --feed, not both (one change per command)`, EXIT_USAGE);
        if (opts.feed === undefined && cidrs.length === 0)
          throw new CliError(
            `give source CIDRs (e.g. 172.30.0.0/24) or --feed URL (e.g. http://172.30.0.2:8080/feeds/gateway/default/gw.txt)`,
            EXIT_USAGE,
          );
        if (opts.interval !== undefined && opts.feed === undefined)
          throw new CliError(`--interval goes with --feed`, EXIT_USAGE);
        const m = runningLab(ctx, opts);
        if (opts.feed !== undefined && verb === "allow") return allowFeed(ctx, m, host.value, opts);
        let feed: string | undefined;
        if (opts.feed !== undefined) {
          const url = parseFeedUrl(opts.feed);
          if (!url.ok) throw new CliError(url.error, EXIT_USAGE);
          feed = url.value;
        }
        const state = await changeFirewall(m, (s) => {
          if (feed !== undefined) return removeFeed(s, host.value.name, feed);
          const lists =
            verb === "allow"
              ? allow(s.allow, host.value.name, cidrs)
              : revoke(s.allow, host.value.name, cidrs);
          return lists.ok ? ok({ ...s, allow: lists.value }) : lists;
        });
        if (feed !== undefined) ctx.io.stdout(`${host.value.name} no longer polls ${redactFeedUrl(feed)}\n`);
        ctx.io.stdout(describeHost(host.value, state));
      });
  };
  change("allow");
  change("revoke");

  fw.command("list")
    .alias("show")
    .description("show each firewalled host's allow list: entries added by hand and the feeds it polls")
    .option("--json", "as JSON: per host what it allows now, by hand and per feed")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action((opts: LabFlags & { json?: boolean }) => {
      const m = runningLab(ctx, opts);
      const state = readFirewallState(m.stateDir);
      ctx.io.stdout(
        opts.json
          ? `${JSON.stringify(firewallListJson(firewalledHosts(), state), null, 2)}\n`
          : formatFirewallList(firewalledHosts(), state, new Date()),
      );
    });

  fw.command("log")
    .description("each accepted or dropped connection attempt to a firewalled host, with its source IP")
    .option("-f, --follow", "keep printing new attempts")
    .option("--json", "one JSON object per line")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (opts: LabFlags & { follow?: boolean; json?: boolean }) => {
      const m = runningLab(ctx, opts);
      await readLines(
        labPaths(m.stateDir).firewallLog,
        (lines) => {
          for (const line of lines) {
            const e = parseFirewallLogLine(line);
            if (e) ctx.io.stdout(`${opts.json ? JSON.stringify(e) : formatFirewallLogEntry(e)}\n`);
          }
        },
        { follow: opts.follow === true, ...(opts.follow ? { stop: untilSignal() } : {}) },
      );
    });
};
