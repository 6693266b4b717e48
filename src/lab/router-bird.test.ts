import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateResource } from "../api/validate.js";
import { labBgpResources, LAB_CLUSTER_AS, LAB_ROUTER_AS, renderRouterBirdConfig } from "./router-bird.js";

const nodes = [
  { name: "node-1", underlayIp: "172.30.0.11" },
  { name: "node-2", underlayIp: "172.30.0.12" },
];

describe("the lab router's BIRD config", () => {
  it("has one BGP session per node with BFD, accepting everything and announcing nothing", () => {
    const c = renderRouterBirdConfig({ routerIp: "172.30.0.1", nodes });
    assert.equal(c.match(/^protocol bgp /gm)?.length, 2);
    assert.match(c, /protocol bgp node_2 \{[^}]*neighbor 172\.30\.0\.12 as 64512;/);
    assert.match(c, new RegExp(`local 172\\.30\\.0\\.1 as ${LAB_ROUTER_AS};`));
    assert.match(c, /bfd on;/);
    assert.match(c, /multihop;/);
    assert.match(c, /import all; export none;/);
    assert.match(c, /graceful restart off;/);
    // Learned routes go into the kernel; only BGP ones.
    assert.match(c, /protocol kernel \{ ipv4 \{ import none; export where source = RTS_BGP; \}; \}/);
    assert.match(c, /protocol bfd \{\n {2}accept ipv4 multihop;\n {2}multihop \{ min rx interval 100 ms;/);
  });

  it("without BFD has no bfd protocol and bfd off on every session; single-hop drops multihop", () => {
    const c = renderRouterBirdConfig({ routerIp: "172.30.0.1", nodes, bfd: false, bfdMode: "single-hop" });
    assert.doesNotMatch(c, /protocol bfd/);
    assert.equal(c.match(/bfd off;/g)?.length, 2);
    assert.doesNotMatch(c, /multihop/);
  });

  it("applies BGP resources that pass the API's validation when the API knows the kinds", () => {
    const [config, peer] = labBgpResources({ routerIp: "172.30.0.1" });
    assert.equal(config?.kind, "BGPConfiguration");
    assert.equal((config?.spec as { asNumber: number }).asNumber, LAB_CLUSTER_AS);
    assert.equal((peer?.spec as { peerIP: string }).peerIP, "172.30.0.1");
    for (const r of [config, peer]) {
      const v = validateResource(r);
      if (!v.ok && v.error.some((i) => /not a known kind/.test(i.message))) continue;
      assert.ok(v.ok, JSON.stringify(v.ok ? "" : v.error));
    }
  });
});
