// validateResource on the routing kinds (BGPConfiguration, BGPPeer, FirewallFeed), Secret and
// Node status.bgp: defaults, and each rejection with its field path and what would be valid.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLES } from "./examples.js";
import { formatIssue, type ValidationIssue } from "./issues.js";
import { validateResource } from "./validate.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function example(kind: string, edit: (o: Record<string, Loose>) => void = () => {}): unknown {
  const base = EXAMPLES[kind];
  assert.ok(base, `no example for ${kind}`);
  const o = structuredClone(base) as unknown as Record<string, Loose>;
  edit(o);
  return o;
}

const issuesOf = (input: unknown): ValidationIssue[] => {
  const r = validateResource(input);
  assert.equal(r.ok, false, `expected a rejection of ${JSON.stringify(input)}`);
  return r.ok ? [] : r.error;
};

const accepts = (input: unknown): Record<string, Loose> => {
  const r = validateResource(input);
  assert.ok(r.ok, r.ok ? "" : r.error.map(formatIssue).join("\n"));
  return r.value as unknown as Record<string, Loose>;
};

interface Case {
  name: string;
  kind: string;
  edit: (o: Record<string, Loose>) => void;
  path: string;
  fragments: string[];
}

const bad = (
  name: string,
  kind: string,
  edit: (o: Record<string, Loose>) => void,
  path: string,
  ...fragments: string[]
): Case => ({ name, kind, edit, path, fragments });

const CASES: Case[] = [
  bad(
    "configuration not named default",
    "BGPConfiguration",
    (o) => (o.metadata.name = "site-a"),
    "metadata.name",
    '"site-a"',
    'only the BGPConfiguration named "default"',
  ),
  bad("AS 0", "BGPConfiguration", (o) => (o.spec.asNumber = 0), "spec.asNumber", "1 to 4294967295"),
  bad(
    "AS above 32 bits",
    "BGPConfiguration",
    (o) => (o.spec.asNumber = 4294967296),
    "spec.asNumber",
    "4294967296",
    "1 to 4294967295",
  ),
  bad("listen port", "BGPConfiguration", (o) => (o.spec.listenPort = 70000), "spec.listenPort", "1 to 65535"),
  bad(
    "BFD interval",
    "BGPConfiguration",
    (o) => (o.spec.bfd.minIntervalMs = 5),
    "spec.bfd.minIntervalMs",
    "10 to 60000",
  ),
  bad(
    "BFD multiplier",
    "BGPConfiguration",
    (o) => (o.spec.bfd = { multiplier: 0 }),
    "spec.bfd.multiplier",
    "1 to 255",
  ),
  bad(
    "standard community part above 16 bits",
    "BGPConfiguration",
    (o) => (o.spec.communities[0].value = "64512:70000"),
    "spec.communities[0].value",
    '"64512:70000"',
    "0-65535",
    "large community",
  ),
  bad(
    "community syntax",
    "BGPConfiguration",
    (o) => (o.spec.communities[0].value = "64512-100"),
    "spec.communities[0].value",
    '"A:B"',
    '"A:B:C"',
  ),
  bad(
    "large community part above 32 bits",
    "BGPConfiguration",
    (o) => (o.spec.communities[1].value = "4294967296:1:1"),
    "spec.communities[1].value",
    "0-4294967295",
  ),
  bad(
    "duplicate community name",
    "BGPConfiguration",
    (o) => (o.spec.communities[1].name = "egress"),
    "spec.communities[1].name",
    "communities[0] has the same name",
  ),
  bad(
    "community name with a colon",
    "BGPConfiguration",
    (o) => (o.spec.communities[1].name = "a:b"),
    "spec.communities[1].name",
    "not a valid community name",
  ),
  bad(
    "unknown community name",
    "BGPConfiguration",
    (o) => (o.spec.advertise.communities = ["egres"]),
    "spec.advertise.communities[0]",
    '"egres"',
    "known: egress, site",
  ),
  bad(
    "malformed literal community",
    "BGPConfiguration",
    (o) => (o.spec.advertise.communities = ["1:2:3:4"]),
    "spec.advertise.communities[0]",
    "not a valid community",
  ),
  bad(
    "pool name syntax",
    "BGPConfiguration",
    (o) => (o.spec.advertise.ipPools = ["Egress_A"]),
    "spec.advertise.ipPools[0]",
    "DNS-1123",
  ),
  bad("peer IP", "BGPPeer", (o) => (o.spec.peerIP = "172.30.0"), "spec.peerIP", '"172.30.0"', "IPv4 address"),
  bad("IPv6 peer", "BGPPeer", (o) => (o.spec.peerIP = "2001:db8::1"), "spec.peerIP", "must be IPv4"),
  bad("loopback peer", "BGPPeer", (o) => (o.spec.peerIP = "127.0.0.1"), "spec.peerIP", "unicast"),
  bad("link-local peer", "BGPPeer", (o) => (o.spec.peerIP = "169.254.1.1"), "spec.peerIP", "link-local"),
  bad("peer AS required", "BGPPeer", (o) => delete o.spec.asNumber, "spec.asNumber", "is required"),
  bad("peer AS range", "BGPPeer", (o) => (o.spec.asNumber = -1), "spec.asNumber", "1 to 4294967295"),
  bad(
    "node and nodeSelector",
    "BGPPeer",
    (o) => (o.spec.node = "node-1"),
    "spec.nodeSelector",
    'spec.node ("node-1")',
    "not both",
  ),
  bad("nodeSelector syntax", "BGPPeer", (o) => (o.spec.nodeSelector = "rack =="), "spec.nodeSelector"),
  bad(
    "node name",
    "BGPPeer",
    (o) => ((o.spec.node = "Node_1"), delete o.spec.nodeSelector),
    "spec.node",
    "DNS-1123",
  ),
  bad(
    "hold time 2",
    "BGPPeer",
    (o) => (o.spec.holdTimeSeconds = 2),
    "spec.holdTimeSeconds",
    "0 (no hold timer) or 3 to 65535",
  ),
  bad(
    "hold time too long",
    "BGPPeer",
    (o) => (o.spec.holdTimeSeconds = 65536),
    "spec.holdTimeSeconds",
    "3 to 65535",
  ),
  bad(
    "password key",
    "BGPPeer",
    (o) => (o.spec.password.secretKeyRef.key = "pass word"),
    "spec.password.secretKeyRef.key",
    "not a valid Secret key",
  ),
  bad(
    "password without secretKeyRef",
    "BGPPeer",
    (o) => (o.spec.password = { value: "x" }),
    "spec.password.value",
    "unknown field",
  ),
  bad(
    "feed selector required",
    "FirewallFeed",
    (o) => delete o.spec.selector,
    "spec.selector",
    "is required",
  ),
  bad("feed selector empty", "FirewallFeed", (o) => (o.spec.selector = " "), "spec.selector", "all()"),
  bad("feed selector syntax", "FirewallFeed", (o) => (o.spec.selector = "team = 'x'"), "spec.selector"),
  bad(
    "feed namespaceSelector syntax",
    "FirewallFeed",
    (o) => (o.spec.namespaceSelector = "((("),
    "spec.namespaceSelector",
  ),
  bad(
    "feed format",
    "FirewallFeed",
    (o) => (o.spec.formats = ["paloalto", "cisco"]),
    "spec.formats[1]",
    '"cisco"',
    '"fortigate"',
  ),
  bad("feed formats empty", "FirewallFeed", (o) => (o.spec.formats = []), "spec.formats"),
  bad(
    "feed formats twice",
    "FirewallFeed",
    (o) => (o.spec.formats = ["json", "json"]),
    "spec.formats",
    "list each once",
  ),
  bad(
    "publish delay",
    "FirewallFeed",
    (o) => (o.spec.publishDelaySeconds = 86401),
    "spec.publishDelaySeconds",
    "0 to 86400",
  ),
  bad(
    "feed auth both",
    "FirewallFeed",
    (o) => (o.spec.auth.basic = { secretRef: { name: "feed-users" } }),
    "spec.auth",
    "exactly one of bearerTokenSecretRef or basic",
  ),
  bad("feed auth neither", "FirewallFeed", (o) => (o.spec.auth = {}), "spec.auth", "exactly one"),
  bad("feed status url", "FirewallFeed", (o) => (o.status.url = "feeds/x"), "status.url", "http://"),
  bad(
    "feed status time",
    "FirewallFeed",
    (o) => (o.status.lastChange = "now"),
    "status.lastChange",
    "RFC 3339",
  ),
  bad("secret base64", "Secret", (o) => (o.data.password = "s3cr3t!"), "data.password", "not valid base64"),
  bad("secret key", "Secret", (o) => (o.stringData = { "a/b": "x" }), 'stringData["a/b"]', "Secret key"),
  bad("secret namespace", "Secret", (o) => delete o.metadata.namespace, "metadata.namespace", "is required"),
  bad(
    "node bgp state",
    "Node",
    (o) => (o.status.bgp.peers[0].state = "Up"),
    "status.bgp.peers[0].state",
    '"Established"',
  ),
  bad(
    "node bgp peer IP",
    "Node",
    (o) => (o.status.bgp.peers[0].peerIP = "x"),
    "status.bgp.peers[0].peerIP",
    '"x"',
  ),
  bad(
    "node bgp announced",
    "Node",
    (o) => (o.status.bgp.announced = ["10.10.0.5/33"]),
    "status.bgp.announced[0]",
    "not a valid CIDR",
  ),
  bad(
    "node bgp configApplied",
    "Node",
    (o) => delete o.status.bgp.configApplied,
    "status.bgp.configApplied",
    "is required",
  ),
];

describe("validateResource: routing kinds", () => {
  for (const c of CASES) {
    it(`rejects ${c.name} at ${c.path}`, () => {
      const issues = issuesOf(example(c.kind, c.edit));
      const hit = issues.find((i) => i.path === c.path);
      assert.ok(hit, `no issue at ${c.path}; got:\n${issues.map(formatIssue).join("\n")}`);
      for (const f of c.fragments) assert.ok(hit.message.includes(f), `"${hit.message}" should mention ${f}`);
    });
  }

  it("never shows a Secret's value in a message", () => {
    const issues = issuesOf(example("Secret", (o) => (o.data.password = "hunter2!")));
    assert.ok(issues.every((i) => !i.message.includes("hunter2")));
  });

  it("fills in BGPConfiguration defaults, also for an object without spec", () => {
    const v = accepts({ apiVersion: "egw.dev/v1", kind: "BGPConfiguration", metadata: { name: "default" } });
    assert.deepEqual(v.spec, {
      enabled: true,
      asNumber: 64512,
      listenPort: 179,
      bfd: { minIntervalMs: 100, multiplier: 3 },
    });
  });

  it("fills in BGPPeer and FirewallFeed defaults", () => {
    const peer = accepts({
      apiVersion: "egw.dev/v1",
      kind: "BGPPeer",
      metadata: { name: "r" },
      spec: { peerIP: "172.30.0.1", asNumber: 64513 },
    });
    assert.deepEqual(peer.spec, { peerIP: "172.30.0.1", asNumber: 64513, bfd: true, holdTimeSeconds: 90 });
    const feed = accepts({
      apiVersion: "egw.dev/v1",
      kind: "FirewallFeed",
      metadata: { name: "f" },
      spec: { selector: "all()" },
    });
    assert.deepEqual(feed.spec, {
      selector: "all()",
      namespaceSelector: "all()",
      formats: ["paloalto", "fortigate", "checkpoint", "json"],
      publishDelaySeconds: 0,
    });
  });

  it("accepts a peer on one node, hold time 0, 4-byte AS numbers and a large community by value", () => {
    accepts(
      example("BGPPeer", (o) => {
        delete o.spec.nodeSelector;
        o.spec.node = "node-1";
        o.spec.holdTimeSeconds = 0;
        o.spec.asNumber = 4200000000;
      }),
    );
    accepts(example("BGPConfiguration", (o) => (o.spec.advertise.communities = ["4200000000:0:4294967295"])));
  });
});
