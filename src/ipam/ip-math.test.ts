import assert from "node:assert/strict";
import { test } from "node:test";
import {
  blockSize,
  cidrContains,
  firstFree,
  formatCidr,
  formatIp,
  hostCount,
  hostRange,
  ipToName,
  nthHost,
  parseCidr,
  parseIp,
  type Cidr,
} from "./ip-math.js";

const cidr = (s: string): Cidr => {
  const r = parseCidr(s);
  if (!r.ok) assert.fail(r.error);
  return r.value;
};
const ip = (s: string) => {
  const r = parseIp(s);
  if (!r.ok) assert.fail(r.error);
  return r.value;
};
const nth = (c: string, n: bigint): string | undefined => {
  const a = nthHost(cidr(c), n);
  return a && formatIp(a);
};

test("parses and formats IPv4 and IPv6 canonically", () => {
  const cases: [string, string][] = [
    ["10.10.1.3", "10.10.1.3"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["fd00::1", "fd00::1"],
    ["FD00:0:0:0:0:0:0:1", "fd00::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first longest run wins
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
    ["::ffff:1.2.3.4", "::ffff:102:304"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
  ];
  for (const [input, want] of cases) assert.equal(formatIp(ip(input)), want, input);
  assert.equal(ip("::ffff:1.2.3.4").family, 6);
});

test("rejects malformed addresses", () => {
  for (const bad of [
    "",
    "10.1",
    "10.1.1.256",
    "010.1.1.1",
    "1.2.3.4.5",
    "fd00:::1",
    "1::2::3",
    "fe80::1%eth0",
    "12345::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::8",
    "g::1",
    "::1.2.3",
  ]) {
    assert.equal(parseIp(bad).ok, false, bad);
  }
});

test("parses CIDRs and rejects host bits, bad prefixes and bad addresses with helpful messages", () => {
  assert.equal(formatCidr(cidr("10.10.0.0/16")), "10.10.0.0/16");
  assert.equal(formatCidr(cidr("fd00:0::/64")), "fd00::/64");
  const hostBits = parseCidr("10.10.1.3/24");
  assert.ok(!hostBits.ok && /host bits set; did you mean 10\.10\.1\.0\/24\?/.test(hostBits.error));
  for (const bad of [
    "10.0.0.0/33",
    "10.0.0.0",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0.0/024",
    "fd00::/129",
    "x/8",
  ]) {
    const r = parseCidr(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.error, new RegExp(bad.replace(/[./]/g, "\\$&")));
  }
});

test("IPv4 host ranges skip network and broadcast only below /31", () => {
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

test("IPv6 ranges use every address, including huge blocks, without materialising them", () => {
  assert.equal(hostCount(cidr("fd00::/64")), 2n ** 64n);
  assert.equal(blockSize(cidr("::/0")), 2n ** 128n);
  assert.equal(nth("fd00::/64", 0n), "fd00::");
  assert.equal(nth("fd00::/64", 2n ** 64n - 1n), "fd00::ffff:ffff:ffff:ffff");
  assert.equal(nth("fd00::/64", 2n ** 64n), undefined);
  assert.equal(nth("fd00::5/128", 0n), "fd00::5");
  assert.equal(hostCount(cidr("fd00::5/128")), 1n);
  const { last } = hostRange(cidr("::/0"));
  assert.equal(formatIp({ family: 6, value: last }), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
});

test("containment respects family and prefix", () => {
  assert.ok(cidrContains(cidr("10.10.0.0/16"), ip("10.10.255.255")));
  assert.ok(!cidrContains(cidr("10.10.0.0/16"), ip("10.11.0.0")));
  assert.ok(!cidrContains(cidr("::/0"), ip("10.0.0.1")));
  assert.ok(cidrContains(cidr("fd00::/8"), ip("fdff::1")));
});

test("firstFree skips taken addresses in O(taken) even for a /64", () => {
  const v6 = cidr("fd00::/64");
  const taken = new Set<bigint>([0n, 1n, 2n, 4n].map((n) => v6.network + n));
  assert.equal(formatIp(firstFree(v6, taken) ?? assert.fail()), "fd00::3");
  const v4 = cidr("10.0.0.0/30");
  assert.equal(formatIp(firstFree(v4, new Set([ip("10.0.0.1").value])) ?? assert.fail()), "10.0.0.2");
  assert.equal(firstFree(v4, new Set([ip("10.0.0.1").value, ip("10.0.0.2").value])), undefined);
  assert.equal(firstFree(cidr("10.0.0.9/32"), new Set([ip("10.0.0.9").value])), undefined);
});

test("names derived from IPs are unique and name-safe", () => {
  assert.equal(ipToName(ip("10.10.1.3")), "10-10-1-3");
  assert.equal(ipToName(ip("fd00::1")), "fd00-0-0-0-0-0-0-1");
  assert.notEqual(ipToName(ip("fd00::1:0")), ipToName(ip("fd00::1")));
  assert.match(ipToName(ip("2001:db8::ff")), /^[0-9a-f-]+$/);
});
