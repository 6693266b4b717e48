import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  allow,
  firewalledHost,
  formatFirewallLogEntry,
  nonOverlapping,
  normaliseSourceCidr,
  parseFirewallLogLine,
  renderAllowSetUpdate,
  renderFirewall,
  revoke,
} from "./firewall.js";
import { externalHost } from "./topology.js";

describe("lab firewall", () => {
  it("knows which hosts are firewalled", () => {
    assert.equal(firewalledHost("db").ok, true);
    const open = firewalledHost("whoami");
    assert.equal(open.ok, false);
    if (!open.ok) assert.match(open.error, /not behind the firewall/);
    const unknown = firewalledHost("mail");
    assert.equal(unknown.ok, false);
    if (!unknown.ok) assert.match(unknown.error, /hosts behind the firewall: db/);
  });

  it("normalises sources and explains bad ones", () => {
    assert.deepEqual(normaliseSourceCidr("172.30.0.11"), { ok: true, value: "172.30.0.11/32" });
    assert.deepEqual(normaliseSourceCidr("172.30.0.0/24"), { ok: true, value: "172.30.0.0/24" });
    const hostBits = normaliseSourceCidr("172.30.0.5/24");
    assert.equal(hostBits.ok, false);
    if (!hostBits.ok) assert.match(hostBits.error, /use "172\.30\.0\.0\/24"/);
    assert.equal(normaliseSourceCidr("fd00::/64").ok, false);
    assert.equal(normaliseSourceCidr("nope").ok, false);
  });

  it("edits allow lists idempotently and refuses to revoke what is not there", () => {
    const a = allow({}, "db", ["172.30.0.0/24", "10.10.0.5"]);
    assert.ok(a.ok);
    assert.deepEqual(a.value, { db: ["172.30.0.0/24", "10.10.0.5/32"] });
    const again = allow(a.value, "db", ["172.30.0.0/24"]);
    assert.ok(again.ok);
    assert.deepEqual(again.value, a.value);
    const r = revoke(a.value, "db", ["172.30.0.0/24"]);
    assert.ok(r.ok);
    assert.deepEqual(r.value, { db: ["10.10.0.5/32"] });
    const missing = revoke(r.value, "db", ["192.0.2.0/24"]);
    assert.equal(missing.ok, false);
    if (!missing.ok)
      assert.match(
        missing.error,
        /192\.0\.2\.0\/24 is not in the allow list of db \(current: 10\.10\.0\.5\/32\)/,
      );
  });

  it("drops covered CIDRs so the interval set never overlaps", () => {
    assert.deepEqual(nonOverlapping(["172.30.0.0/24", "172.30.0.11/32", "10.0.0.0/8", "10.1.0.0/16"]), [
      "172.30.0.0/24",
      "10.0.0.0/8",
    ]);
  });

  it("keeps the order of uncovered CIDRs and drops duplicates and nested ones at the same start", () => {
    assert.deepEqual(nonOverlapping(["10.0.0.8/29", "10.0.0.8/32", "10.0.0.1/32", "10.0.0.8/29"]), [
      "10.0.0.8/29",
      "10.0.0.1/32",
    ]);
  });

  it("replaces one host's allow set in a single transaction", () => {
    const db = externalHost("db");
    assert.ok(db);
    assert.equal(
      renderAllowSetUpdate(db, ["10.10.0.2/32", "10.10.0.0/24", "192.0.2.1/32"]),
      "flush set inet egw_fw egw_allow_db\nadd element inet egw_fw egw_allow_db { 10.10.0.0/24, 192.0.2.1/32 }\n",
    );
    assert.equal(renderAllowSetUpdate(db, []), "flush set inet egw_fw egw_allow_db\n");
  });

  it("renders a default-deny table with logged accept and drop for db", () => {
    const empty = renderFirewall();
    assert.match(empty, /set egw_allow_db \{ type ipv4_addr; flags interval; \}/);
    assert.match(
      empty,
      /ip daddr 198\.18\.20\.10 tcp dport 5432 ip saddr @egw_allow_db counter log prefix "egw-fw accept db " group 7 accept/,
    );
    assert.match(
      empty,
      /ip daddr 198\.18\.20\.10 tcp dport 5432 counter log prefix "egw-fw drop db " group 7 reject with tcp reset/,
    );
    assert.match(empty, /^table inet egw_fw\ndelete table inet egw_fw\n/);
    const withList = renderFirewall({ db: ["172.30.0.0/24", "172.30.0.11/32"] });
    assert.match(withList, /elements = \{ 172\.30\.0\.0\/24 \};/);
  });

  it("parses ulogd JSON lines into entries and ignores others", () => {
    const line = JSON.stringify({
      "oob.prefix": "egw-fw drop db ",
      "oob.time.sec": 1700000000,
      "oob.time.usec": 250000,
      src_ip: "172.30.0.11",
      dest_ip: "198.18.20.10",
      src_port: 40000,
      dest_port: 5432,
    });
    const e = parseFirewallLogLine(line);
    assert.deepEqual(e, {
      time: "2023-11-14T22:13:20.250Z",
      action: "drop",
      host: "db",
      src: "172.30.0.11",
      srcPort: 40000,
      dst: "198.18.20.10",
      dstPort: 5432,
    });
    assert.equal(
      formatFirewallLogEntry(e!),
      "2023-11-14T22:13:20.250Z  DROP    172.30.0.11:40000 -> db 198.18.20.10:5432",
    );
    assert.equal(parseFirewallLogLine("not json"), undefined);
    assert.equal(parseFirewallLogLine(JSON.stringify({ "oob.prefix": "other " })), undefined);
  });
});
