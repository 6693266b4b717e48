import assert from "node:assert/strict";
import { test } from "node:test";
import { addressGroups, type AddressGroup } from "./feed-entries.js";
import { etagOf, ifNoneMatchHits, renderFeed, uuidV5 } from "./formats.js";
import { gateway, inputs, pool, replica } from "./testing/objects.js";

const groups = addressGroups(
  inputs({
    pools: [pool("egress-a", "10.10.0.0/24")],
    gateways: [gateway("egress", "gw"), gateway("egress", "idle")],
    pods: [
      replica("egress", "gw", 0, "10.10.0.7", { created: "2026-11-28T12:00:00Z" }),
      replica("egress", "gw", 1, "10.10.0.5", { draining: true }),
    ],
  }),
);
const group = (path: string): AddressGroup => groups.find((g) => g.path === path) as AddressGroup;
const LAST = "2026-11-28T12:30:00.000Z";

/** What a firewall takes from a text feed: entries, comments stripped. */
const textEntries = (body: string): string[] =>
  body
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(" ")[0] ?? "");

test("PAN-OS EDL: one entry per line, comment only after the entry; empty group = empty body", () => {
  const r = renderFeed(group("gateway/egress/gw"), "paloalto", LAST);
  assert.equal(r.contentType, "text/plain; charset=utf-8");
  assert.equal(r.body, "10.10.0.5/32 egress/gw-1 draining\n10.10.0.7/32 egress/gw-0\n");
  assert.equal(renderFeed(group("gateway/egress/idle"), "paloalto", LAST).body, "");
});

test("FortiGate: # comment header, then one entry per line; an empty group says so", () => {
  const r = renderFeed(group("pool/egress-a"), "fortigate", LAST);
  assert.deepEqual(textEntries(r.body), ["10.10.0.5/32", "10.10.0.7/32"]);
  assert.match(
    r.body,
    /^# egw address group pool\/egress-a: 2 entries, last change 2026-11-28T12:30:00.000Z\n/,
  );
  const empty = renderFeed(group("gateway/egress/idle"), "fortigate", LAST).body;
  assert.deepEqual(textEntries(empty), []);
  assert.match(empty, /# empty: no egress IP belongs to gateway\/egress\/idle/);
});

test("Check Point GDC: one object, UUIDv5 id stable per group, plain IPs", () => {
  const doc = JSON.parse(renderFeed(group("pool/egress-a"), "checkpoint", LAST).body);
  assert.equal(doc.version, "1.0");
  assert.equal(doc.objects.length, 1);
  const [o] = doc.objects;
  assert.equal(o.name, "egw-pool-egress-a");
  assert.deepEqual(o.ranges, ["10.10.0.5", "10.10.0.7"]);
  assert.match(o.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const again = JSON.parse(renderFeed(group("pool/egress-a"), "checkpoint", "2027-01-01T00:00:00Z").body);
  assert.equal(again.objects[0].id, o.id);
  const other = JSON.parse(renderFeed(group("gateway/egress/gw"), "checkpoint", LAST).body);
  assert.notEqual(other.objects[0].id, o.id);
  const empty = JSON.parse(renderFeed(group("gateway/egress/idle"), "checkpoint", LAST).body);
  assert.deepEqual(empty.objects[0].ranges, []);
  assert.match(empty.objects[0].description, /^empty/);
});

test("UUIDv5 matches the RFC 9562 test vector (DNS namespace, www.example.com)", () => {
  assert.equal(
    uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"),
    "2ed6657d-e927-568b-95e1-2665a8aea6a2",
  );
});

test("JSON: entries with pod, node, since and draining; empty flag", () => {
  const doc = JSON.parse(renderFeed(group("gateway/egress/gw"), "json", LAST).body);
  assert.equal(doc.group, "gateway/egress/gw");
  assert.equal(doc.lastChange, LAST);
  assert.equal(doc.empty, false);
  assert.deepEqual(doc.entries[1], {
    ip: "10.10.0.7/32",
    gateway: "egress/gw",
    pod: "egress/gw-0",
    node: "node-1",
    since: "2026-11-28T12:00:00Z",
    draining: false,
  });
  const empty = JSON.parse(renderFeed(group("gateway/egress/idle"), "json", LAST).body);
  assert.deepEqual([empty.empty, empty.entries, empty.count], [true, [], 0]);
});

test("ETag: same body same tag; If-None-Match accepts lists, weak tags and *", () => {
  const a = renderFeed(group("pool/egress-a"), "fortigate", LAST).body;
  assert.equal(etagOf(a), etagOf(`${a}`));
  assert.notEqual(
    etagOf(a),
    etagOf(renderFeed(group("pool/egress-a"), "fortigate", "2027-01-01T00:00:00Z").body),
  );
  const tag = etagOf(a);
  assert.equal(ifNoneMatchHits(tag, tag), true);
  assert.equal(ifNoneMatchHits(`"x", W/${tag}`, tag), true);
  assert.equal(ifNoneMatchHits("*", tag), true);
  assert.equal(ifNoneMatchHits('"other"', tag), false);
  assert.equal(ifNoneMatchHits(undefined, tag), false);
});
