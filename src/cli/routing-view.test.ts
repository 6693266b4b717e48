import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { renderDescription, renderResources } from "./output.js";
import { nodeBgpText, sessionsByPeer } from "./routing-view.js";

const now = new Date("2026-01-01T12:00:00Z");

const node = (name: string, bgp?: Record<string, unknown>): Resource => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name },
  ...(bgp ? { status: { bgp } } : {}),
});

const session = (name: string, state: string) => ({ name, peerIP: "172.30.0.1", state });

const nodes = [
  node("node-1", {
    configApplied: true,
    peers: [session("lab-router", "Established"), session("tor", "Active")],
  }),
  node("node-2", { configApplied: true, peers: [session("lab-router", "Established")] }),
  node("node-3", { configApplied: false, error: "syntax error", peers: [session("lab-router", "Connect")] }),
  node("node-4"),
];

const rows = (text: string): string[][] =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/\s{3,}/));

const table = (kind: string, resources: Resource[], wide = false, extra = {}): string[][] =>
  rows(
    renderResources(resources, {
      format: wide ? "wide" : "table",
      kind,
      allNamespaces: false,
      single: false,
      now,
      ...extra,
    }),
  );

describe("BGP sessions from Node status", () => {
  it("counts Established sessions per peer over the nodes that report one", () => {
    assert.deepEqual(
      [...sessionsByPeer(nodes)],
      [
        ["lab-router", { established: 2, total: 3 }],
        ["tor", { established: 0, total: 1 }],
      ],
    );
  });

  it("sums up a node's BGP, or says its config was rejected", () => {
    assert.deepEqual(nodes.map(nodeBgpText), ["1/2", "1/1", "ConfigError", "<none>"]);
  });
});

describe("egw get columns for the routing kinds", () => {
  const peers: Resource[] = [
    {
      apiVersion: "egw.dev/v1",
      kind: "BGPPeer",
      metadata: { name: "lab-router" },
      spec: { peerIP: "172.30.0.1", asNumber: 64513, bfd: true, holdTimeSeconds: 90 },
    },
    {
      apiVersion: "egw.dev/v1",
      kind: "BGPPeer",
      metadata: { name: "tor" },
      spec: {
        peerIP: "172.30.1.1",
        asNumber: 65000,
        nodeSelector: "rack == 'r1'",
        password: { secretKeyRef: { name: "bgp", key: "pw" } },
      },
    },
    {
      apiVersion: "egw.dev/v1",
      kind: "BGPPeer",
      metadata: { name: "one" },
      spec: { peerIP: "172.30.2.1", asNumber: 65000, node: "node-2" },
    },
  ];

  it("BGPPeer: NAME PEERIP ASN NODES; wide adds ESTABLISHED, BFD, HOLDTIME, PASSWORD", () => {
    assert.deepEqual(table("BGPPeer", peers), [
      ["NAME", "PEERIP", "ASN", "NODES", "AGE"],
      ["lab-router", "172.30.0.1", "64513", "all()", "<none>"],
      ["tor", "172.30.1.1", "65000", "rack == 'r1'", "<none>"],
      ["one", "172.30.2.1", "65000", "node-2", "<none>"],
    ]);
    const wide = table("BGPPeer", peers, true, { sessions: sessionsByPeer(nodes) });
    assert.deepEqual(wide[0], [
      "NAME",
      "PEERIP",
      "ASN",
      "NODES",
      "ESTABLISHED",
      "BFD",
      "HOLDTIME",
      "PASSWORD",
      "AGE",
    ]);
    assert.deepEqual(wide[1], [
      "lab-router",
      "172.30.0.1",
      "64513",
      "all()",
      "2/3",
      "true",
      "90",
      "<none>",
      "<none>",
    ]);
    assert.deepEqual(wide[2]?.slice(4, 8), ["0/1", "<none>", "<none>", "bgp"]);
    assert.equal(wide[3]?.[4], "<none>");
  });

  it("FirewallFeed: NAME ENTRIES LAST-CHANGE URL from its status", () => {
    const feed: Resource = {
      apiVersion: "egw.dev/v1",
      kind: "FirewallFeed",
      metadata: { name: "payments-db" },
      spec: { selector: "team == 'payments'", formats: ["paloalto", "json"], publishDelaySeconds: 10 },
      status: {
        url: "http://172.30.0.2:8080/feeds/custom/payments-db",
        entries: 3,
        lastChange: "2026-01-01T11:59:15Z",
      },
    };
    const fresh: Resource = { ...feed, metadata: { name: "new" }, status: undefined };
    assert.deepEqual(table("FirewallFeed", [feed, fresh]), [
      ["NAME", "ENTRIES", "LAST-CHANGE", "URL", "AGE"],
      ["payments-db", "3", "45s", "http://172.30.0.2:8080/feeds/custom/payments-db", "<none>"],
      ["new", "<none>", "<none>", "<none>", "<none>"],
    ]);
    assert.deepEqual(table("FirewallFeed", [feed], true)[1]?.slice(4, 8), [
      "team == 'payments'",
      "<none>",
      "paloalto,json",
      "10",
    ]);
  });

  it("BGPConfiguration: ENABLED ASN IPPOOLS", () => {
    const config = (ipPools?: string[]): Resource => ({
      apiVersion: "egw.dev/v1",
      kind: "BGPConfiguration",
      metadata: { name: "default" },
      spec: { enabled: true, asNumber: 64512, ...(ipPools ? { advertise: { ipPools } } : {}) },
    });
    assert.deepEqual(table("BGPConfiguration", [config(), config(["a", "b"])]), [
      ["NAME", "ENABLED", "ASN", "IPPOOLS", "AGE"],
      ["default", "true", "64512", "<all egress pools>", "<none>"],
      ["default", "true", "64512", "a,b", "<none>"],
    ]);
  });

  it("Node wide shows its BGP summary", () => {
    const wide = table("Node", nodes.slice(2), true);
    assert.deepEqual(wide[0], ["NAME", "ADDRESSES", "POD-CIDR", "BGP", "LABELS", "AGE"]);
    assert.equal(wide[1]?.[3], "ConfigError");
  });

  it("Secret: TYPE and DATA in the table; describe shows key sizes, never values", () => {
    const secret: Resource = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bgp", namespace: "egw-system" },
      type: "Opaque",
      data: { pw: Buffer.from("s3cr3t").toString("base64") },
      stringData: { token: "abc" },
    } as Resource;
    assert.deepEqual(table("Secret", [secret]), [
      ["NAME", "TYPE", "DATA", "AGE"],
      ["bgp", "Opaque", "2", "<none>"],
    ]);
    const text = renderDescription(secret, now);
    assert.match(text, /Data:\n {2}pw: {2}6 bytes\n {2}token: {2}3 bytes/);
    assert.ok(!text.includes("s3cr3t") && !text.includes("abc\n"));
  });
});
