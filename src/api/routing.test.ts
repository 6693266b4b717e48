import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  announcesPool,
  bgpPassword,
  effectiveBgpConfiguration,
  feedSelectsGateway,
  publishDelayFor,
  parseCommunity,
  peersForNode,
  resolveCommunities,
  secretValue,
} from "./routing.js";
import type { Node, Secret } from "./schemas/core.js";
import type { EgressGateway, IPPool } from "./schemas/egress.js";
import type { BGPConfiguration, BGPPeer, BGPPeerSpec, FirewallFeed } from "./schemas/routing.js";

const config = (name: string, spec?: BGPConfiguration["spec"]): BGPConfiguration => ({
  apiVersion: "egw.dev/v1",
  kind: "BGPConfiguration",
  metadata: { name },
  ...(spec ? { spec } : {}),
});

const peer = (name: string, spec: Partial<BGPPeerSpec> = {}): BGPPeer => ({
  apiVersion: "egw.dev/v1",
  kind: "BGPPeer",
  metadata: { name },
  spec: { peerIP: "172.30.0.1", asNumber: 64513, ...spec },
});

const node = (name: string, labels: Record<string, string>, ip: string): Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels },
  status: { addresses: [{ type: "InternalIP", address: ip }] },
});

const pool = (name: string, allowedUses?: ("Workload" | "EgressGateway")[]): IPPool => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name },
  spec: { cidr: "10.10.0.0/24", ...(allowedUses ? { allowedUses } : {}) },
});

const secret = (name: string, fields: Partial<Secret>, namespace = "egw-system"): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  ...fields,
});

describe("parseCommunity", () => {
  it("parses standard and large communities to their parts", () => {
    assert.deepEqual(parseCommunity("64512:100"), {
      ok: true,
      value: { type: "standard", parts: [64512, 100], text: "64512:100" },
    });
    assert.deepEqual(parseCommunity("4294967295:0:7"), {
      ok: true,
      value: { type: "large", parts: [4294967295, 0, 7], text: "4294967295:0:7" },
    });
    assert.equal(parseCommunity("65535:65535").ok, true);
  });

  it("rejects parts out of range, leading zeros, signs and other shapes", () => {
    for (const bad of [
      "65536:1",
      "1:65536",
      "4294967296:1:1",
      "01:2",
      "-1:2",
      "1",
      "1:2:3:4",
      "a:b",
      "1:",
      ":1",
      "",
      " 1:2",
    ])
      assert.equal(parseCommunity(bad).ok, false, bad);
    const r = parseCommunity("4200000000:1");
    assert.ok(!r.ok && r.error.includes("large community"));
  });
});

describe("resolveCommunities", () => {
  const named = [
    { name: "egress", value: "64512:100" },
    { name: "site", value: "64512:1:2" },
    { name: "broken", value: "x" },
  ];

  it("resolves names and literal values in order, without duplicates", () => {
    const r = resolveCommunities(["egress", "65000:7", "site", "64512:100"], named);
    assert.deepEqual(
      r.communities.map((c) => c.text),
      ["64512:100", "65000:7", "64512:1:2"],
    );
    assert.deepEqual(r.problems, []);
  });

  it("leaves out unknown names and bad values, each with a problem", () => {
    const r = resolveCommunities(["nope", "broken", "egress"], named);
    assert.deepEqual(
      r.communities.map((c) => c.text),
      ["64512:100"],
    );
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[0]!, /"nope".*known: broken, egress, site/);
  });
});

describe("effectiveBgpConfiguration", () => {
  it("is undefined without a configuration named default, or when it is disabled", () => {
    assert.equal(effectiveBgpConfiguration([]), undefined);
    assert.equal(effectiveBgpConfiguration([config("other", { asNumber: 65000 })]), undefined);
    assert.equal(effectiveBgpConfiguration([config("default", { enabled: false })]), undefined);
  });

  it("applies defaults to a bare object", () => {
    assert.deepEqual(effectiveBgpConfiguration([config("default")]), {
      asNumber: 64512,
      listenPort: 179,
      ipPools: undefined,
      communities: [],
      bfd: { minIntervalMs: 100, multiplier: 3 },
      problems: [],
    });
  });

  it("uses the default object's settings and ignores others", () => {
    const eff = effectiveBgpConfiguration([
      config("other", { asNumber: 1 }),
      config("default", {
        asNumber: 65001,
        communities: [{ name: "egress", value: "65001:10" }],
        advertise: { ipPools: ["egress-a"], communities: ["egress", "nope"] },
        bfd: { multiplier: 5 },
      }),
    ]);
    assert.ok(eff);
    assert.equal(eff.asNumber, 65001);
    assert.deepEqual(eff.ipPools, ["egress-a"]);
    assert.deepEqual(
      eff.communities.map((c) => c.text),
      ["65001:10"],
    );
    assert.deepEqual(eff.bfd, { minIntervalMs: 100, multiplier: 5 });
    assert.equal(eff.problems.length, 1);
  });

  it("treats an empty ipPools list as every egress pool", () => {
    assert.equal(
      effectiveBgpConfiguration([config("default", { advertise: { ipPools: [] } })])?.ipPools,
      undefined,
    );
  });
});

describe("announcesPool", () => {
  const all = effectiveBgpConfiguration([config("default")])!;
  const some = effectiveBgpConfiguration([config("default", { advertise: { ipPools: ["a"] } })])!;

  it("announces only pools that hold egress IPs", () => {
    assert.equal(announcesPool(all, pool("a", ["EgressGateway"])), true);
    assert.equal(announcesPool(all, pool("w")), false);
    assert.equal(announcesPool(all, pool("w", ["Workload"])), false);
  });

  it("announces only the listed pools when advertise.ipPools is set", () => {
    assert.equal(announcesPool(some, pool("a", ["EgressGateway"])), true);
    assert.equal(announcesPool(some, pool("b", ["EgressGateway", "Workload"])), false);
  });
});

describe("peersForNode", () => {
  const n1 = node("node-1", { rack: "r1" }, "172.30.0.11");
  const peers = [
    peer("everyone"),
    peer("rack-1", { peerIP: "172.30.1.1", nodeSelector: "rack == 'r1'" }),
    peer("rack-2", { peerIP: "172.30.2.1", nodeSelector: "rack == 'r2'" }),
    peer("just-node-1", { peerIP: "172.30.3.1", node: "node-1" }),
    peer("just-node-2", { peerIP: "172.30.3.2", node: "node-2" }),
    peer("broken", { peerIP: "172.30.4.1", nodeSelector: "rack ==" }),
    peer("itself", { peerIP: "172.30.0.11" }),
  ];

  it("selects by node name, by Node labels, or all nodes; sorted by name, defaults applied", () => {
    const got = peersForNode(peers, n1);
    assert.deepEqual(
      got.map((p) => p.metadata.name),
      ["everyone", "just-node-1", "rack-1"],
    );
    assert.equal(got[0]!.spec.bfd, true);
    assert.equal(got[0]!.spec.holdTimeSeconds, 90);
  });

  it("keeps explicit settings and does not modify its input", () => {
    const input = [peer("slow", { bfd: false, holdTimeSeconds: 240 })];
    const before = JSON.stringify(input);
    assert.deepEqual(peersForNode(input, n1)[0]!.spec, {
      peerIP: "172.30.0.1",
      asNumber: 64513,
      bfd: false,
      holdTimeSeconds: 240,
    });
    assert.equal(JSON.stringify(input), before);
  });

  it("gives a node without labels the peers without a selector only", () => {
    const bare: Node = { apiVersion: "v1", kind: "Node", metadata: { name: "node-9" } };
    assert.deepEqual(
      peersForNode(peers, bare).map((p) => p.metadata.name),
      ["everyone", "itself"],
    );
  });
});

describe("secretValue and bgpPassword", () => {
  const secrets = [
    secret("bgp", {
      data: { password: Buffer.from("s3cr3t").toString("base64"), both: "YQ==" },
      stringData: { both: "b" },
    }),
    secret("elsewhere", { stringData: { password: "x" } }, "default"),
    secret("bad", { data: { password: "%%%" } }),
  ];

  it("decodes data, prefers stringData, and reads only the egw-system namespace", () => {
    assert.deepEqual(secretValue(secrets, { name: "bgp", key: "password" }), { ok: true, value: "s3cr3t" });
    assert.deepEqual(secretValue(secrets, { name: "bgp", key: "both" }), { ok: true, value: "b" });
    const other = secretValue(secrets, { name: "elsewhere", key: "password" });
    assert.ok(!other.ok && other.error === "Secret egw-system/elsewhere does not exist");
  });

  it("names the missing key and the keys there are, and undecodable data", () => {
    const r = secretValue(secrets, { name: "bgp", key: "pw" });
    assert.ok(!r.ok);
    assert.equal(r.error, 'Secret egw-system/bgp has no key "pw" (keys: both, password)');
    const b = secretValue(secrets, { name: "bad", key: "password" });
    assert.ok(!b.ok && b.error.includes("not valid base64"));
  });

  it("gives no password for a peer without one, the value or an error naming the peer", () => {
    assert.deepEqual(bgpPassword(peer("p"), secrets), { ok: true, value: undefined });
    assert.deepEqual(
      bgpPassword(peer("p", { password: { secretKeyRef: { name: "bgp", key: "password" } } }), secrets),
      { ok: true, value: "s3cr3t" },
    );
    const missing = bgpPassword(
      peer("p", { password: { secretKeyRef: { name: "gone", key: "k" } } }),
      secrets,
    );
    assert.ok(!missing.ok);
    assert.equal(missing.error, "BGPPeer p: spec.password: Secret egw-system/gone does not exist");
  });

  it("refuses values BIRD or the kernel cannot use as a password, without showing them", () => {
    const withValue = (pw: string) =>
      bgpPassword(peer("p", { password: { secretKeyRef: { name: "pw", key: "k" } } }), [
        secret("pw", { stringData: { k: pw } }),
      ]);
    assert.deepEqual(withValue("a\\b"), { ok: true, value: "a\\b" });
    assert.deepEqual(withValue("x".repeat(80)).ok, true);
    for (const [pw, why] of [
      ['se"cret', "double quote"],
      ["se\ncret", "control character"],
      ["", "is empty"],
      ["x".repeat(81), "longer than 80 bytes"],
    ] as const) {
      const r = withValue(pw);
      assert.ok(
        !r.ok && r.error.includes(why) && (pw === "" || !r.error.includes(pw)),
        `${JSON.stringify(pw)}: ${JSON.stringify(r)}`,
      );
    }
  });
});

describe("feedSelectsGateway and publishDelayFor", () => {
  const gw = (labels: Record<string, string>): EgressGateway => ({
    apiVersion: "egw.dev/v1",
    kind: "EgressGateway",
    metadata: { name: "gw", namespace: "payments", labels },
    spec: { ipPools: [{ name: "a" }] },
  });
  const feed = (name: string, spec: FirewallFeed["spec"]): FirewallFeed => ({
    apiVersion: "egw.dev/v1",
    kind: "FirewallFeed",
    metadata: { name },
    spec,
  });
  const ns = { "kubernetes.io/metadata.name": "payments" };
  const feeds = [
    feed("team", { selector: "team == 'payments'", publishDelaySeconds: 10 }),
    feed("team-in-ns", {
      selector: "team == 'payments'",
      namespaceSelector: "kubernetes.io/metadata.name == 'payments'",
      publishDelaySeconds: 30,
    }),
    feed("other-ns", {
      selector: "all()",
      namespaceSelector: "kubernetes.io/metadata.name == 'shop'",
      publishDelaySeconds: 99,
    }),
    feed("broken", { selector: "team ==", publishDelaySeconds: 500 }),
  ];

  it("matches the gateway's labels and its namespace's labels", () => {
    assert.deepEqual(
      feeds.filter((f) => feedSelectsGateway(f, gw({ team: "payments" }), ns)).map((f) => f.metadata.name),
      ["team", "team-in-ns"],
    );
    assert.equal(feedSelectsGateway(feeds[0]!, gw({ team: "shop" }), ns), false);
  });

  it("waits for the slowest feed that covers the gateway, 0 without one", () => {
    assert.equal(publishDelayFor(feeds, gw({ team: "payments" }), ns), 30);
    assert.equal(publishDelayFor(feeds, gw({}), ns), 0);
    assert.equal(publishDelayFor([feed("d", { selector: "all()" })], gw({}), ns), 0);
  });
});
