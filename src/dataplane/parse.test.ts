// Read-back parsers against output captured from nft 1.0.6.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseKernelSlots, parseRules, parseWorkloadSlots } from "./parse.js";

const map = (name: string, type: string, elem: unknown[]) => ({
  map: { family: "inet", name, table: "egw", type, handle: 15, map: "verdict", elem },
});
const jump = (target: string) => ({ jump: { target } });

describe("parseWorkloadSlots", () => {
  it("maps each steered workload IP to the slot whose mark is restored to the same table", () => {
    const json = {
      nftables: [
        { metainfo: { version: "1.0.6", json_schema_version: 1 } },
        { table: { family: "inet", name: "egw", handle: 2 } },
        map("egw_pod_set", "ipv4_addr", [
          ["10.244.1.10", jump("egw_set_20001")],
          ["10.244.1.11", jump("egw_set_20003")],
          ["10.244.1.12", jump("egw_set_20004")], // no mark restore for slot 4: not adopted
          ["10.244.1.13", jump("egw_set_99")], // outside the band
          ["10.244.1.14", { accept: null }],
        ]),
        map("egw_mark_restore", "mark", [
          [65536, jump("egw_restore_20001")],
          [196608, jump("egw_restore_20003")],
          [0x50000, jump("egw_restore_20004")], // mark of slot 5 naming table of slot 4: inconsistent
        ]),
      ],
    };
    assert.deepEqual(Object.fromEntries(parseWorkloadSlots(json)), { "10.244.1.10": 1, "10.244.1.11": 3 });
  });

  it("finds nothing in an empty table or unexpected JSON", () => {
    assert.equal(parseWorkloadSlots({ nftables: [map("egw_pod_set", "ipv4_addr", [])] }).size, 0);
    assert.equal(parseWorkloadSlots(undefined).size, 0);
    assert.equal(parseWorkloadSlots({ nftables: "x" }).size, 0);
  });
});

describe("parseKernelSlots", () => {
  it("reads pins (egw_pin: replica IP → egw_pin_<table>) next to workload slots, each cross-checked with the restore map", () => {
    const json = {
      nftables: [
        map("egw_pod_set", "ipv4_addr", [["10.244.1.10", jump("egw_set_20001")]]),
        map("egw_pin", "ipv4_addr", [
          ["10.128.0.1", jump("egw_pin_20002")],
          ["10.128.0.2", jump("egw_pin_20005")], // no mark restore for slot 5: not adopted
        ]),
        map("egw_mark_restore", "mark", [
          [0x10000, jump("egw_restore_20001")],
          [0x20000, jump("egw_restore_20002")],
        ]),
      ],
    };
    const slots = parseKernelSlots(json);
    assert.deepEqual(Object.fromEntries(slots.workloads), { "10.244.1.10": 1 });
    assert.deepEqual(Object.fromEntries(slots.pins), { "10.128.0.1": 2 });
  });
});

describe("parseRules", () => {
  it("reads protocol and port matches (captured from iproute2 6.1), a port range as its text", () => {
    const rules = parseRules([
      { priority: 111, src: "172.30.0.1", ipproto: "udp", dport: 3784, table: "20000" },
      { priority: 111, src: "10.128.0.1", ipproto: "udp", sport: 3784, table: "20000" },
      { priority: 111, src: "all", ipproto: "tcp", dport_start: 1000, dport_end: 2000, table: "20000" },
    ]);
    assert.deepEqual(rules, [
      {
        priority: 111,
        from: "172.30.0.1/32",
        fwmark: undefined,
        fwmask: undefined,
        table: 20000,
        ipproto: "udp",
        dport: 3784,
      },
      {
        priority: 111,
        from: "10.128.0.1/32",
        fwmark: undefined,
        fwmask: undefined,
        table: 20000,
        ipproto: "udp",
        sport: 3784,
      },
      {
        priority: 111,
        from: "0.0.0.0/0",
        fwmark: undefined,
        fwmask: undefined,
        table: 20000,
        ipproto: "tcp",
        dport: "1000-2000",
      },
    ]);
  });
});
