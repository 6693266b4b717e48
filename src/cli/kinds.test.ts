import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiGroup, notFoundText, qualifiedName, resolveKindName, validKindsText } from "./kinds.js";

describe("resolveKindName", () => {
  const cases: [string, string][] = [
    ["egressgateway", "EgressGateway"],
    ["EgressGateways", "EgressGateway"],
    ["egw", "EgressGateway"],
    ["EGW", "EgressGateway"],
    ["ippool", "IPPool"],
    ["IPPools", "IPPool"],
    ["gnp", "GlobalNetworkPolicy"],
    ["globalnetworksets", "GlobalNetworkSet"],
    ["netpol", "NetworkPolicy"],
    ["ns", "Namespace"],
    ["po", "Pod"],
    ["nodes", "Node"],
    ["egressgatewaypolicy", "EgressGatewayPolicy"],
    ["tiers", "Tier"],
  ];
  for (const [input, kind] of cases) {
    it(`${input} -> ${kind}`, () => {
      const r = resolveKindName(input);
      assert.ok(r.ok);
      assert.equal(r.value.kind, kind);
    });
  }

  it("rejects unknown kinds and lists the valid ones", () => {
    const r = resolveKindName("gateway");
    assert.ok(!r.ok);
    assert.match(r.error, /unknown kind "gateway"/);
    assert.match(r.error, /egressgateway \(egressgateways, egw/);
    assert.match(r.error, /ippool/);
  });

  it("hides internal kinds", () => {
    const r = resolveKindName("ipallocations");
    assert.ok(!r.ok);
    assert.doesNotMatch(validKindsText(), /ipallocation/);
  });
});

describe("object names", () => {
  it("qualifies egw kinds with their group and core kinds without", () => {
    assert.equal(
      qualifiedName({ kind: "EgressGateway", namespace: "payments", name: "gw" }),
      "egressgateway.egw.dev/payments/gw",
    );
    assert.equal(qualifiedName({ kind: "IPPool", name: "pool-a" }), "ippool.egw.dev/pool-a");
    assert.equal(qualifiedName({ kind: "Pod", namespace: "shop", name: "web-1" }), "pod/shop/web-1");
    assert.equal(qualifiedName({ kind: "Namespace", name: "shop" }), "namespace/shop");
    assert.equal(apiGroup("v1"), "");
    assert.equal(apiGroup("egw.dev/v1"), "egw.dev");
  });

  it("words not-found errors like kubectl", () => {
    assert.equal(
      notFoundText({ kind: "EgressGateway", namespace: "y", name: "x" }),
      'egressgateway "x" not found in namespace "y"',
    );
    assert.equal(notFoundText({ kind: "IPPool", name: "p" }), 'ippool "p" not found');
  });
});
