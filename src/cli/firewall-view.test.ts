import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { firewallListJson, formatFirewallList } from "./firewall-view.js";
import { addFeed, applyFetch, type FirewallState } from "../lab/firewall-feeds.js";
import { firewalledHosts } from "../lab/firewall.js";

const URL_A = "http://172.30.0.2:8080/feeds/gateway/payments/pay.txt";
const T0 = new Date("2026-11-28T10:00:00Z");
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

describe("egw lab firewall list", () => {
  it("shows a host with nothing allowed as before", () => {
    assert.equal(
      formatFirewallList(firewalledHosts(), { allow: {}, feeds: [] }, T0),
      "db\t198.18.20.10:5432\t(nothing allowed)\n",
    );
  });

  it("shows each feed with interval, last fetch, result, entries and why it uses an old copy", () => {
    let s: FirewallState = addFeed({ allow: {}, feeds: [] }, "db", URL_A, 1, T0).state;
    s = applyFetch(
      s,
      "db",
      URL_A,
      { kind: "body", status: 200, body: "10.10.0.1\n10.10.0.2\n" },
      at(1),
    ).state;
    s = applyFetch(
      s,
      "db",
      URL_A,
      { kind: "failed", status: 503, message: "HTTP 503: not synced" },
      at(2),
    ).state;
    const text = formatFirewallList(firewalledHosts(), s, at(5));
    const lines = text.split("\n");
    assert.equal(lines[0], "db\t198.18.20.10:5432\t(nothing by hand)");
    assert.match(lines[1] ?? "", /^ {2}FEED\s+INTERVAL\s+LAST FETCH\s+RESULT\s+ENTRIES\s+DETAIL$/);
    assert.match(
      lines[2] ?? "",
      /pay\.txt\s+1s\s+2026-11-28T10:00:02\.000Z \(3s ago\)\s+failed \(503\)\s+2\s+HTTP 503: not synced; using the copy from 2026-11-28T10:00:01\.000Z/,
    );
    assert.equal(lines[3], "  allowed now: 2 entries (egw lab firewall list --json)");
    const [db] = firewallListJson(firewalledHosts(), { ...s, allow: { db: ["192.0.2.0/24"] } });
    assert.deepEqual(db?.allowed, ["10.10.0.1/32", "10.10.0.2/32", "192.0.2.0/24"]);
    assert.deepEqual(db?.byHand, ["192.0.2.0/24"]);
    assert.equal(db?.feeds[0]?.entries.length, 2);
  });
});
