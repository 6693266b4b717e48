import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  infraNetns,
  isLabNetns,
  isPodNetns,
  nodeNetns,
  podHostInterface,
  podNetns,
  validateLabName,
  validatePodIdentity,
} from "./names.js";

describe("lab names", () => {
  it("accepts short lower-case names and rejects the rest with the rule", () => {
    for (const ok of ["egw", "lab2", "t1a2", "a-b", "abcdefghijkl"])
      assert.equal(validateLabName(ok).ok, true, ok);
    for (const bad of ["", "Egw", "1lab", "lab-", "a_b", "abcdefghijklm", "a b", "a/b"]) {
      const r = validateLabName(bad);
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.error, /1-12 lower-case letters/);
    }
  });

  it("derives namespace names from the lab name", () => {
    assert.equal(infraNetns("egw", "ctl"), "egw-egw-ctl");
    assert.equal(nodeNetns("lab2", 3), "egw-lab2-n3");
    assert.match(podNetns("egw", "shop", "web-1"), /^egw-egw-p-[0-9a-f]{12}$/);
  });

  it("gives every pod a deterministic host interface within 15 bytes, distinct per lab and pod", () => {
    const a = podHostInterface("egw", "shop", "web-1");
    assert.equal(a, podHostInterface("egw", "shop", "web-1"));
    assert.match(a, /^ew[0-9a-f]{11}$/);
    const long = podHostInterface("egw", "a".repeat(63), `${"b".repeat(200)}.c`);
    assert.ok(long.length <= 15);
    const names = new Set<string>();
    for (let i = 0; i < 2000; i++) names.add(podHostInterface("egw", "ns", `pod-${i}`));
    assert.equal(names.size, 2000);
    assert.notEqual(podHostInterface("a", "ns", "p"), podHostInterface("b", "ns", "p"));
    assert.notEqual(podHostInterface("x", "a", "b-c"), podHostInterface("x", "a-b", "c"));
  });

  it("recognises exactly its own lab's namespaces, never a lab whose name extends it", () => {
    assert.equal(isLabNetns("a", "egw-a-ctl"), true);
    assert.equal(isLabNetns("a", "egw-a-n12"), true);
    assert.equal(isLabNetns("a", podNetns("a", "x", "y")), true);
    assert.equal(isPodNetns("a", podNetns("a", "x", "y")), true);
    assert.equal(isPodNetns("a", "egw-a-n1"), false);
    // lab "a-p", "a-n1" and "a-ctl" share the "egw-a-" prefix
    for (const other of ["a-p", "a-n1", "a-ctl", "a-p-0123456"]) {
      for (const n of [
        infraNetns(other, "ctl"),
        nodeNetns(other, 1),
        podNetns(other, "x", "y"),
        infraNetns(other, "ul"),
      ]) {
        assert.equal(isLabNetns("a", n), false, `${n} is not lab a's`);
      }
    }
    assert.equal(isLabNetns("a", "egw-a-n0"), false);
    assert.equal(isLabNetns("a", "egwdp-a-node"), false);
  });

  it("rejects pod identities that Kubernetes would reject, naming the field", () => {
    assert.equal(validatePodIdentity("shop", "web-1").ok, true);
    const badName = validatePodIdentity("shop", "Web_1");
    assert.equal(badName.ok, false);
    if (!badName.ok) assert.match(badName.error, /^metadata\.name "Web_1" is not a valid DNS-1123 subdomain/);
    const badNs = validatePodIdentity("shop.eu", "web");
    assert.equal(badNs.ok, false);
    if (!badNs.ok) assert.match(badNs.error, /^metadata\.namespace "shop\.eu"/);
  });
});
