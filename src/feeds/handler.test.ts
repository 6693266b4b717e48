import assert from "node:assert/strict";
import { test } from "node:test";
import { FeedCatalog } from "./catalog.js";
import { addressGroups } from "./feed-entries.js";
import { feedAvailability, handleFeedRequest, type HandlerContext } from "./handler.js";
import { firewallFeed, gateway, inputs, pool, replica } from "./testing/objects.js";

const catalog = new FeedCatalog();
catalog.update(
  addressGroups(
    inputs({
      pools: [pool("egress-a", "10.10.0.0/24")],
      gateways: [gateway("shop", "gw", { team: "shop" })],
      pods: [replica("shop", "gw", 0, "10.10.0.4")],
      firewallFeeds: [
        firewallFeed("json-only", { selector: "all()", formats: ["json"] }),
        firewallFeed("broken", { selector: "team ==" }),
        firewallFeed("nobody", { selector: "team == 'none'" }),
      ],
    }),
  ),
  "2026-11-28T13:00:00.000Z",
);
const ctx: HandlerContext = {
  availability: { ok: true },
  catalog,
  credentials: () => ({ kind: "none" }),
  serverCredentials: { kind: "none" },
  metricsText: () => "egw_feeds_groups 1\n",
};
const get = (url: string, c: HandlerContext = ctx) =>
  handleFeedRequest({ method: "GET", url, headers: {} }, c);

test("availability: not before the first sync, not after staleAfter without a datastore answer", () => {
  assert.equal(feedAvailability({ synced: false, nowMs: 10, lastOkAtMs: 5, staleAfterMs: 3000 }).ok, false);
  assert.equal(feedAvailability({ synced: true, nowMs: 3005, lastOkAtMs: 5, staleAfterMs: 3000 }).ok, true);
  assert.equal(feedAvailability({ synced: true, nowMs: 3006, lastOkAtMs: 5, staleAfterMs: 3000 }).ok, false);
});

test("an empty group is a 200 that says it is empty; an uncomputable one is a 500, never an empty 200", () => {
  const empty = get("/feeds/custom/nobody.json");
  assert.equal(empty.status, 200);
  assert.equal(empty.headers["x-egw-feed-empty"], "true");
  assert.equal(JSON.parse(empty.body).empty, true);
  const pan = get("/feeds/custom/nobody");
  assert.deepEqual([pan.status, pan.body, pan.headers["x-egw-feed-entries"]], [200, "", "0"]);
  const broken = get("/feeds/custom/broken.json");
  assert.equal(broken.status, 500);
  assert.match(broken.body, /spec\.selector/);
});

test("a FirewallFeed serves only its formats; unknown ?format= is 400; trailing slash and /feeds index work", () => {
  assert.equal(get("/feeds/custom/json-only.json").status, 200);
  assert.equal(get("/feeds/custom/json-only.txt").status, 404);
  assert.equal(get("/feeds/pool/egress-a?format=cisco").status, 400);
  const index = JSON.parse(get("/feeds/").body) as {
    groups: { path: string; urls: Record<string, string> }[];
  };
  assert.deepEqual(index.groups.find((g) => g.path === "custom/json-only")?.urls, {
    json: "/feeds/custom/json-only.json",
  });
  assert.equal(get("/metrics").body, "egw_feeds_groups 1\n");
});

test("503 for every feed while unavailable, with Retry-After; health stays 200", () => {
  const down = {
    ...ctx,
    availability: { ok: false as const, reason: "the datastore has not answered for 4 s" },
  };
  for (const url of ["/feeds/pool/egress-a", "/feeds/custom/nobody.json", "/feeds"]) {
    const r = get(url, down);
    assert.equal(r.status, 503, url);
    assert.equal(r.headers["retry-after"], "5");
  }
  assert.equal(get("/healthz", down).status, 200);
  assert.equal(get("/readyz", down).status, 503);
});
