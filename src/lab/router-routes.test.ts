import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routerProtocolName } from "./router-bird.js";
import { formatRouterView, parseBirdProtocols, parseBirdRoutes, routerView } from "./router-routes.js";

// As BIRD 2.0.12 prints them with `timeformat route iso long ms` (captured from the lab router).
const ROUTES = [
  "BIRD 2.0.12 ready.",
  "Table master4:",
  "172.30.0.0/24        unicast [direct1 2026-11-28 12:56:35.219] * (240)",
  "\tdev rtr-ul",
  "\tType: device univ",
  "10.10.0.2/32         unicast [node_1 2026-11-28 12:57:19.779] * (100) [AS64512i]",
  "\tvia 172.30.0.11 on rtr-ul",
  "\tType: BGP univ",
  "\tBGP.origin: IGP",
  "\tBGP.as_path: 64512",
  "\tBGP.next_hop: 172.30.0.11",
  "\tBGP.local_pref: 100",
  "                     unicast [node_2 2026-11-28 12:57:20.001] (100) [AS64512i]",
  "\tvia 172.30.0.12 on rtr-ul",
  "\tType: BGP univ",
  "\tBGP.as_path: 64512",
  "10.10.0.1/32         unicast [node_1 2026-11-28 12:57:19.779] * (100) [AS64512i]",
  "\tvia 172.30.0.11 on rtr-ul",
  "\tType: BGP univ",
  "",
].join("\n");

const PROTOCOLS = [
  "BIRD 2.0.12 ready.",
  "Name       Proto      Table      State  Since         Info",
  "device1    Device     ---        up     2026-11-28 12:56:35.218  ",
  "kernel1    Kernel     master4    up     2026-11-28 12:56:35.218  ",
  "node_1     BGP        ---        up     2026-11-28 12:57:19.412  Established   ",
  "node_2     BGP        ---        start  2026-11-28 12:56:35.218  Idle          Error: BFD session down",
  "",
].join("\n");

describe("the lab router's BGP routes", () => {
  it("parses birdc show route all, second paths of a prefix included", () => {
    const r = parseBirdRoutes(ROUTES);
    assert.deepEqual(
      r.map((x) => [x.prefix, x.protocol, x.primary, x.nextHop, x.source]),
      [
        ["172.30.0.0/24", "direct1", true, undefined, "device"],
        ["10.10.0.2/32", "node_1", true, "172.30.0.11", "BGP"],
        ["10.10.0.2/32", "node_2", false, "172.30.0.12", "BGP"],
        ["10.10.0.1/32", "node_1", true, "172.30.0.11", "BGP"],
      ],
    );
    assert.equal(r[1]?.since, "2026-11-28 12:57:19.779");
    assert.equal(r[1]?.asPath, "64512");
    assert.equal(r[0]?.interface, "rtr-ul");
  });

  it("parses birdc show protocols with dates in the since column and reasons in info", () => {
    const p = parseBirdProtocols(PROTOCOLS);
    assert.deepEqual(p[3], {
      name: "node_2",
      proto: "BGP",
      state: "start",
      since: "2026-11-28 12:56:35.218",
      info: "Idle Error: BFD session down",
    });
    assert.equal(p[2]?.info, "Established");
    assert.equal(p.length, 4);
    assert.deepEqual(parseBirdProtocols("garbage"), []);
  });

  it("joins routes with their node, session state and the kernel's view", () => {
    const v = routerView({
      routes: parseBirdRoutes(ROUTES),
      protocols: parseBirdProtocols(PROTOCOLS),
      kernel: [{ dst: "10.10.0.2", gateway: "172.30.0.11" }],
      nodes: ["node-1", "node-2", "node-3"],
      protocolOf: routerProtocolName,
    });
    assert.deepEqual(
      v.routes.map((r) => [r.prefix, r.node, r.sessionState, r.inKernel]),
      [
        ["10.10.0.1/32", "node-1", "Established", false],
        ["10.10.0.2/32", "node-1", "Established", true],
        ["10.10.0.2/32", "node-2", "Idle", false],
      ],
    );
    assert.deepEqual(
      v.sessions.map((s) => [s.node, s.state]),
      [
        ["node-1", "Established"],
        ["node-2", "Idle"],
        ["node-3", "absent"],
      ],
    );
    const text = formatRouterView(v);
    assert.match(text, /^PREFIX\s+NODE\s+NEXT-HOP\s+SINCE\s+SESSION\s+KERNEL/);
    assert.match(text, /10\.10\.0\.2\/32\s+node-2\s+172\.30\.0\.12 .*no \(not best\)/);
    assert.match(text, /node_2\s+node-2\s+Idle .*BFD session down/);
  });

  it("says so when nothing was learned", () => {
    const text = formatRouterView({ routes: [], sessions: [] });
    assert.match(text, /^no routes learned by BGP/);
  });
});
