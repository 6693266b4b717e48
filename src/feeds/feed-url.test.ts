import assert from "node:assert/strict";
import { test } from "node:test";
import { feedBasePath, feedUrlPath, parseFeedRequest } from "./feed-url.js";

const parse = (p: string, f: string | null = null) => {
  const r = parseFeedRequest(p, f);
  return r.ok ? [r.value.path, r.value.format] : [r.error.status, r.error.message];
};

test("suffix or ?format= picks the format; no suffix is PAN-OS", () => {
  assert.deepEqual(parse("/feeds/pool/egress-a"), ["pool/egress-a", "paloalto"]);
  assert.deepEqual(parse("/feeds/pool/egress-a.txt"), ["pool/egress-a", "paloalto"]);
  assert.deepEqual(parse("/feeds/pool/egress-a.fortigate.txt"), ["pool/egress-a", "fortigate"]);
  assert.deepEqual(parse("/feeds/pool/egress-a.checkpoint.json"), ["pool/egress-a", "checkpoint"]);
  assert.deepEqual(parse("/feeds/gateway/shop/gw.json"), ["gateway/shop/gw", "json"]);
  assert.deepEqual(parse("/feeds/namespace/shop", "fortigate"), ["namespace/shop", "fortigate"]);
  assert.deepEqual(parse("/feeds/custom/payments-db", "CheckPoint"), ["custom/payments-db", "checkpoint"]);
});

test("names with dots stay reachable: ?format= takes the segment verbatim, a suffix is taken off once", () => {
  assert.deepEqual(parse("/feeds/pool/a.json", "paloalto"), ["pool/a.json", "paloalto"]);
  assert.deepEqual(parse("/feeds/pool/a.json.txt"), ["pool/a.json", "paloalto"]);
  assert.deepEqual(parse("/feeds/pool/v1.2"), ["pool/v1.2", "paloalto"]);
  assert.equal(feedBasePath("pool/a.json"), "/feeds/pool/a.json.txt");
  assert.equal(feedBasePath("custom/payments-db"), "/feeds/custom/payments-db");
  assert.equal(feedUrlPath("gateway/shop/gw", "checkpoint"), "/feeds/gateway/shop/gw.checkpoint.json");
});

test("bad paths are 404 with a hint; an unknown format is 400", () => {
  assert.deepEqual(parse("/feeds/gateway/shop"), [404, "use /feeds/gateway/<namespace>/<gateway>"]);
  assert.deepEqual(parse("/feeds/vlan/x")[0], 404);
  assert.deepEqual(parse("/feeds/pool/a/b")[0], 404);
  assert.deepEqual(parse("/feeds/pool/.json"), ["pool/.json", "paloalto"]);
  assert.deepEqual(parse("/feeds/pool/a", "cisco")[0], 400);
});
