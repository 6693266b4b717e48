// Parsing birdc output captured from BIRD 2.0.12 (testing/bird-captures.ts): protocols with their
// BGP session state, neighbor, last error and exported routes; BFD sessions; learned routes with
// next hops and BGP attributes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bgpInfoMessage,
  bgpStateOf,
  parseBfdSessions,
  parseProtocols,
  parseRoutes,
  protocolSinceToIso,
} from "./bird-status.js";
import {
  BFD_SESSIONS,
  PROTOCOLS_ALL_BFD_DOWN,
  PROTOCOLS_ALL_DOWN,
  PROTOCOLS_ALL_ESTABLISHED,
  PROTOCOLS_ALL_RENDERED,
  ROUTER_ROUTES,
  ROUTER_ROUTES_ALL_VIA,
  ROUTER_ROUTES_VIA,
} from "./testing/bird-captures.js";

describe("parseProtocols", () => {
  it("reads every protocol and the details of an established BGP session", () => {
    const ps = parseProtocols(PROTOCOLS_ALL_ESTABLISHED);
    assert.deepEqual(
      ps.map((p) => [p.name, p.proto, p.state]),
      [
        ["device1", "Device", "up"],
        ["egw_bfd", "BFD", "up"],
        ["egw_egress", "Static", "up"],
        ["peer_lab_router", "BGP", "up"],
        ["peer_nobody", "BGP", "start"],
      ],
    );
    const up = ps.find((p) => p.name === "peer_lab_router");
    assert.deepEqual(up?.bgp, {
      state: "Established",
      neighborAddress: "10.215.0.1",
      neighborAs: 64513,
      localAs: 64512,
    });
    assert.deepEqual(up?.routes, { imported: 0, exported: 2, preferred: 0 });
    assert.equal(up?.since, "12:56:57.274");
    assert.equal(bgpStateOf(up!), "Established");
    assert.equal(bgpInfoMessage(up!), undefined);
    const connecting = ps.find((p) => p.name === "peer_nobody");
    assert.equal(bgpStateOf(connecting!), "Connect");
    assert.equal(connecting?.routes, undefined, "a channel that is down prints no route counts");
    assert.deepEqual(ps.find((p) => p.name === "egw_egress")?.routes, {
      imported: 2,
      exported: 0,
      preferred: 2,
    });
    assert.equal(bgpStateOf(ps[0]!), undefined, "not a BGP protocol");
  });

  it("reads why a session is down", () => {
    const ps = parseProtocols(PROTOCOLS_ALL_DOWN);
    const active = ps.find((p) => p.name === "peer_lab_router")!;
    assert.equal(bgpStateOf(active), "Active");
    assert.equal(bgpInfoMessage(active), "Received: Cease");
    assert.equal(active.bgp?.lastError, "Received: Cease");
    const disabled = ps.find((p) => p.name === "peer_nobody")!;
    assert.equal(disabled.state, "down");
    assert.equal(bgpStateOf(disabled), "Down");
    const bfdDown = parseProtocols(PROTOCOLS_ALL_BFD_DOWN);
    assert.equal(bfdDown.length, 1);
    assert.equal(bgpInfoMessage(bfdDown[0]!), "Error: BFD session down");
  });

  it("reads the quoted peer protocol, its description and the RFC 3339 time format egw renders", () => {
    const p = parseProtocols(PROTOCOLS_ALL_RENDERED).find((x) => x.proto === "BGP")!;
    assert.equal(p.name, "peer.lab-router");
    assert.equal(p.description, "BGPPeer lab-router");
    assert.equal(p.since, "2026-11-28T12:59:41+0000");
    assert.equal(protocolSinceToIso(p.since), "2026-11-28T12:59:41Z");
    assert.equal(bgpStateOf(p), "Active");
  });

  it("converts only a time with date and offset", () => {
    assert.equal(protocolSinceToIso("2026-11-28T13:59:41+0100"), "2026-11-28T12:59:41Z");
    assert.equal(protocolSinceToIso("12:56:57.274"), undefined);
  });

  it("reads the short form (no details)", () => {
    const ps = parseProtocols(
      PROTOCOLS_ALL_DOWN.split("\n")
        .filter((l) => !/^\s/.test(l))
        .join("\n"),
    );
    assert.equal(ps.length, 5);
    assert.equal(ps.find((p) => p.name === "peer_lab_router")?.bgp, undefined);
    assert.equal(bgpStateOf(ps.find((p) => p.name === "peer_lab_router")!), "Active");
  });
});

describe("parseBfdSessions", () => {
  it("reads each session with its BFD protocol", () => {
    assert.deepEqual(parseBfdSessions(BFD_SESSIONS), [
      { protocol: "egw_bfd", ip: "10.215.0.1", interface: "---", state: "Up", since: "12:56:53.937" },
    ]);
  });
});

describe("parseRoutes", () => {
  it("reads learned routes with their next hops", () => {
    const rs = parseRoutes(ROUTER_ROUTES_VIA);
    assert.deepEqual(
      rs.map((r) => [r.prefix, r.type, r.protocol, r.primary, r.nexthops]),
      [
        ["10.215.0.0/24", "unicast", "direct1", true, [{ dev: "bgpnc4966b" }]],
        ["10.10.0.2/32", "unicast", "node1", true, [{ via: "10.215.0.2", dev: "bgpnc4966b" }]],
        ["10.10.0.1/32", "unicast", "node1", true, [{ via: "10.215.0.2", dev: "bgpnc4966b" }]],
      ],
    );
    assert.equal(rs[1]?.origin, "AS64512i");
    assert.equal(rs[1]?.preference, 100);
    assert.equal(rs[1]?.table, "master4");
  });

  it("reads an unresolved next hop (unreachable, from the neighbor)", () => {
    const rs = parseRoutes(ROUTER_ROUTES);
    assert.deepEqual(
      rs.map((r) => [r.prefix, r.type, r.from, r.nexthops.length, r.since]),
      [
        ["10.10.0.2/32", "unreachable", "10.215.0.2", 0, "12:56:57.506"],
        ["10.10.0.1/32", "unreachable", "10.215.0.2", 0, "12:56:57.507"],
      ],
    );
  });

  it("reads BGP attributes and communities of `show route all`", () => {
    const r = parseRoutes(ROUTER_ROUTES_ALL_VIA).find((x) => x.prefix === "10.10.0.1/32");
    assert.equal(r?.attributes["BGP.next_hop"], "10.215.0.2");
    assert.equal(r?.attributes["BGP.community"], "(64512,100)");
    assert.equal(r?.attributes["BGP.large_community"], "(64512, 1, 2)");
    assert.deepEqual(r?.nexthops, [{ via: "10.215.0.2", dev: "bgpnc4966b" }]);
  });

  it("keeps a second route of the same prefix under that prefix", () => {
    const text = [
      "Table master4:",
      "10.10.0.1/32         unicast [node1 13:00:01.002] * (100) [AS64512i]",
      "\tvia 10.215.0.2 on eth0",
      "                     unicast [node2 13:00:02.000] (100) [AS64512i]",
      "\tvia 10.215.0.3 on eth0",
    ].join("\n");
    const rs = parseRoutes(text);
    assert.deepEqual(
      rs.map((r) => [r.prefix, r.protocol, r.primary, r.nexthops[0]?.via]),
      [
        ["10.10.0.1/32", "node1", true, "10.215.0.2"],
        ["10.10.0.1/32", "node2", false, "10.215.0.3"],
      ],
    );
  });
});
