// The poller against a real HTTP server on loopback and a real state dir, with nft replaced by a
// recorder: If-None-Match, keeping the last good copy on errors, and a restart that enforces the
// stored copy before it fetches.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fetchFeed } from "./feed-fetch.js";
import { runFeedPoller } from "./feed-poller.js";
import { addFeed, type FeedSubscription } from "./firewall-feeds.js";
import { changeFirewallState, readFirewallState } from "./firewall-store.js";
import { memoryLogger } from "../util/log.js";
import { ok } from "../util/result.js";
import { waitFor } from "../util/wait.js";

const DEADLINE_MS = 15_000;

interface FeedServer {
  server: Server;
  url: string;
  entries: string[];
  status: number;
  requests: IncomingHttpHeaders[];
}

const startFeedServer = async (): Promise<FeedServer> => {
  const fs: FeedServer = { server: createServer(), url: "", entries: [], status: 200, requests: [] };
  fs.server.on("request", (req, res) => {
    fs.requests.push(req.headers);
    if (fs.status !== 200) {
      res.writeHead(fs.status, { "content-type": "text/plain" });
      return res.end("datastore not synced\n");
    }
    const body = `# test feed\n${fs.entries.join("\n")}\n`;
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { etag });
      return res.end();
    }
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", etag });
    res.end(body);
  });
  await new Promise<void>((r) => fs.server.listen(0, "127.0.0.1", r));
  fs.url = `http://127.0.0.1:${(fs.server.address() as AddressInfo).port}/feeds/gateway/payments/pay.txt`;
  return fs;
};

const dir = mkdtempSync(join(tmpdir(), "egw-feed-poller-"));
let feed: FeedServer;
before(async () => {
  feed = await startFeedServer();
});
after(() => {
  feed.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const loads: string[][] = [];
const logger = memoryLogger("feed-poller");
const startPoller = (): { stop: () => Promise<void> } => {
  let resolveStop = (): void => undefined;
  const stop = new Promise<void>((r) => (resolveStop = r));
  const done = runFeedPoller(
    {
      stateDir: dir,
      fetchFeed: (url, etag) => fetchFeed(url, etag, 2000),
      applyAllowSet: async (_host, cidrs) => {
        loads.push([...cidrs]);
        return ok(undefined);
      },
      log: logger,
    },
    stop,
  );
  return {
    stop: async () => {
      resolveStop();
      await done;
    },
  };
};

const subscription = (): FeedSubscription | undefined => readFirewallState(dir).feeds[0];
const lastLoad = (): string[] | undefined => loads[loads.length - 1];

describe("feed poller", () => {
  it("follows the feed, sends If-None-Match, keeps the last good copy and survives a restart", async () => {
    feed.entries = ["10.10.0.1/32"];
    const added = await changeFirewallState(dir, async (s) =>
      ok({
        state: { ...addFeed(s, "db", feed.url, 1, new Date()).state, allow: { db: ["192.0.2.0/24"] } },
        value: 0,
      }),
    );
    assert.ok(added.ok);
    let poller = startPoller();
    try {
      // At start it loads the stored list (hand-added only), then the feed's entries join it.
      assert.deepEqual(loads[0], ["192.0.2.0/24"]);
      assert.ok(
        await waitFor(() => lastLoad()?.join() === "10.10.0.1/32,192.0.2.0/24", DEADLINE_MS),
        `loads: ${JSON.stringify(loads)}`,
      );
      assert.equal(feed.requests[0]?.["if-none-match"], undefined);
      const etag = subscription()?.etag;
      assert.ok(etag);
      // Unchanged: answered 304 to the stored ETag, nothing loaded.
      const loaded = loads.length;
      assert.ok(await waitFor(() => subscription()?.lastFetch?.result === "unchanged", DEADLINE_MS));
      assert.equal(feed.requests[feed.requests.length - 1]?.["if-none-match"], etag);
      assert.equal(loads.length, loaded);

      // Scale up: a new entry is loaded with the others.
      feed.entries = ["10.10.0.1/32", "10.10.0.2/32"];
      assert.ok(
        await waitFor(() => lastLoad()?.join() === "10.10.0.1/32,10.10.0.2/32,192.0.2.0/24", DEADLINE_MS),
      );

      // The server fails: the firewall keeps its copy and says so.
      feed.status = 503;
      assert.ok(await waitFor(() => subscription()?.lastFetch?.result === "failed", DEADLINE_MS));
      assert.deepEqual(subscription()?.entries, ["10.10.0.1/32", "10.10.0.2/32"]);
      assert.match(subscription()?.lastFetch?.message ?? "", /HTTP 503: datastore not synced/);
      assert.ok(logger.records.some((r) => /Using old copy for refresh/.test(r.msg)));
      assert.equal(lastLoad()?.join(), "10.10.0.1/32,10.10.0.2/32,192.0.2.0/24");
    } finally {
      await poller.stop();
    }

    // A restarted poller enforces the stored copy at once and asks with the stored ETag.
    feed.status = 200;
    const storedEtag = subscription()?.etag;
    const before = { loads: loads.length, requests: feed.requests.length };
    poller = startPoller();
    try {
      assert.deepEqual(loads[before.loads], ["10.10.0.1/32", "10.10.0.2/32", "192.0.2.0/24"]);
      assert.ok(await waitFor(() => feed.requests.length > before.requests, DEADLINE_MS));
      assert.equal(feed.requests[before.requests]?.["if-none-match"], storedEtag);

      // Scale down: the removed entry leaves; the hand-added one stays.
      feed.entries = ["10.10.0.1/32"];
      assert.ok(await waitFor(() => lastLoad()?.join() === "10.10.0.1/32,192.0.2.0/24", DEADLINE_MS));

      // The server goes away: a network error keeps the copy too.
      feed.server.close();
      feed.server.closeAllConnections();
      assert.ok(
        await waitFor(() => /ECONNREFUSED/.test(subscription()?.lastFetch?.message ?? ""), DEADLINE_MS),
        JSON.stringify(subscription()),
      );
      assert.deepEqual(subscription()?.entries, ["10.10.0.1/32"]);
    } finally {
      await poller.stop();
    }
  });
});
