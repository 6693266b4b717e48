import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blockCapacity, ipv4InCidr, lowestFreeIp, planTopology } from "./topology.js";
import { labObjects } from "./up.js";

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

  it("labels no zone by default and zones round robin with --zones", () => {
    const none = planTopology("egw", 3);
    assert.ok(none.ok);
    assert.deepEqual(
      none.value.nodes.map((n) => n.zone),
      [undefined, undefined, undefined],
    );
    const zoned = planTopology("egw", 5, 2);
    assert.ok(zoned.ok);
    assert.deepEqual(
      zoned.value.nodes.map((n) => n.zone),
      ["zone-a", "zone-b", "zone-a", "zone-b", "zone-a"],
    );
    const nodes = labObjects(zoned.value).filter((o) => o.kind === "Node");
    assert.deepEqual(
      nodes.map((o) => [o.metadata.name, o.metadata.labels?.["topology.kubernetes.io/zone"]]),
      [
        ["node-1", "zone-a"],
        ["node-2", "zone-b"],
        ["node-3", "zone-a"],
        ["node-4", "zone-b"],
        ["node-5", "zone-a"],
      ],
    );
    const plain = labObjects(none.value).find((o) => o.kind === "Node");
    assert.equal(plain?.metadata.labels?.["topology.kubernetes.io/zone"], undefined);
  });

  it("rejects zone counts out of range", () => {
    for (const [nodes, zones] of [
      [3, 4],
      [3, -1],
      [3, 1.5],
      [30, 27],
    ] as const) {
      const r = planTopology("egw", nodes, zones);
      assert.equal(r.ok, false, `${nodes} nodes, ${zones} zones`);
      if (!r.ok) assert.match(r.error, /--zones .* out of range: use a whole number from 0 \(no zones\)/);
    }
    assert.ok(planTopology("egw", 3, 3).ok);
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
