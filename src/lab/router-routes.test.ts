import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routerProtocolName } from "./router-bird.js";
import { parseProtocols, parseRoutes } from "../routing/bird-status.js";
import { formatRouterView, routerView } from "./router-routes.js";

// As BIRD 2.0.12 prints them with the router's time format (ROUTER_TIME_FORMAT).
const ROUTES = [
  "BIRD 2.0.12 ready.",
  "Table master4:",
  "172.30.0.0/24        unicast [direct1 2026-11-28T12:56:35.219+0000] * (240)",
  "\tdev rtr-ul",
  "\tType: device univ",
  "10.10.0.2/32         unicast [node_1 2026-11-28T12:57:19.779+0000] * (100) [AS64512i]",
  "\tvia 172.30.0.11 on rtr-ul",
  "\tType: BGP univ",
  "\tBGP.origin: IGP",
  "\tBGP.as_path: 64512",
  "\tBGP.next_hop: 172.30.0.11",
  "\tBGP.local_pref: 100",
  "                     unicast [node_2 2026-11-28T12:57:20.001+0000] (100) [AS64512i]",
  "\tvia 172.30.0.12 on rtr-ul",
  "\tType: BGP univ",
  "\tBGP.as_path: 64512",
  "10.10.0.1/32         unicast [node_1 2026-11-28T12:57:19.779+0000] * (100) [AS64512i]",
  "\tvia 172.30.0.11 on rtr-ul",
  "\tType: BGP univ",
  "",
].join("\n");

const PROTOCOLS = [
  "BIRD 2.0.12 ready.",
  "Name       Proto      Table      State  Since         Info",
  "device1    Device     ---        up     2026-11-28T12:56:35.218+0000  ",
  "kernel1    Kernel     master4    up     2026-11-28T12:56:35.218+0000  ",
  "node_1     BGP        ---        up     2026-11-28T12:57:19.412+0000  Established   ",
  "node_2     BGP        ---        start  2026-11-28T12:56:35.218+0000  Idle          Error: BFD session down",
  "",
].join("\n");

describe("the lab router's BGP routes", () => {
  it("reads the router's time format through routing's parsers", () => {
    const r = parseRoutes(ROUTES);
    assert.equal(r.length, 4);
    assert.equal(r[2]?.since, "2026-11-28T12:57:20.001+0000");
    assert.equal(parseProtocols(PROTOCOLS)[3]?.since, "2026-11-28T12:56:35.218+0000");
  });

  it("joins routes with their node, session state and the kernel's view", () => {
    const v = routerView({
      routes: parseRoutes(ROUTES),
      protocols: parseProtocols(PROTOCOLS),
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
