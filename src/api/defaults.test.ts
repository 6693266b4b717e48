import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyDefaults, DEFAULTS } from "./defaults.js";
import type { Resource } from "./meta.js";
import { validateResource } from "./validate.js";

// Tests reach into arbitrary nested fields of example objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function valid(obj: unknown): Resource {
  const r = validateResource(obj);
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.error));
  return r.value;
}

const pool = (spec: Record<string, unknown>): unknown => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name: "p" },
  spec,
});

describe("defaults", () => {
  it("IPPool (IPv4) gets Calico's defaults", () => {
    assert.deepEqual(valid(pool({ cidr: "10.10.0.0/16" })).spec, {
      cidr: "10.10.0.0/16",
      blockSize: 26,
      allowedUses: ["Workload"],
      natOutgoing: false,
      disableBGPExport: false,
      nodeSelector: "all()",
    });
  });

  it("IPPool (IPv6) gets blockSize 122", () => {
    assert.equal((valid(pool({ cidr: "fd00:10::/64" })).spec as { blockSize: number }).blockSize, 122);
  });

  it("a pool smaller than a standard block gets blocks of its own size", () => {
    assert.equal((valid(pool({ cidr: "10.10.10.0/30" })).spec as { blockSize: number }).blockSize, 30);
  });

  it("explicit values are kept", () => {
    const spec = valid(
      pool({ cidr: "10.10.0.0/16", blockSize: 32, natOutgoing: true, nodeSelector: "!all()" }),
    ).spec;
    assert.deepEqual(spec, {
      cidr: "10.10.0.0/16",
      blockSize: 32,
      natOutgoing: true,
      nodeSelector: "!all()",
      allowedUses: ["Workload"],
      disableBGPExport: false,
    });
  });

  it("EgressGateway: replicas, template labels, grace period, probe timing", () => {
    const gw = valid({
      apiVersion: "egw.dev/v1",
      kind: "EgressGateway",
      metadata: { name: "gw", namespace: "egress" },
      spec: {
        ipPools: [{ name: "p" }],
        failureDetection: {
          icmpProbe: { ips: ["198.18.0.1"] },
          httpProbe: { urls: ["http://198.18.0.2/"], timeoutMs: 60000 },
        },
      },
    });
    assert.deepEqual(gw.spec, {
      replicas: 1,
      strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      ipPools: [{ name: "p" }],
      template: {
        metadata: { labels: { "egw.dev/gateway": "gw" } },
        spec: { terminationGracePeriodSeconds: 30 },
      },
      failureDetection: {
        icmpProbe: { ips: ["198.18.0.1"], intervalMs: 5000, timeoutMs: 15000 },
        httpProbe: { urls: ["http://198.18.0.2/"], intervalMs: 10000, timeoutMs: 60000 },
      },
    });
  });

  it("EgressGateway: a liveness block gets its missing timers; none is added where there is none", () => {
    const base = {
      apiVersion: "egw.dev/v1",
      kind: "EgressGateway",
      metadata: { name: "gw", namespace: "e" },
    };
    const given = valid({
      ...base,
      spec: { ipPools: [{ name: "p" }], failureDetection: { liveness: { multiplier: 5 } } },
    });
    assert.deepEqual((given.spec as Loose).failureDetection, {
      liveness: { intervalMs: 100, multiplier: 5, holdDownMs: 2000 },
    });
    const none = valid({ ...base, spec: { ipPools: [{ name: "p" }] } });
    assert.equal((none.spec as Loose).failureDetection, undefined);
  });

  it("EgressGateway: empty template labels get the default too; given labels are kept", () => {
    const base = {
      apiVersion: "egw.dev/v1",
      kind: "EgressGateway",
      metadata: { name: "gw", namespace: "e" },
    };
    const empty = valid({
      ...base,
      spec: { ipPools: [{ name: "p" }], template: { metadata: { labels: {} } } },
    });
    assert.deepEqual((empty.spec as Loose).template.metadata.labels, { "egw.dev/gateway": "gw" });
    const given = valid({
      ...base,
      spec: { ipPools: [{ name: "p" }], template: { metadata: { labels: { a: "b" } } } },
    });
    assert.deepEqual((given.spec as Loose).template.metadata.labels, { a: "b" });
  });

  it("EgressGatewayPolicy: destination 0.0.0.0/0, gatewayPreference None, maxNextHops 0", () => {
    const p = valid({
      apiVersion: "egw.dev/v1",
      kind: "EgressGatewayPolicy",
      metadata: { name: "p" },
      spec: { rules: [{ gateway: { selector: "all()", namespaceSelector: "all()" } }] },
    });
    assert.deepEqual((p.spec as Loose).rules, [
      {
        destination: { cidr: "0.0.0.0/0" },
        gatewayPreference: "None",
        gateway: { selector: "all()", namespaceSelector: "all()", maxNextHops: 0 },
      },
    ]);
  });

  it("Tier gets defaultAction Deny, even without a spec", () => {
    assert.deepEqual(valid({ apiVersion: "egw.dev/v1", kind: "Tier", metadata: { name: "t" } }).spec, {
      defaultAction: "Deny",
    });
  });

  it("policies get tier default and selector all(); order and types stay unset", () => {
    const np = valid({
      apiVersion: "egw.dev/v1",
      kind: "NetworkPolicy",
      metadata: { name: "n", namespace: "d" },
      spec: { egress: [{ action: "Deny" }] },
    });
    assert.deepEqual(np.spec, { tier: "default", selector: "all()", egress: [{ action: "Deny" }] });
    const gnp = valid({
      apiVersion: "egw.dev/v1",
      kind: "GlobalNetworkPolicy",
      metadata: { name: "g" },
      spec: {},
    });
    assert.deepEqual(gnp.spec, { tier: "default", selector: "all()" });
  });

  it("Namespace always carries kubernetes.io/metadata.name, overwriting another value", () => {
    const ns = (labels?: Record<string, string>): unknown => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "payments", ...(labels ? { labels } : {}) },
    });
    assert.deepEqual(valid(ns()).metadata.labels, { "kubernetes.io/metadata.name": "payments" });
    assert.deepEqual(valid(ns({ "kubernetes.io/metadata.name": "other", team: "a" })).metadata.labels, {
      "kubernetes.io/metadata.name": "payments",
      team: "a",
    });
  });

  it("applyDefaults returns a copy and leaves its input alone", () => {
    const input = { apiVersion: "egw.dev/v1", kind: "Tier", metadata: { name: "t" } };
    const out = applyDefaults("Tier", input);
    assert.deepEqual(input, { apiVersion: "egw.dev/v1", kind: "Tier", metadata: { name: "t" } });
    assert.deepEqual((out as Resource).spec, { defaultAction: DEFAULTS.tier.defaultAction });
  });

  it("applyDefaults leaves parts of the wrong shape alone", () => {
    assert.deepEqual(applyDefaults("IPPool", { spec: 5 }), { spec: 5 });
    assert.deepEqual(applyDefaults("Unknown", { a: 1 }), { a: 1 });
    assert.equal(applyDefaults("Tier", null), null);
  });
});
