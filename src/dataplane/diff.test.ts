import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NEXTHOP_ID_FIRST, TABLE_FIRST } from "./config.js";
import { countChanges, diffPeers, diffRouting, type RoutingDesired } from "./diff.js";
import { parseFdb, parseNeighbours, parseNexthops, parseNft, parseRoutes, parseRules } from "./parse.js";

const T = TABLE_FIRST;
const desired: RoutingDesired = {
  device: "egw.vxlan",
  groups: [{ key: `${T} 0.0.0.0/0`, hops: ["10.244.9.1", "10.244.9.2"] }],
  routes: [
    { table: T, dst: "0.0.0.0/0", kind: "group", group: `${T} 0.0.0.0/0` },
    { table: T, dst: "198.18.30.0/24", kind: "throw" },
  ],
  rules: [{ priority: 110, from: "10.244.0.0/16", mark: 0x10000, mask: 0x0fff0000, table: T }],
  buckets: 128,
  idleTimerSec: 60,
};

// Captured from `ip -json` on this kernel (iproute2 6.1).
const nexthopsJson = [
  { id: NEXTHOP_ID_FIRST, gateway: "10.244.9.1", dev: "egw.vxlan", scope: "link", flags: ["onlink"] },
  { id: NEXTHOP_ID_FIRST + 1, gateway: "10.244.9.2", dev: "egw.vxlan", scope: "link", flags: ["onlink"] },
  {
    id: NEXTHOP_ID_FIRST + 7,
    group: [{ id: NEXTHOP_ID_FIRST }, { id: NEXTHOP_ID_FIRST + 1 }],
    type: "resilient",
    resilient_args: { buckets: 128, idle_timer: 60, unbalanced_timer: 0, unbalanced_time: 0 },
    flags: [],
  },
  { id: 77, gateway: "172.31.0.100", dev: "ul0", scope: "link", flags: [] },
];
const routesJson = [
  {
    dst: "default",
    nhid: NEXTHOP_ID_FIRST + 7,
    gateway: "10.244.9.1",
    dev: "egw.vxlan",
    table: String(T),
    flags: ["onlink"],
  },
  { type: "throw", dst: "198.18.30.0/24", table: String(T), flags: [] },
];
const rulesJson = [
  { priority: 0, src: "all", table: "local" },
  { priority: 110, src: "10.244.0.0", srclen: 16, fwmark: "0x10000", fwmask: "0xfff0000", table: String(T) },
  { priority: 32766, src: "all", table: "main" },
];

describe("diffRouting", () => {
  it("builds everything from scratch, adds before it removes, with ids from egw's band", () => {
    const { changes, problems } = diffRouting(desired, {
      nexthops: parseNexthops([nexthopsJson[3]]),
      routes: [],
      rules: [],
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(changes.ipAdd, [
      `nexthop replace id ${NEXTHOP_ID_FIRST} via 10.244.9.1 dev egw.vxlan onlink`,
      `nexthop replace id ${NEXTHOP_ID_FIRST + 1} via 10.244.9.2 dev egw.vxlan onlink`,
      `nexthop replace id ${NEXTHOP_ID_FIRST + 2} group ${NEXTHOP_ID_FIRST}/${NEXTHOP_ID_FIRST + 1} type resilient buckets 128 idle_timer 60`,
      `route replace table ${T} 0.0.0.0/0 nhid ${NEXTHOP_ID_FIRST + 2}`,
      `route replace table ${T} throw 198.18.30.0/24`,
      `rule add from 10.244.0.0/16 fwmark 0x00010000/0x0fff0000 lookup ${T} priority 110`,
    ]);
    assert.deepEqual(changes.ipRemove, []);
  });

  it("adopts matching kernel state: no changes", () => {
    const { changes } = diffRouting(desired, {
      nexthops: parseNexthops(nexthopsJson),
      routes: parseRoutes(routesJson),
      rules: parseRules(rulesJson).filter((r) => r.priority === 110),
    });
    assert.equal(countChanges(changes), 0);
  });

  it("keeps the resilient group's id when a gateway leaves, then deletes the stale hop", () => {
    const oneHop = { ...desired, groups: [{ key: `${T} 0.0.0.0/0`, hops: ["10.244.9.1"] }] };
    const { changes } = diffRouting(oneHop, {
      nexthops: parseNexthops(nexthopsJson),
      routes: parseRoutes(routesJson),
      rules: parseRules(rulesJson).filter((r) => r.priority === 110),
    });
    assert.deepEqual(changes.ipAdd, [
      `nexthop replace id ${NEXTHOP_ID_FIRST + 7} group ${NEXTHOP_ID_FIRST} type resilient buckets 128 idle_timer 60`,
    ]);
    assert.deepEqual(changes.ipRemove, [`nexthop del id ${NEXTHOP_ID_FIRST + 1}`]);
  });

  it("removes stale objects of its bands only, rules first and hops last", () => {
    const nothing = { ...desired, groups: [], routes: [], rules: [] };
    const { changes } = diffRouting(nothing, {
      nexthops: parseNexthops(nexthopsJson),
      routes: parseRoutes(routesJson),
      rules: parseRules(rulesJson).filter((r) => r.priority === 110),
    });
    assert.deepEqual(changes.ipRemove, [
      `rule del priority 110 from 10.244.0.0/16 fwmark 0x00010000/0x0fff0000 lookup ${T}`,
      `route del table ${T} 0.0.0.0/0`,
      `route del table ${T} throw 198.18.30.0/24`,
      `nexthop del id ${NEXTHOP_ID_FIRST + 7}`,
      `nexthop del id ${NEXTHOP_ID_FIRST}`,
      `nexthop del id ${NEXTHOP_ID_FIRST + 1}`,
    ]);
    assert.ok(!changes.ipRemove.some((l) => l.includes("id 77")), "foreign nexthop untouched");
  });

  it("switches a route to unreachable in place (fail closed without a gap)", () => {
    const unreachable: RoutingDesired = {
      ...desired,
      groups: [],
      routes: [{ table: T, dst: "0.0.0.0/0", kind: "unreachable" }],
    };
    const { changes } = diffRouting(unreachable, {
      nexthops: parseNexthops(nexthopsJson),
      routes: parseRoutes(routesJson),
      rules: [],
    });
    assert.ok(changes.ipAdd.includes(`route replace table ${T} unreachable 0.0.0.0/0`));
    assert.ok(!changes.ipRemove.some((l) => l.startsWith(`route del table ${T} 0.0.0.0/0`)));
  });
});

describe("diffPeers", () => {
  it("adds missing permanent neighbours and FDB entries and removes stale ones", () => {
    const neighbours = parseNeighbours([
      { dst: "10.244.9.1", lladdr: "a2:2a:0a:f4:09:01", state: ["PERMANENT"] },
      { dst: "10.244.9.5", lladdr: "a2:2a:0a:f4:09:05", state: ["PERMANENT"] },
    ]);
    const fdb = parseFdb([
      { mac: "a2:2a:0a:f4:09:01", dst: "172.30.0.1", flags: ["self"], state: "permanent" },
      { mac: "a2:2a:0a:f4:09:05", dst: "172.30.0.5", flags: ["self"], state: "permanent" },
    ]);
    const c = diffPeers(
      "egw.vxlan",
      [
        { ip: "10.244.9.1", mac: "a2:2a:0a:f4:09:01", vtep: "172.30.0.1" },
        { ip: "10.244.9.2", mac: "a2:2a:0a:f4:09:02", vtep: "172.30.0.2" },
      ],
      neighbours,
      fdb,
    );
    assert.deepEqual(c.ipAdd, [
      "neigh replace 10.244.9.2 lladdr a2:2a:0a:f4:09:02 dev egw.vxlan nud permanent",
    ]);
    assert.deepEqual(c.bridgeAdd, ["fdb replace a2:2a:0a:f4:09:02 dev egw.vxlan dst 172.30.0.2"]);
    assert.deepEqual(c.ipRemove, ["neigh del 10.244.9.5 dev egw.vxlan"]);
    assert.deepEqual(c.bridgeRemove, ["fdb del a2:2a:0a:f4:09:05 dev egw.vxlan dst 172.30.0.5"]);
  });
});

describe("parseNft", () => {
  it("reads the version marker, chain rule counts and set sizes", () => {
    const o = parseNft({
      nftables: [
        { metainfo: { version: "1.0.6" } },
        { table: { family: "inet", name: "egw", handle: 2 } },
        {
          set: {
            family: "inet",
            name: "egw_blocked",
            table: "egw",
            type: "ipv4_addr",
            elem: ["10.244.1.11"],
          },
        },
        { map: { family: "inet", name: "egw_pod_set", table: "egw", type: "ipv4_addr", map: "verdict" } },
        { chain: { family: "inet", table: "egw", name: "egw_version", handle: 1 } },
        { chain: { family: "inet", table: "egw", name: "egw_policy", handle: 3 } },
        {
          rule: {
            family: "inet",
            table: "egw",
            chain: "egw_version",
            handle: 4,
            comment: "egw-plan abc",
            expr: [],
          },
        },
      ],
    });
    assert.deepEqual(o, {
      exists: true,
      hash: "abc",
      chains: { egw_version: 1, egw_policy: 0 },
      sets: { egw_blocked: 1, egw_pod_set: 0 },
    });
  });
});

describe("diffRouting: pin and liveness objects", () => {
  const L = T - 1; // the liveness table, just below the slot tables
  const want: RoutingDesired = {
    device: "egw.vxlan",
    groups: [],
    routes: [
      { table: T + 1, dst: "0.0.0.0/0", kind: "via", gateway: "10.244.9.1" },
      { table: L, dst: "10.244.9.1/32", kind: "via", gateway: "10.244.9.1" },
    ],
    rules: [
      { priority: 110, from: "10.244.0.0/16", mark: 0x20000, mask: 0x0fff0000, table: T + 1 },
      { priority: 111, from: "172.30.0.1/32", ipproto: "udp", dport: 3784, table: L },
    ],
    buckets: 128,
    idleTimerSec: 60,
  };

  it("adds routes via one replica (onlink) and rules with protocol and port", () => {
    const { changes } = diffRouting(want, { nexthops: [], routes: [], rules: [] });
    assert.deepEqual(changes.ipAdd, [
      `route replace table ${T + 1} 0.0.0.0/0 via 10.244.9.1 dev egw.vxlan onlink`,
      `route replace table ${L} 10.244.9.1/32 via 10.244.9.1 dev egw.vxlan onlink`,
      `rule add from 10.244.0.0/16 fwmark 0x00020000/0x0fff0000 lookup ${T + 1} priority 110`,
      `rule add from 172.30.0.1/32 ipproto udp dport 3784 lookup ${L} priority 111`,
    ]);
  });

  it("changes nothing when the kernel matches (as read back), and replaces a route via another replica", () => {
    const routes = parseRoutes([
      { dst: "default", gateway: "10.244.9.1", dev: "egw.vxlan", table: String(T + 1), flags: ["onlink"] },
      { dst: "10.244.9.1", gateway: "10.244.9.1", dev: "egw.vxlan", table: String(L), flags: ["onlink"] },
    ]);
    const rules = parseRules([
      {
        priority: 110,
        src: "10.244.0.0",
        srclen: 16,
        fwmark: "0x20000",
        fwmask: "0xfff0000",
        table: String(T + 1),
      },
      { priority: 111, src: "172.30.0.1", ipproto: "udp", dport: 3784, table: String(L) },
    ]);
    assert.equal(countChanges(diffRouting(want, { nexthops: [], routes, rules }).changes), 0);
    const moved = routes.map((r) => (r.table === T + 1 ? { ...r, gateway: "10.244.9.2" } : r));
    assert.deepEqual(diffRouting(want, { nexthops: [], routes: moved, rules }).changes.ipAdd, [
      `route replace table ${T + 1} 0.0.0.0/0 via 10.244.9.1 dev egw.vxlan onlink`,
    ]);
  });

  it("removes stale liveness rules with their protocol and ports", () => {
    const rules = parseRules([
      { priority: 111, src: "10.128.0.1", ipproto: "udp", sport: 3784, table: String(L) },
    ]);
    const { changes } = diffRouting({ ...want, rules: [] }, { nexthops: [], routes: [], rules });
    assert.deepEqual(changes.ipRemove, [
      `rule del priority 111 from 10.128.0.1/32 ipproto udp sport 3784 lookup ${L}`,
    ]);
  });
});
