import assert from "node:assert/strict";
import { test } from "node:test";
import { addressGroups } from "./feed-entries.js";
import { firewallFeed, gateway, inputs, ns, pool, replica } from "./testing/objects.js";

const world = inputs({
  pools: [
    pool("egress-a", "10.10.0.0/24"),
    pool("egress-b", "10.10.1.0/24"),
    pool("pods", "10.244.0.0/16", ["Workload"]),
  ],
  namespaces: [ns("payments", { team: "payments" }), ns("shop", { team: "shop" })],
  gateways: [
    gateway("payments", "gw", { "egw.dev/team": "payments" }),
    gateway("shop", "gw", { "egw.dev/team": "shop" }),
    gateway("shop", "idle"),
  ],
  pods: [
    replica("payments", "gw", 1, "10.10.0.12"),
    replica("payments", "gw", 0, "10.10.0.9", { draining: true }),
    replica("shop", "gw", 0, "10.10.1.3"),
    { apiVersion: "v1", kind: "Pod", metadata: { name: "client", namespace: "shop" } },
  ],
  firewallFeeds: [
    firewallFeed("payments-db", { selector: "egw.dev/team == 'payments'" }),
    firewallFeed("nobody", { selector: "egw.dev/team == 'none'" }),
    firewallFeed("broken", { selector: "egw.dev/team ==" }),
    firewallFeed("shop-ns", { selector: "all()", namespaceSelector: "team == 'shop'", formats: ["json"] }),
  ],
});

const byPath = (path: string) => {
  const g = addressGroups(world).find((x) => x.path === path);
  assert.ok(g, `group ${path}`);
  return g;
};

test("a group per egress pool, gateway, namespace with gateways and FirewallFeed; workload pools have none", () => {
  assert.deepEqual(
    addressGroups(world).map((g) => g.path),
    [
      "custom/broken",
      "custom/nobody",
      "custom/payments-db",
      "custom/shop-ns",
      "gateway/payments/gw",
      "gateway/shop/gw",
      "gateway/shop/idle",
      "namespace/payments",
      "namespace/shop",
      "pool/egress-a",
      "pool/egress-b",
    ],
  );
});

test("entries are sorted numerically, /32, draining replicas included", () => {
  const g = byPath("pool/egress-a");
  assert.deepEqual(
    g.entries.map((e) => [e.cidr, e.pod, e.draining]),
    [
      ["10.10.0.9/32", "payments/gw-0", true],
      ["10.10.0.12/32", "payments/gw-1", false],
    ],
  );
  assert.deepEqual(
    byPath("namespace/shop").entries.map((e) => e.cidr),
    ["10.10.1.3/32"],
  );
  assert.deepEqual(byPath("gateway/shop/idle").entries, []);
});

test("a FirewallFeed lists the gateways its selectors cover; one that parses nothing is an error, not empty", () => {
  assert.deepEqual(
    byPath("custom/payments-db").entries.map((e) => e.ip),
    ["10.10.0.9", "10.10.0.12"],
  );
  assert.deepEqual(
    byPath("custom/shop-ns").entries.map((e) => e.ip),
    ["10.10.1.3"],
  );
  assert.deepEqual(byPath("custom/shop-ns").formats, ["json"]);
  assert.deepEqual(byPath("custom/nobody").entries, []);
  assert.equal(byPath("custom/nobody").error, undefined);
  assert.match(byPath("custom/broken").error ?? "", /FirewallFeed broken: spec\.selector/);
});

test("a deleted gateway's draining replica stays in its pool, namespace and gateway groups until its pod goes", () => {
  const gone = { ...world, gateways: world.gateways.filter((g) => g.metadata.namespace !== "payments") };
  const groups = addressGroups(gone);
  const g = (p: string) => groups.find((x) => x.path === p)?.entries.map((e) => e.ip);
  assert.deepEqual(g("gateway/payments/gw"), ["10.10.0.9", "10.10.0.12"]);
  assert.deepEqual(g("namespace/payments"), ["10.10.0.9", "10.10.0.12"]);
  assert.deepEqual(g("pool/egress-a"), ["10.10.0.9", "10.10.0.12"]);
  // Its labels are gone with it: no selector can cover it any more.
  assert.deepEqual(g("custom/payments-db"), []);
});

test("IPv6 egress IPs are /128 and come after IPv4", () => {
  const groups = addressGroups(
    inputs({
      pools: [pool("v6", "2001:db8::/64"), pool("v4", "10.10.0.0/24")],
      gateways: [gateway("a", "gw")],
      pods: [replica("a", "gw", 0, "2001:db8::5"), replica("a", "gw", 1, "10.10.0.1")],
    }),
  );
  assert.deepEqual(
    groups.find((g) => g.path === "gateway/a/gw")?.entries.map((e) => e.cidr),
    ["10.10.0.1/32", "2001:db8::5/128"],
  );
});
