import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateAgainst } from "./cross.js";
import { formatIssue } from "./issues.js";
import type { Resource } from "./meta.js";

const pool = (name: string, cidr: string, blockSize = 26): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name },
  spec: { cidr, blockSize },
});

const gw = (ns: string, name: string): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name, namespace: ns },
  spec: { ipPools: [{ name: "a" }] },
});

describe("validateAgainst", () => {
  it("accepts disjoint pools and re-applying the same pool", () => {
    assert.deepEqual(
      validateAgainst([pool("a", "10.0.0.0/24"), pool("b", "10.0.1.0/24")], [pool("a", "10.0.0.0/24")]),
      [],
    );
  });

  it("rejects new pools overlapping each other", () => {
    const issues = validateAgainst([pool("a", "10.0.0.0/16"), pool("b", "10.0.5.0/24")], []);
    assert.equal(issues.length, 1);
    assert.equal(
      formatIssue(issues[0]!),
      'IPPool b: spec.cidr: "10.0.5.0/24" is not valid: it overlaps IPPool a (10.0.0.0/16); pools must not overlap',
    );
  });

  it("rejects a new pool overlapping a stored pool of another name", () => {
    const issues = validateAgainst([pool("b", "10.0.0.128/25")], [pool("a", "10.0.0.0/24")]);
    assert.deepEqual(
      issues.map((i) => [i.name, i.path]),
      [["b", "spec.cidr"]],
    );
    assert.match(issues[0]!.message, /overlaps IPPool a \(10\.0\.0\.0\/24\)/);
  });

  it("IPv6 pools overlap only IPv6 pools", () => {
    assert.deepEqual(validateAgainst([pool("v6", "::/0", 122)], [pool("a", "0.0.0.0/0")]), []);
    assert.equal(validateAgainst([pool("v6", "fd00::/8", 122)], [pool("w", "fd00:1::/64", 122)]).length, 1);
  });

  it("compares a stored pool the batch replaces in its new form", () => {
    // a moves away from 10.0.0.0/24 ... but cidr is immutable, so that is reported instead of the overlap.
    const issues = validateAgainst(
      [pool("a", "10.1.0.0/24"), pool("b", "10.0.0.0/24")],
      [pool("a", "10.0.0.0/24")],
    );
    assert.deepEqual(
      issues.map((i) => [i.name, i.path]),
      [["a", "spec.cidr"]],
    );
    assert.match(issues[0]!.message, /immutable/);
  });

  it("rejects changing blockSize", () => {
    const issues = validateAgainst([pool("a", "10.0.0.0/24", 32)], [pool("a", "10.0.0.0/24", 26)]);
    assert.deepEqual(
      issues.map((i) => i.path),
      ["spec.blockSize"],
    );
  });

  it("rejects the same object twice in one batch, by kind, namespace and name", () => {
    const issues = validateAgainst([gw("a", "gw"), gw("b", "gw"), gw("a", "gw")], []);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.namespace, "a");
    assert.equal(issues[0]!.path, "metadata.name");
    assert.match(
      issues[0]!.message,
      /EgressGateway a\/gw appears more than once in this batch \(items 1 and 3\)/,
    );
  });
});

describe("validateAgainst: policy tiers", () => {
  const gnp = (tier?: string): Resource => ({
    apiVersion: "egw.dev/v1",
    kind: "GlobalNetworkPolicy",
    metadata: { name: "p" },
    spec: tier === undefined ? { selector: "all()" } : { tier, selector: "all()" },
  });
  const tier = (name: string): Resource => ({
    apiVersion: "egw.dev/v1",
    kind: "Tier",
    metadata: { name },
    spec: { order: 10 },
  });

  it("rejects a policy naming an unknown tier, with the field path and the known tiers", () => {
    const issues = validateAgainst([gnp("security")], []);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, "spec.tier");
    assert.match(issues[0]?.message ?? "", /"security" is not valid.*known tiers: default/);
  });

  it("accepts the default tier, a stored tier, and a tier applied in the same batch", () => {
    assert.deepEqual(
      validateAgainst([gnp("default"), gnp(undefined)], []).filter((i) => i.path === "spec.tier"),
      [],
    );
    assert.deepEqual(validateAgainst([gnp("security")], [tier("security")]), []);
    assert.deepEqual(validateAgainst([tier("security"), gnp("security")], []), []);
  });

  it("skips the reference check offline", () => {
    assert.deepEqual(validateAgainst([gnp("security")], [], { references: false }), []);
  });
});

describe("validateAgainst: BGP", () => {
  const node = (name: string, ip: string, labels: Record<string, string> = {}): Resource => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    status: { addresses: [{ type: "InternalIP", address: ip }] },
  });
  const peer = (
    name: string,
    peerIP: string,
    select: { node?: string; nodeSelector?: string } = {},
  ): Resource => ({
    apiVersion: "egw.dev/v1",
    kind: "BGPPeer",
    metadata: { name },
    spec: { peerIP, asNumber: 64513, ...select },
  });
  const egressPool = (name: string, allowedUses = ["EgressGateway"]): Resource => ({
    apiVersion: "egw.dev/v1",
    kind: "IPPool",
    metadata: { name },
    spec: { cidr: "10.10.0.0/24", allowedUses },
  });
  const bgpConfig = (ipPools: string[]): Resource => ({
    apiVersion: "egw.dev/v1",
    kind: "BGPConfiguration",
    metadata: { name: "default" },
    spec: { advertise: { ipPools } },
  });
  const nodes = [
    node("node-1", "172.30.0.11", { rack: "r1" }),
    node("node-2", "172.30.0.12", { rack: "r2" }),
  ];

  it("rejects a peer at a node's own address", () => {
    const issues = validateAgainst([peer("r", "172.30.0.12")], nodes);
    assert.deepEqual(
      issues.map((i) => [i.kind, i.name, i.path]),
      [["BGPPeer", "r", "spec.peerIP"]],
    );
    assert.match(issues[0]!.message, /"172\.30\.0\.12" is not valid: it is an address of Node node-2/);
    // The node in the same batch counts too.
    assert.equal(validateAgainst([node("node-3", "172.30.0.13"), peer("r", "172.30.0.13")], []).length, 1);
  });

  it("rejects two peers with one address that select the same node", () => {
    const issues = validateAgainst(
      [peer("b", "172.30.0.1", { nodeSelector: "rack == 'r1'" })],
      [...nodes, peer("a", "172.30.0.1")],
    );
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, "spec.peerIP");
    assert.match(issues[0]!.message, /BGPPeer a has the same peerIP and both select Node node-1/);
  });

  it("accepts one address for disjoint nodes, re-applying a peer, and any peer before nodes exist", () => {
    const a = peer("a", "172.30.0.1", { node: "node-1" });
    const b = peer("b", "172.30.0.1", { nodeSelector: "rack == 'r2'" });
    assert.deepEqual(validateAgainst([a, b], nodes), []);
    assert.deepEqual(validateAgainst([peer("a", "172.30.0.1")], [...nodes, peer("a", "172.30.0.1")]), []);
    assert.deepEqual(validateAgainst([peer("a", "172.30.0.1"), peer("b", "172.30.0.1")], []), []);
  });

  it("rejects advertising pools that do not exist or hold no egress IPs", () => {
    const issues = validateAgainst(
      [bgpConfig(["egress-a", "pods", "nope"])],
      [egressPool("egress-a"), egressPool("pods", ["Workload"])],
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ["spec.advertise.ipPools[1]", "spec.advertise.ipPools[2]"],
    );
    assert.match(issues[0]!.message, /does not have allowedUses EgressGateway/);
    assert.match(issues[1]!.message, /no IPPool of that name exists; known pools: egress-a, pods/);
  });

  it("accepts a pool applied in the same batch, and skips pool references offline", () => {
    assert.deepEqual(validateAgainst([egressPool("egress-b"), bgpConfig(["egress-b"])], []), []);
    assert.deepEqual(validateAgainst([bgpConfig(["nope"])], [], { references: false }), []);
  });
});
