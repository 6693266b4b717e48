import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  blockSize,
  canonicalCidr4,
  cidrContains,
  cidrLast,
  cidrsOverlap,
  firstFree,
  formatCidr,
  formatIp,
  formatIpv4Number,
  hostCount,
  hostRange,
  ipFamilyOf,
  ipv4Range,
  isIpv4,
  nthHost,
  parseCidr,
  parseIp,
  parseIpv4Number,
  type Cidr,
  type IpAddress,
} from "./ip.js";

const cidr = (s: string): Cidr => {
  const r = parseCidr(s, { allowBareIp: true });
  if (!r.ok) assert.fail(`${s}: ${r.error}`);
  return r.value;
};
const ip = (s: string): IpAddress => parseIp(s) ?? assert.fail(s);
const nth = (c: string, n: bigint): string | undefined => {
  const a = nthHost(cidr(c), n);
  return a && formatIp(a);
};

describe("ip addresses", () => {
  it("parses strict IPv4 and IPv6", () => {
    assert.deepEqual(parseIp("10.0.0.1"), { version: 4, value: 0x0a000001n });
    assert.deepEqual(parseIp("::1"), { version: 6, value: 1n });
    assert.equal(ip("::ffff:1.2.3.4").version, 6);
    // An embedded IPv4 tail fills the last two groups where it stands.
    assert.equal(ip("::1.2.3.4").value, 0x01020304n);
    assert.equal(parseIpv4Number("255.255.255.255"), 2 ** 32 - 1);
    assert.ok(isIpv4("10.1.2.3") && !isIpv4("10.1.2") && !isIpv4("::1"));
    for (const bad of [
      "",
      "10",
      "10.1",
      "10.0.0",
      "10.0.0.256",
      "010.0.0.1",
      "0x0a.0.0.1",
      "1.2.3.4.5",
      " 1.2.3.4",
      "fe80::1%eth0",
      "fd00:::1",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "g::1",
      "::1.2.3",
      "::ffff:01.2.3.4",
      "1.2.3.4::",
    ]) {
      assert.equal(parseIp(bad), undefined, bad);
    }
  });

  it("formats addresses canonically (dotted quad, RFC 5952)", () => {
    const cases: [string, string][] = [
      ["10.10.1.3", "10.10.1.3"],
      ["0.0.0.0", "0.0.0.0"],
      ["255.255.255.255", "255.255.255.255"],
      ["fd00::1", "fd00::1"],
      ["FD00:0:0:0:0:0:0:1", "fd00::1"],
      ["2001:0db8:0000::0001", "2001:db8::1"],
      ["::", "::"],
      ["::1", "::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first longest run wins
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
      ["::ffff:1.2.3.4", "::ffff:102:304"],
      ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ];
    for (const [input, want] of cases) assert.equal(formatIp(ip(input)), want, input);
    assert.equal(formatIp({ version: 4, value: 0xc0a80001n }), "192.168.0.1");
    for (const text of ["0.0.0.0", "10.244.1.7", "192.168.0.1", "255.255.255.255"])
      assert.equal(formatIpv4Number(parseIpv4Number(text) ?? assert.fail(text)), text);
  });

  it("tells the family an address is written in, valid or not", () => {
    assert.equal(ipFamilyOf("10.0.0.0/8"), 4);
    assert.equal(ipFamilyOf("fd00::/8"), 6);
    assert.equal(ipFamilyOf("not:an:address"), 6);
  });
});

describe("CIDRs", () => {
  it("parses CIDRs, rejects host bits with the fix, masks them when asked", () => {
    assert.equal(cidr("10.0.0.0/8").text, "10.0.0.0/8");
    assert.equal(cidr("10.0.0.7").text, "10.0.0.7/32");
    assert.equal(formatCidr(cidr("fd00:0::/64")), "fd00::/64");
    assert.equal(cidr("2001:db8::/32").prefix, 32);
    assert.deepEqual(parseCidr("10.0.0.1/24"), { ok: false, error: 'has host bits set: use "10.0.0.0/24"' });
    assert.deepEqual(parseCidr("2001:db8::1/32"), {
      ok: false,
      error: 'has host bits set: use "2001:db8::/32"',
    });
    const masked = parseCidr("10.0.0.1/24", { maskHostBits: true });
    assert.ok(masked.ok && masked.value.text === "10.0.0.0/24");
    for (const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/08",
      "10.0.0.0/-1",
      "10.0.0.0/8/8",
      "x/8",
    ]) {
      const r = parseCidr(bad);
      assert.ok(!r.ok && r.error.startsWith("is not a valid CIDR"), bad);
    }
    assert.deepEqual(parseCidr("10.0.0.0"), {
      ok: false,
      error: 'is not a valid CIDR: the prefix length is missing (e.g. "10.0.0.0/32")',
    });
    assert.equal(canonicalCidr4("10.1.2.3"), "10.1.2.3/32");
    assert.equal(canonicalCidr4("10.1.2.0/24"), "10.1.2.0/24");
    assert.equal(canonicalCidr4("10.1.2.3/24"), undefined);
    assert.equal(canonicalCidr4("fd00::/8"), undefined);
  });

  it("gives IPv4 addresses and prefixes as number ranges, host bits ignored", () => {
    assert.deepEqual(ipv4Range("10.0.0.7"), [0x0a000007, 0x0a000007]);
    assert.deepEqual(ipv4Range("10.0.0.7/24"), [0x0a000000, 0x0a0000ff]);
    assert.deepEqual(ipv4Range("0.0.0.0/0"), [0, 2 ** 32 - 1]);
    assert.deepEqual(ipv4Range("255.255.255.255/32"), [2 ** 32 - 1, 2 ** 32 - 1]);
    for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "10.0.0/8", "fd00::/8", "::1"])
      assert.equal(ipv4Range(bad), undefined, bad);
  });

  it("computes ends, overlaps and containment with BigInt, per version", () => {
    assert.equal(cidrLast(cidr("10.0.0.0/24")), 0x0a0000ffn);
    assert.equal(cidrLast(cidr("::/0")), (1n << 128n) - 1n);
    assert.ok(cidrsOverlap(cidr("10.0.0.0/8"), cidr("10.200.0.0/16")));
    assert.ok(!cidrsOverlap(cidr("10.0.0.0/24"), cidr("10.0.1.0/24")));
    assert.ok(!cidrsOverlap(cidr("0.0.0.0/0"), cidr("::/0")));
    assert.ok(cidrContains(cidr("10.0.0.0/24"), ip("10.0.0.255")));
    assert.ok(!cidrContains(cidr("10.0.0.0/24"), ip("10.0.1.0")));
    assert.ok(!cidrContains(cidr("::/0"), ip("10.0.0.1")));
    assert.ok(cidrContains(cidr("fd00::/8"), ip("fdff::1")));
  });

  it("IPv4 host ranges skip network and broadcast only below /31", () => {
    assert.equal(hostCount(cidr("10.0.0.0/24")), 254n);
    assert.equal(nth("10.0.0.0/24", 0n), "10.0.0.1");
    assert.equal(nth("10.0.0.0/24", 253n), "10.0.0.254");
    assert.equal(nth("10.0.0.0/24", 254n), undefined);
    assert.equal(hostCount(cidr("10.0.0.0/30")), 2n);
    assert.equal(hostCount(cidr("10.0.0.0/31")), 2n); // RFC 3021 point-to-point
    assert.equal(nth("10.0.0.0/31", 0n), "10.0.0.0");
    assert.equal(nth("10.0.0.0/31", 1n), "10.0.0.1");
    assert.equal(hostCount(cidr("10.0.0.7/32")), 1n);
    assert.equal(nth("10.0.0.7/32", 0n), "10.0.0.7");
    assert.equal(nth("10.0.0.7/32", 1n), undefined);
    assert.equal(nth("10.0.0.7/32", -1n), undefined);
    assert.equal(hostCount(cidr("0.0.0.0/0")), 2n ** 32n - 2n);
  });

  it("IPv6 ranges use every address, including huge blocks, without materialising them", () => {
    assert.equal(hostCount(cidr("fd00::/64")), 2n ** 64n);
    assert.equal(blockSize(cidr("::/0")), 2n ** 128n);
    assert.equal(nth("fd00::/64", 0n), "fd00::");
    assert.equal(nth("fd00::/64", 2n ** 64n - 1n), "fd00::ffff:ffff:ffff:ffff");
    assert.equal(nth("fd00::/64", 2n ** 64n), undefined);
    assert.equal(nth("fd00::5/128", 0n), "fd00::5");
    assert.equal(hostCount(cidr("fd00::5/128")), 1n);
    const { last } = hostRange(cidr("::/0"));
    assert.equal(formatIp({ version: 6, value: last }), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  });

  it("firstFree skips taken addresses in O(taken) even for a /64", () => {
    const v6 = cidr("fd00::/64");
    const taken = new Set<bigint>([0n, 1n, 2n, 4n].map((n) => v6.network + n));
    assert.equal(formatIp(firstFree(v6, taken) ?? assert.fail()), "fd00::3");
    const v4 = cidr("10.0.0.0/30");
    assert.equal(formatIp(firstFree(v4, new Set([ip("10.0.0.1").value])) ?? assert.fail()), "10.0.0.2");
    assert.equal(firstFree(v4, new Set([ip("10.0.0.1").value, ip("10.0.0.2").value])), undefined);
    assert.equal(firstFree(cidr("10.0.0.9/32"), new Set([ip("10.0.0.9").value])), undefined);
  });
});
