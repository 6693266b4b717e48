import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addFeed,
  applyFetch,
  diffEntries,
  effectiveAllowLists,
  emptyFirewallState,
  feedsDue,
  hostAllowList,
  parseFeedInterval,
  parseFeedUrl,
  parseFirewallState,
  removeFeed,
  type FirewallState,
} from "./firewall-feeds.js";

const URL_A = "http://172.30.0.2:8080/feeds/gateway/payments/pay.txt";
const URL_B = "http://172.30.0.2:8080/feeds/namespace/shop.txt";
const T0 = new Date("2026-11-28T10:00:00Z");
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

const subscribed = (): FirewallState => {
  let s: FirewallState = { allow: { db: ["172.30.0.0/24"] }, feeds: [] };
  s = addFeed(s, "db", URL_A, 1, T0).state;
  return s;
};

const body = (...ips: string[]): string => ["# egw feed", ...ips].join("\n");

describe("lab firewall feeds (state)", () => {
  it("reads the older plain allow lists and the {allow, feeds} shape, tolerating junk", () => {
    assert.deepEqual(parseFirewallState({ db: ["10.0.0.0/24"] }), {
      allow: { db: ["10.0.0.0/24"] },
      feeds: [],
    });
    assert.deepEqual(parseFirewallState("nope"), emptyFirewallState());
    const s = parseFirewallState({
      allow: { db: ["10.0.0.0/24", 7] },
      feeds: [
        { host: "db", url: URL_A, intervalSeconds: 5, addedAt: "x", entries: ["10.10.0.1/32"], etag: '"e1"' },
        { url: "missing host" },
      ],
    });
    assert.deepEqual(s.allow, { db: ["10.0.0.0/24"] });
    assert.equal(s.feeds.length, 1);
    assert.equal(s.feeds[0]?.etag, '"e1"');
  });

  it("validates --feed and --interval", () => {
    assert.deepEqual(parseFeedUrl(URL_A), { ok: true, value: URL_A });
    assert.equal(parseFeedUrl("ftp://x/y").ok, false);
    assert.equal(parseFeedUrl("172.30.0.2/feeds").ok, false);
    assert.deepEqual(parseFeedInterval("1"), { ok: true, value: 1 });
    for (const bad of ["0", "1.5", "-1", "86401", "x"]) assert.equal(parseFeedInterval(bad).ok, false, bad);
  });

  it("keeps feeds apart from hand-added entries: removing a feed leaves them", () => {
    let s = subscribed();
    s = applyFetch(
      s,
      "db",
      URL_A,
      { kind: "body", status: 200, body: body("10.10.0.1/32", "10.10.0.2/32") },
      at(1),
    ).state;
    s = addFeed(s, "db", URL_B, 10, at(2)).state;
    s = applyFetch(
      s,
      "db",
      URL_B,
      { kind: "body", status: 200, body: body("10.10.0.2/32", "172.30.0.5") },
      at(3),
    ).state;
    // 172.30.0.5 is inside the hand-added /24; 10.10.0.2 is in both feeds: each appears once.
    assert.deepEqual(hostAllowList(s, "db"), ["10.10.0.1/32", "10.10.0.2/32", "172.30.0.0/24"]);
    assert.deepEqual(effectiveAllowLists(s), { db: ["10.10.0.1/32", "10.10.0.2/32", "172.30.0.0/24"] });
    const removed = removeFeed(s, "db", URL_A);
    assert.ok(removed.ok);
    assert.deepEqual(hostAllowList(removed.value, "db"), ["10.10.0.2/32", "172.30.0.0/24"]);
    assert.deepEqual(removed.value.allow, { db: ["172.30.0.0/24"] });
    const again = removeFeed(removed.value, "db", URL_A);
    assert.equal(again.ok, false);
    if (!again.ok)
      assert.match(again.error, /db does not poll the feed .*pay\.txt \(its feeds: .*shop\.txt\)/);
  });

  it("adding a feed twice only changes its interval", () => {
    const s = subscribed();
    const r = addFeed(s, "db", URL_A, 30, at(5));
    assert.equal(r.added, false);
    assert.equal(r.state.feeds.length, 1);
    assert.equal(r.state.feeds[0]?.intervalSeconds, 30);
    assert.equal(r.state.feeds[0]?.addedAt, T0.toISOString());
  });

  it("diffs entry lists", () => {
    assert.deepEqual(diffEntries(["a", "b", "c"], ["b", "c", "d"]), { added: ["d"], removed: ["a"] });
    assert.deepEqual(diffEntries([], []), { added: [], removed: [] });
  });

  it("a feed is due when never fetched or when its interval has passed", () => {
    let s = subscribed();
    assert.equal(feedsDue(s, T0).length, 1);
    s = applyFetch(s, "db", URL_A, { kind: "not-modified", status: 304 }, at(10)).state;
    assert.equal(feedsDue(s, at(10.5)).length, 0);
    assert.equal(feedsDue(s, at(11)).length, 1);
  });

  it("a new body replaces the copy (with its ETag) and names the host whose set changes", () => {
    const r = applyFetch(
      subscribed(),
      "db",
      URL_A,
      { kind: "body", status: 200, body: body("10.10.0.1/32"), etag: '"v1"' },
      at(1),
    );
    assert.equal(r.changedHost, "db");
    const sub = r.state.feeds[0];
    assert.deepEqual(sub?.entries, ["10.10.0.1/32"]);
    assert.equal(sub?.etag, '"v1"');
    assert.deepEqual(sub?.lastFetch, { at: at(1).toISOString(), result: "updated", status: 200 });
    assert.deepEqual(r.log?.fields.added, ["10.10.0.1/32"]);
    // The same body again: recorded, but no set to replace.
    const same = applyFetch(
      r.state,
      "db",
      URL_A,
      { kind: "body", status: 200, body: body("10.10.0.1/32") },
      at(2),
    );
    assert.equal(same.changedHost, undefined);
    assert.equal(same.log, undefined, "the same list again is not worth a log line");
    assert.equal(same.state.feeds[0]?.etag, undefined);
  });

  it("a failure or 304 keeps the last good copy; a failure says it uses the old copy", () => {
    const good = applyFetch(
      subscribed(),
      "db",
      URL_A,
      { kind: "body", status: 200, body: body("10.10.0.1/32"), etag: '"v1"' },
      at(1),
    ).state;
    const failed = applyFetch(
      good,
      "db",
      URL_A,
      { kind: "failed", status: 503, message: "HTTP 503: not synced" },
      at(2),
    );
    assert.equal(failed.changedHost, undefined);
    assert.equal(failed.log?.level, "warn");
    assert.match(
      failed.log?.msg ?? "",
      /Unable to fetch external list: HTTP 503: not synced\. Using old copy for refresh\./,
    );
    const sub = failed.state.feeds[0];
    assert.deepEqual(sub?.entries, ["10.10.0.1/32"]);
    assert.equal(sub?.etag, '"v1"');
    assert.equal(sub?.lastSuccess, at(1).toISOString());
    assert.deepEqual(sub?.lastFetch, {
      at: at(2).toISOString(),
      result: "failed",
      status: 503,
      message: "HTTP 503: not synced",
    });
    const unchanged = applyFetch(failed.state, "db", URL_A, { kind: "not-modified", status: 304 }, at(3));
    assert.deepEqual(unchanged.state.feeds[0]?.entries, ["10.10.0.1/32"]);
    assert.equal(unchanged.state.feeds[0]?.lastFetch?.result, "unchanged");
    assert.equal(unchanged.changedHost, undefined);
    assert.equal(unchanged.log?.msg, "feed unchanged", "the first good answer after failures is logged");
    const quiet = applyFetch(unchanged.state, "db", URL_A, { kind: "not-modified", status: 304 }, at(4));
    assert.equal(quiet.log, undefined);
  });

  it("bad lines are skipped and reported; a body of nothing but bad lines keeps the old copy", () => {
    const s = subscribed();
    const partial = applyFetch(
      s,
      "db",
      URL_A,
      { kind: "body", status: 200, body: body("10.10.0.1", "bogus") },
      at(1),
    );
    assert.deepEqual(partial.state.feeds[0]?.entries, ["10.10.0.1/32"]);
    assert.equal(partial.state.feeds[0]?.badLines, 1);
    assert.equal(partial.log?.level, "warn");
    assert.deepEqual(partial.log?.fields.badLines, [
      `line 3 "bogus": not an IP address, CIDR or range (e.g. 10.0.0.1, 10.0.0.0/24, 10.0.0.1-10.0.0.9)`,
    ]);
    const json = applyFetch(
      partial.state,
      "db",
      URL_A,
      { kind: "body", status: 200, body: '{"entries": []}' },
      at(2),
    );
    assert.equal(json.state.feeds[0]?.lastFetch?.result, "failed");
    assert.deepEqual(json.state.feeds[0]?.entries, ["10.10.0.1/32"]);
    assert.equal(json.changedHost, undefined);
    // A really empty list (only comments) is applied: the group has no members.
    const empty = applyFetch(
      json.state,
      "db",
      URL_A,
      { kind: "body", status: 200, body: "# empty: no replicas\n" },
      at(3),
    );
    assert.deepEqual(empty.state.feeds[0]?.entries, []);
    assert.equal(empty.changedHost, "db");
  });

  it("a feed removed while it was fetched stays removed", () => {
    const s = removeFeed(subscribed(), "db", URL_A);
    assert.ok(s.ok);
    const r = applyFetch(s.value, "db", URL_A, { kind: "body", status: 200, body: body("10.10.0.1") }, at(1));
    assert.deepEqual(r.state, s.value);
    assert.equal(r.changedHost, undefined);
  });
});
