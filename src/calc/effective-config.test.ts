import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { effectiveEgressConfig, parseGatewayPreference, parseMaxNextHops } from "./effective-config.js";
import { policyAnnotations, selectorAnnotations } from "./fixtures.js";

const exists =
  (...names: string[]) =>
  (n: string) =>
    names.includes(n);

describe("effectiveEgressConfig (Calico precedence)", () => {
  it("uses no gateway without annotations", () => {
    assert.deepEqual(effectiveEgressConfig(undefined, {}, exists()), { kind: "none" });
  });

  it("prefers the pod's selector over the namespace's, taking namespaceSelector, maxNextHops and gatewayPreference from the pod too", () => {
    const pod = selectorAnnotations("app == 'pod'");
    const ns = selectorAnnotations("app == 'ns'", {
      namespaceSelector: "team == 'x'",
      maxNextHops: 2,
      gatewayPreference: "PreferSameZone",
    });
    assert.deepEqual(effectiveEgressConfig(pod, ns, exists()), {
      kind: "selector",
      from: "pod",
      selector: "app == 'pod'",
      namespaceSelector: undefined,
      maxNextHops: 0,
      gatewayPreference: "None",
    });
  });

  it("falls back to the namespace's selector group", () => {
    const ns = selectorAnnotations("app == 'ns'", {
      namespaceSelector: "team == 'x'",
      maxNextHops: 2,
      gatewayPreference: "PreferSameZone",
    });
    const c = effectiveEgressConfig({}, ns, exists());
    assert.equal(c.kind, "selector");
    assert.deepEqual(c, {
      kind: "selector",
      from: "namespace",
      selector: "app == 'ns'",
      namespaceSelector: "team == 'x'",
      maxNextHops: 2,
      gatewayPreference: "PreferSameZone",
    });
  });

  it("lets a namespace policy beat a pod selector", () => {
    const c = effectiveEgressConfig(selectorAnnotations("a == 'b'"), policyAnnotations("p1"), exists("p1"));
    assert.deepEqual(c, { kind: "policy", policy: "p1", from: "namespace" });
  });

  it("lets the pod's policy beat the namespace's", () => {
    const c = effectiveEgressConfig(
      policyAnnotations("pod-p"),
      policyAnnotations("ns-p"),
      exists("pod-p", "ns-p"),
    );
    assert.deepEqual(c, { kind: "policy", policy: "pod-p", from: "pod" });
  });

  it("blocks when the pod names a missing policy, even if the namespace's exists (fail closed)", () => {
    const c = effectiveEgressConfig(policyAnnotations("typo"), policyAnnotations("ns-p"), exists("ns-p"));
    assert.deepEqual(c, { kind: "missing-policy", policy: "typo", from: "pod" });
  });

  it("blocks when the namespace names a missing policy, whatever selector the pod has", () => {
    const c = effectiveEgressConfig(selectorAnnotations("a == 'b'"), policyAnnotations("gone"), exists());
    assert.deepEqual(c, { kind: "missing-policy", policy: "gone", from: "namespace" });
  });

  it("treats blank annotation values as unset, as Calico does", () => {
    const c = effectiveEgressConfig(
      { "egress.egw.dev/selector": "  " },
      selectorAnnotations("x == 'y'"),
      exists(),
    );
    assert.equal(c.kind === "selector" && c.from, "namespace");
  });
});

describe("parseMaxNextHops", () => {
  it("reads integers and treats blank as all", () => {
    assert.deepEqual(parseMaxNextHops("3"), { value: 3 });
    assert.deepEqual(parseMaxNextHops(""), { value: 0 });
    assert.deepEqual(parseMaxNextHops(undefined), { value: 0 });
  });

  it("turns invalid values into 0 with a note naming the annotation", () => {
    for (const bad of ["-1", "two", "1.5"]) {
      const r = parseMaxNextHops(bad);
      assert.equal(r.value, 0);
      assert.match(r.problem ?? "", /egress\.egw\.dev\/maxNextHops/);
    }
  });
});

describe("parseGatewayPreference", () => {
  it("reads the three preferences and treats blank as None", () => {
    for (const v of ["None", "PreferNodeLocal", "PreferSameZone"] as const)
      assert.deepEqual(parseGatewayPreference(v), { value: v });
    assert.deepEqual(parseGatewayPreference(" PreferSameZone "), { value: "PreferSameZone" });
    assert.deepEqual(parseGatewayPreference(""), { value: "None" });
    assert.deepEqual(parseGatewayPreference(undefined), { value: "None" });
  });

  it("reports anything else as a problem that lists the valid values", () => {
    for (const bad of ["preferSameZone", "Nearest", "1"]) {
      const r = parseGatewayPreference(bad);
      assert.equal(r.problem, `"${bad}" is not valid: use None, PreferNodeLocal or PreferSameZone`);
    }
  });
});
