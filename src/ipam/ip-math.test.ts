import assert from "node:assert/strict";
import { test } from "node:test";
import { parseIp as parseAddress } from "../util/ip.js";
import { ipToName, parseIp } from "./ip-math.js";

const ip = (s: string) => parseAddress(s) ?? assert.fail(s);

test("names derived from IPs are unique and name-safe", () => {
  assert.equal(ipToName(ip("10.10.1.3")), "10-10-1-3");
  assert.equal(ipToName(ip("fd00::1")), "fd00-0-0-0-0-0-0-1");
  assert.notEqual(ipToName(ip("fd00::1:0")), ipToName(ip("fd00::1")));
  assert.match(ipToName(ip("2001:db8::ff")), /^[0-9a-f-]+$/);
});

test("parseIp in Result form names the bad value", () => {
  assert.deepEqual(parseIp("10.0.0.1"), { ok: true, value: { version: 4, value: 0x0a000001n } });
  assert.deepEqual(parseIp("10.0.0"), { ok: false, error: '"10.0.0" is not a valid IPv4 or IPv6 address' });
});
