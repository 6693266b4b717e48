import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_GATEWAY_SETS, slotOfMark, slotOfTable, TABLE_FIRST } from "./band.js";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makePolicy,
  makeWorkload,
  makeWorkloadPool,
  policyAnnotations,
  selectorAnnotations,
} from "./fixtures.js";
import type { PodInput } from "./inputs.js";
import { assignSlots, computeNodePlan, preferredSlots } from "./node-plan.js";
import type { NodePlan } from "./plan.js";
import { ClusterIndex } from "./snapshot.js";

const sel = (gateway: string) =>
  selectorAnnotations(`egw.dev/gateway == '${gateway}'`, { namespaceSelector: "all()" });

function cluster(pods: PodInput[]): ClusterIndex {
  return ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", "172.30.0.1"), makeNode("n2", "172.30.0.2")],
    namespaces: [makeNamespace("egress"), makeNamespace("app")],
    pods: [
      makeGatewayPod("egress", "red-0", {
        node: "n2",
        ip: "10.128.0.1",
        egressIP: "10.10.0.1",
        gateway: "red",
      }),
      makeGatewayPod("egress", "red-1", {
        node: "n1",
        ip: "10.128.0.2",
        egressIP: "10.10.0.2",
        gateway: "red",
      }),
      makeGatewayPod("egress", "blue-0", {
        node: "n2",
        ip: "10.128.0.3",
        egressIP: "10.10.0.3",
        gateway: "blue",
      }),
      makeGatewayPod("egress", "green-0", {
        node: "n2",
        ip: "10.128.0.4",
        egressIP: "10.10.0.4",
        gateway: "green",
      }),
      ...pods,
    ],
    egressGatewayPolicies: [
      makePolicy("red-only", [
        { gateway: { selector: "egw.dev/gateway == 'red'", namespaceSelector: "all()" } },
      ]),
    ],
    ipPools: [
      makeWorkloadPool("pods", "10.244.0.0/16"),
      { metadata: { name: "egress" }, spec: { cidr: "10.10.0.0/16", allowedUses: ["EgressGateway"] } },
    ],
    gatewayHealth: new Map(),
  });
}

let n = 0;
const pod = (name: string, annotations?: Record<string, string>, node = "n1"): PodInput =>
  makeWorkload("app", name, { node, ip: `10.244.0.${++n}`, ...(annotations ? { annotations } : {}) });

const setOf = (plan: NodePlan, name: string) => {
  const key = plan.workloads.find((w) => w.name === name)?.gatewaySet;
  return plan.gatewaySets.find((s) => s.key === key);
};

describe("computeNodePlan", () => {
  it("lists the node's workloads (not gateway replicas, not pods without IP) with their sets", () => {
    const noIP: PodInput = {
      metadata: { name: "pending", namespace: "app" },
      spec: { nodeName: "n1" },
      status: { phase: "Pending" },
    };
    const plan = computeNodePlan(
      cluster([pod("a", sel("red")), pod("b"), pod("elsewhere", sel("red"), "n2"), noIP]),
      "n1",
    );
    assert.equal(plan.node, "n1");
    assert.equal(plan.nodeIP, "172.30.0.1");
    assert.deepEqual(plan.workloadCidrs, ["10.244.0.0/16"]);
    assert.deepEqual(
      plan.workloads.map((w) => w.name),
      ["a", "b"],
    );
    assert.equal(plan.workloads[1]?.gatewaySet, undefined, "b uses no gateway");
    assert.equal(plan.gatewaySets.length, 1);
    assert.deepEqual(
      plan.gatewaySets[0]?.routes.map((r) => r.destination),
      ["0.0.0.0/0"],
    );
    assert.deepEqual(
      plan.tunnelPeers.map((h) => h.replica),
      ["egress/red-0", "egress/red-1"],
    );
  });

  it("shares one set (one table, one rule) between workloads with the same behaviour", () => {
    const plan = computeNodePlan(
      cluster([
        pod("a", sel("red")),
        pod("b", sel("red")),
        pod("c", policyAnnotations("red-only")),
        pod("d", sel("blue")),
      ]),
      "n1",
    );
    assert.equal(
      plan.gatewaySets.length,
      2,
      "a, b and c (a policy with the same single rule) share; d differs",
    );
    assert.equal(setOf(plan, "a"), setOf(plan, "b"));
    assert.equal(setOf(plan, "a"), setOf(plan, "c"));
    assert.notEqual(setOf(plan, "a"), setOf(plan, "d"));
    assert.deepEqual(
      plan.tunnelPeers.map((h) => h.ip),
      ["10.128.0.1", "10.128.0.2", "10.128.0.3"],
    );
  });

  it("assigns marks and tables from egw's band, one slot per set", () => {
    const plan = computeNodePlan(cluster([pod("a", sel("red")), pod("d", sel("blue"))]), "n1");
    const slots = plan.gatewaySets.map((s) => [slotOfTable(s.table), slotOfMark(s.mark)]);
    assert.deepEqual(slots, [
      [1, 1],
      [2, 2],
    ]);
    assert.equal(plan.gatewaySets[0]?.table, TABLE_FIRST);
    assert.equal(plan.gatewaySets[0]?.mark, 0x10000);
  });

  it("keeps marks and tables of surviving sets when sets appear and disappear", () => {
    const index = cluster([pod("r", sel("red")), pod("b", sel("blue")), pod("g", sel("green"))]);
    const first = computeNodePlan(index, "n1");
    const tables = (p: NodePlan) =>
      Object.fromEntries(p.workloads.map((w) => [w.name, setOf(p, w.name)?.table]));
    const t1 = tables(first);

    index.deletePod("app", "b");
    const second = computeNodePlan(index, "n1", first);
    assert.equal(tables(second)["r"], t1["r"]);
    assert.equal(tables(second)["g"], t1["g"]);
    assert.equal(second.gatewaySets.length, 2);

    index.upsertPod(pod("x", policyAnnotations("missing-so-blocked")));
    index.upsertPod(
      pod(
        "y",
        selectorAnnotations("egw.dev/gateway == 'red'", { namespaceSelector: "all()", maxNextHops: 1 }),
      ),
    );
    const third = computeNodePlan(index, "n1", second);
    assert.equal(tables(third)["r"], t1["r"]);
    assert.equal(tables(third)["g"], t1["g"]);
    assert.equal(tables(third)["y"], t1["b"], "a new set takes the lowest free slot");
    assert.deepEqual(third.workloads.find((w) => w.name === "x")?.gatewaySet, undefined);
    assert.match(third.workloads.find((w) => w.name === "x")?.blocked?.reason ?? "", /does not exist/);

    const again = computeNodePlan(index, "n1", third);
    assert.deepEqual(again, third, "recomputation without changes is identical");
  });

  it("keeps a set's table when its only replica fails and routes go unreachable (fail closed)", () => {
    const index = cluster([pod("d", sel("blue"))]);
    const first = computeNodePlan(index, "n1");
    index.setGatewayHealth("egress/blue-0", false);
    const second = computeNodePlan(index, "n1", first);
    assert.equal(second.gatewaySets[0]?.table, first.gatewaySets[0]?.table);
    assert.equal(second.gatewaySets[0]?.routes[0]?.action, "unreachable");
    assert.deepEqual(second.tunnelPeers, []);
  });
});

describe("computeNodePlan after a restart (slots read back from the kernel)", () => {
  it("keeps each set on the slot its workloads use in the kernel, where a fresh order would differ", () => {
    // Before the restart only "red" existed, on slot 1; "blue" appeared while the agent was down.
    const red = pod("red-client", sel("red"));
    const blue = pod("blue-client", sel("blue"));
    const index = cluster([red, blue]);
    const fresh = computeNodePlan(index, "n1");
    assert.equal(slotOfTable(setOf(fresh, "blue-client")?.table ?? 0), 1, "fresh order puts blue first");
    assert.equal(slotOfTable(setOf(fresh, "red-client")?.table ?? 0), 2);

    const kernel = new Map([[red.status?.podIP ?? "", 1]]);
    const adopted = computeNodePlan(index, "n1", undefined, kernel);
    const redSet = setOf(adopted, "red-client");
    assert.equal(redSet?.table, TABLE_FIRST);
    assert.equal(slotOfMark(redSet?.mark ?? 0), 1);
    assert.equal(slotOfTable(setOf(adopted, "blue-client")?.table ?? 0), 2, "the new set takes a free slot");
  });

  it("a valid previous plan wins over the kernel hint; foreign or out-of-band slots are ignored", () => {
    const red = pod("red-prev", sel("red"));
    const blue = pod("blue-prev", sel("blue"));
    const index = cluster([red, blue]);
    const previous = computeNodePlan(index, "n1", undefined, new Map([[red.status?.podIP ?? "", 7]]));
    assert.equal(slotOfTable(setOf(previous, "red-prev")?.table ?? 0), 7);
    const next = computeNodePlan(index, "n1", previous, new Map([[red.status?.podIP ?? "", 3]]));
    assert.equal(slotOfTable(setOf(next, "red-prev")?.table ?? 0), 7);
    const bad = computeNodePlan(
      index,
      "n1",
      undefined,
      new Map([
        [red.status?.podIP ?? "", 0],
        [blue.status?.podIP ?? "", MAX_GATEWAY_SETS + 1],
      ]),
    );
    assert.deepEqual(bad.gatewaySets.map((s) => slotOfTable(s.table)).sort(), [1, 2]);
  });
});

describe("preferredSlots", () => {
  it("takes the slot most of a set's workloads use, and gives a contested slot to the larger set", () => {
    const workloads = [
      { ip: "10.0.0.1", gatewaySet: "a" },
      { ip: "10.0.0.2", gatewaySet: "a" },
      { ip: "10.0.0.3", gatewaySet: "a" },
      { ip: "10.0.0.4", gatewaySet: "b" },
      { ip: "10.0.0.5", gatewaySet: "b" },
      { ip: "10.0.0.6", gatewaySet: "c" },
      { ip: "10.0.0.7" }, // no gateway set: its kernel slot is irrelevant
    ];
    const kernel = new Map([
      ["10.0.0.1", 4],
      ["10.0.0.2", 4],
      ["10.0.0.3", 9],
      ["10.0.0.4", 9],
      ["10.0.0.5", 9],
      ["10.0.0.6", 4],
      ["10.0.0.7", 5],
    ]);
    // a: 2× slot 4; b: 2× slot 9 (a's one vote for 9 loses); c's vote for 4 loses to a's two.
    assert.deepEqual(Object.fromEntries(preferredSlots(workloads, kernel)), { a: 4, b: 9 });
  });
});

describe("assignSlots", () => {
  it("reuses valid previous slots, ignores foreign or inconsistent ones, fills the lowest free", () => {
    const { slots } = assignSlots(
      ["a", "b", "c", "d"],
      [
        { key: "a", mark: 0x30000, table: 20003 },
        { key: "b", mark: 0x10000, table: 20002 }, // mark and table disagree: not reused
        { key: "gone", mark: 0x10000, table: 20001 },
        { key: "c", mark: 0x50000, table: 99 }, // outside the band
      ],
    );
    assert.deepEqual(Object.fromEntries(slots), { a: 3, b: 1, c: 2, d: 4 });
  });

  it("honours preferred slots for keys without a previous slot, when valid and still free", () => {
    const { slots } = assignSlots(
      ["a", "b", "c", "d"],
      [{ key: "a", mark: 0x20000, table: 20002 }],
      new Map([
        ["a", 5], // a keeps its previous slot 2
        ["b", 2], // taken by a: b gets the lowest free one
        ["c", 3],
        ["d", MAX_GATEWAY_SETS + 1], // outside the band
      ]),
    );
    assert.deepEqual(Object.fromEntries(slots), { a: 2, b: 1, c: 3, d: 4 });
  });

  it("reports keys beyond the band as overflow", () => {
    const keys = Array.from({ length: MAX_GATEWAY_SETS + 2 }, (_, i) => `k${String(i).padStart(5, "0")}`);
    const { slots, overflow } = assignSlots(keys, []);
    assert.equal(slots.size, MAX_GATEWAY_SETS);
    assert.deepEqual([...overflow], keys.slice(-2));
  });
});
