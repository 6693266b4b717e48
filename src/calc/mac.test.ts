import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { macForIp } from "./mac.js";

describe("macForIp", () => {
  it("derives IPv4 MACs as a2:2a + the address bytes (Calico's scheme)", () => {
    assert.equal(macForIp("10.128.0.10"), "a2:2a:0a:80:00:0a");
    assert.equal(macForIp("255.1.2.3"), "a2:2a:ff:01:02:03");
  });

  it("derives stable, distinct, locally administered unicast MACs for IPv6", () => {
    const a = macForIp("fd00::1");
    assert.equal(a, macForIp("fd00:0::1"), "canonical form does not matter");
    assert.notEqual(a, macForIp("fd00::2"));
    assert.match(a ?? "", /^a2:2b(:[0-9a-f]{2}){4}$/);
  });

  it("rejects malformed addresses", () => {
    assert.equal(macForIp("10.0.0"), undefined);
    assert.equal(macForIp(""), undefined);
  });
});
