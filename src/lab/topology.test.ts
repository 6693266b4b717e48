import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blockCapacity, ipv4InCidr, lowestFreeIp, planTopology } from "./topology.js";

describe("lab topology", () => {
  it("plans the underlay, pod blocks and namespaces of each node", () => {
    const r = planTopology("egw", 3);
    assert.ok(r.ok);
    const t = r.value;
    assert.equal(t.routerIp, "172.30.0.1");
    assert.equal(t.controlIp, "172.30.0.2");
    assert.deepEqual(
      t.nodes.map((n) => [n.name, n.netns, n.underlayIp, n.podCidr]),
      [
        ["node-1", "egw-egw-n1", "172.30.0.11", "10.244.1.0/24"],
        ["node-2", "egw-egw-n2", "172.30.0.12", "10.244.2.0/24"],
        ["node-3", "egw-egw-n3", "172.30.0.13", "10.244.3.0/24"],
      ],
    );
    assert.deepEqual(t.netns, {
      ul: "egw-egw-ul",
      ctl: "egw-egw-ctl",
      rtr: "egw-egw-rtr",
      ext: "egw-egw-ext",
    });
    assert.deepEqual(
      t.externalHosts.map((h) => [h.name, h.ip, h.port, h.firewalled]),
      [
        ["whoami", "198.18.10.10", 80, false],
        ["db", "198.18.20.10", 5432, true],
        ["whoami-b", "198.18.30.10", 80, false],
      ],
    );
  });

  it("keeps two labs apart only by namespace names (same addresses)", () => {
    const a = planTopology("a", 1);
    const b = planTopology("b", 1);
    assert.ok(a.ok && b.ok);
    assert.equal(a.value.nodes[0]?.underlayIp, b.value.nodes[0]?.underlayIp);
    assert.notEqual(a.value.nodes[0]?.netns, b.value.nodes[0]?.netns);
  });

  it("rejects node counts out of range", () => {
    for (const n of [0, -1, 51, 2.5, Number.NaN]) {
      const r = planTopology("egw", n);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, /--nodes .* out of range: use a whole number from 1 to 50/);
    }
  });

  it("hands out the lowest free address and reports exhaustion", () => {
    assert.equal(lowestFreeIp("10.244.1.0/24", new Set()), "10.244.1.1");
    assert.equal(lowestFreeIp("10.244.1.0/24", new Set(["10.244.1.1", "10.244.1.3"])), "10.244.1.2");
    const full = new Set<string>();
    for (let i = 1; i <= 254; i++) full.add(`10.244.1.${i}`);
    assert.equal(lowestFreeIp("10.244.1.0/24", full), undefined);
    assert.equal(blockCapacity("10.244.1.0/24"), 254);
    assert.equal(lowestFreeIp("10.0.0.0/30", new Set(["10.0.0.1"])), "10.0.0.2");
    assert.equal(lowestFreeIp("10.0.0.0/30", new Set(["10.0.0.1", "10.0.0.2"])), undefined);
  });

  it("tells whether an address is in a block", () => {
    assert.equal(ipv4InCidr("10.244.1.7", "10.244.1.0/24"), true);
    assert.equal(ipv4InCidr("10.244.2.7", "10.244.1.0/24"), false);
  });
});
