import assert from "node:assert/strict";
import { test } from "node:test";
import { parseIp } from "../util/ip.js";
import { ipToName } from "./allocation-name.js";

const ip = (s: string) => parseIp(s) ?? assert.fail(s);

test("names derived from IPs are unique and name-safe", () => {
  assert.equal(ipToName(ip("10.10.1.3")), "10-10-1-3");
  assert.equal(ipToName(ip("fd00::1")), "fd00-0-0-0-0-0-0-1");
  assert.notEqual(ipToName(ip("fd00::1:0")), ipToName(ip("fd00::1")));
  assert.match(ipToName(ip("2001:db8::ff")), /^[0-9a-f-]+$/);
});
