// The lab component `feed-poller`: runs feed-poller.ts inside the router's namespace (where the
// firewall is, so it reaches the feeds server over the underlay as a real firewall would), with
// nft and HTTP as its I/O. Started by `egw up` as: node feed-poller-main.js --state-dir DIR.
import { fileURLToPath } from "node:url";
import { runCommand } from "./exec.js";
import { fetchFeed } from "./feed-fetch.js";
import { FEED_POLLER_COMPONENT, runFeedPoller } from "./feed-poller.js";
import { renderAllowSetUpdate } from "./firewall.js";
import { createLogger } from "../util/log.js";
import { err, ok } from "../util/result.js";

const main = async (argv: string[]): Promise<void> => {
  const i = argv.indexOf("--state-dir");
  const stateDir = i >= 0 ? argv[i + 1] : undefined;
  if (stateDir === undefined) {
    process.stderr.write("usage: feed-poller-main --state-dir DIR\n");
    process.exit(2);
  }
  const log = createLogger(FEED_POLLER_COMPONENT);
  const stop = new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
  log.info("ready", { stateDir });
  await runFeedPoller(
    {
      stateDir,
      fetchFeed: (url, etag) => fetchFeed(url, etag),
      applyAllowSet: async (host, cidrs) => {
        const r = await runCommand("nft", ["-f", "-"], { input: renderAllowSetUpdate(host, cidrs) });
        return r.ok ? ok(undefined) : err(r.error);
      },
      log,
    },
    stop,
  );
  log.info("stopped");
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`feed-poller: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
