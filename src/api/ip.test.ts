import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cidrContains, cidrLast, cidrsOverlap, formatIp, parseCidr, parseIp } from "./ip.js";

const cidr = (s: string) => {
  const r = parseCidr(s, { allowBareIp: true });
  assert.ok(r.ok, s);
  return r.value;
};

describe("ip", () => {
  it("parses strict IPv4 and IPv6", () => {
    assert.deepEqual(parseIp("10.0.0.1"), { version: 4, value: 0x0a000001n });
    assert.deepEqual(parseIp("::1"), { version: 6, value: 1n });
    for (const bad of [
      "10.0.0",
      "10.0.0.256",
      "010.0.0.1",
      "0x0a.0.0.1",
      "1.2.3.4.5",
      "",
      " 1.2.3.4",
      "fe80::1%eth0",
      "1::2::3",
      "10",
    ]) {
      assert.equal(parseIp(bad), undefined, bad);
    }
  });

  it("formats addresses canonically", () => {
    assert.equal(formatIp({ version: 4, value: 0xc0a80001n }), "192.168.0.1");
    assert.equal(formatIp(parseIp("2001:0db8:0000::0001")!), "2001:db8::1");
  });

  it("parses CIDRs, rejects host bits with a suggestion", () => {
    assert.equal(cidr("10.0.0.0/8").text, "10.0.0.0/8");
    assert.equal(cidr("10.0.0.7").text, "10.0.0.7/32");
    assert.equal(cidr("2001:db8::/32").prefix, 32);
    assert.deepEqual(parseCidr("10.0.0.1/24"), { ok: false, error: 'has host bits set: use "10.0.0.0/24"' });
    assert.deepEqual(parseCidr("2001:db8::1/32"), {
      ok: false,
      error: 'has host bits set: use "2001:db8::/32"',
    });
    for (const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/08",
      "10.0.0.0/-1",
      "10.0.0.0/8/8",
      "x/8",
    ]) {
      assert.equal(parseCidr(bad).ok, false, bad);
    }
    assert.equal(parseCidr("10.0.0.0").ok, false);
  });

  it("computes ranges and overlaps with BigInt", () => {
    assert.equal(cidrLast(cidr("10.0.0.0/24")), 0x0a0000ffn);
    assert.equal(cidrLast(cidr("::/0")), (1n << 128n) - 1n);
    assert.ok(cidrsOverlap(cidr("10.0.0.0/8"), cidr("10.200.0.0/16")));
    assert.ok(!cidrsOverlap(cidr("10.0.0.0/24"), cidr("10.0.1.0/24")));
    assert.ok(!cidrsOverlap(cidr("0.0.0.0/0"), cidr("::/0")));
    assert.ok(cidrContains(cidr("10.0.0.0/24"), parseIp("10.0.0.255")!));
    assert.ok(!cidrContains(cidr("10.0.0.0/24"), parseIp("10.0.1.0")!));
  });
});
