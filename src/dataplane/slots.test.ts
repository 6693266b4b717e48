// Gateway-set slots: the band's arithmetic, the assignment rules, slots kept across reconciles
// and adopted from the kernel after a restart, and what happens when the band is full.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makeWorkload,
  makeWorkloadPool,
  selectorAnnotations,
} from "../calc/fixtures.js";
import type { PodInput } from "../calc/inputs.js";
import { computeNodePlan } from "../calc/node-plan.js";
import type { NodePlan } from "../calc/plan.js";
import { ClusterIndex } from "../calc/snapshot.js";
import { err, ok } from "../util/result.js";
import {
  MARK_MASK,
  markOfSlot,
  MAX_GATEWAY_SETS,
  slotOfMark,
  slotOfTable,
  TABLE_FIRST,
  TABLE_LAST,
  tableOfSlot,
} from "./band.js";
import { groupsBySet } from "./kernel-groups.js";
import { kernelPlanOf, type KernelNodePlan } from "./kernel-plan.js";
import { assignSlots, GatewaySetSlots, preferredSlots } from "./slots.js";

const sel = (gateway: string) =>
  selectorAnnotations(`egw.dev/gateway == '${gateway}'`, { namespaceSelector: "all()" });

function cluster(pods: PodInput[]): ClusterIndex {
  const replica = (name: string, ip: string, gateway: string) =>
    makeGatewayPod("egress", name, { node: "n2", ip, egressIP: `10.10.0.${ip.split(".")[3]}`, gateway });
  return ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", "172.30.0.1"), makeNode("n2", "172.30.0.2")],
    namespaces: [makeNamespace("egress"), makeNamespace("app")],
    pods: [
      replica("red-0", "10.128.0.1", "red"),
      replica("blue-0", "10.128.0.3", "blue"),
      replica("green-0", "10.128.0.4", "green"),
      ...pods,
    ],
    egressGatewayPolicies: [],
    ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
    gatewayHealth: new Map(),
  });
}

let n = 0;
const pod = (name: string, annotations?: Record<string, string>): PodInput =>
  makeWorkload("app", name, { node: "n1", ip: `10.244.0.${++n}`, ...(annotations ? { annotations } : {}) });

/** A node dataplane's slots over a fake kernel that steers `kernel` (workload IP → slot). */
const slotsOver = (kernel = new Map<string, number>(), pins = new Map<string, number>()) =>
  new GatewaySetSlots(async () => ok({ workloads: new Map(kernel), pins: new Map(pins) }));

async function place(slots: GatewaySetSlots, plan: NodePlan): Promise<KernelNodePlan> {
  const a = await slots.assign(plan);
  assert.ok(a.ok, a.ok ? "" : a.error);
  return kernelPlanOf(plan, a.value).plan;
}

const setOf = (plan: KernelNodePlan, name: string) => {
  const key = plan.workloads.find((w) => w.name === name)?.gatewaySet;
  return plan.gatewaySets.find((s) => s.key === key);
};
const tableOf = (plan: KernelNodePlan, name: string): number | undefined => setOf(plan, name)?.table;

describe("band", () => {
  it("maps slots to marks inside the mask and tables inside the band, both ways", () => {
    for (const slot of [1, 2, MAX_GATEWAY_SETS]) {
      const mark = markOfSlot(slot);
      assert.equal(mark & ~MARK_MASK, 0);
      assert.equal(slotOfMark(mark | 0x1234), slot, "bits outside the mask are ignored");
      assert.equal(slotOfTable(tableOfSlot(slot)), slot);
    }
    assert.equal(tableOfSlot(MAX_GATEWAY_SETS), TABLE_LAST);
    assert.equal(slotOfMark(0x1234), undefined);
    assert.equal(slotOfTable(254), undefined);
    assert.equal(slotOfTable(TABLE_LAST + 1), undefined);
  });
});

describe("GatewaySetSlots", () => {
  it("gives marks and tables from egw's band, one slot per set", async () => {
    const plan = await place(
      slotsOver(),
      computeNodePlan(cluster([pod("a", sel("red")), pod("d", sel("blue"))]), "n1"),
    );
    const slots = plan.gatewaySets.map((s) => [slotOfTable(s.table), slotOfMark(s.mark)]);
    assert.deepEqual(slots, [
      [1, 1],
      [2, 2],
    ]);
    assert.equal(plan.gatewaySets[0]?.table, TABLE_FIRST);
    assert.equal(plan.gatewaySets[0]?.mark, 0x10000);
  });

  it("keeps marks and tables of surviving sets when sets appear and disappear", async () => {
    const index = cluster([pod("r", sel("red")), pod("b", sel("blue")), pod("g", sel("green"))]);
    const slots = slotsOver();
    const first = await place(slots, computeNodePlan(index, "n1"));

    index.deletePod("app", "b");
    const second = await place(slots, computeNodePlan(index, "n1"));
    assert.equal(tableOf(second, "r"), tableOf(first, "r"));
    assert.equal(tableOf(second, "g"), tableOf(first, "g"));
    assert.equal(second.gatewaySets.length, 2);

    index.upsertPod(
      pod(
        "y",
        selectorAnnotations("egw.dev/gateway == 'red'", { namespaceSelector: "all()", maxNextHops: 1 }),
      ),
    );
    const third = await place(slots, computeNodePlan(index, "n1"));
    assert.equal(tableOf(third, "r"), tableOf(first, "r"));
    assert.equal(tableOf(third, "g"), tableOf(first, "g"));
    assert.equal(tableOf(third, "y"), tableOf(first, "b"), "a new set takes the lowest free slot");
    assert.deepEqual(await place(slots, computeNodePlan(index, "n1")), third, "no change, same placement");
  });

  it("keeps a set's table when its only replica fails and routes go unreachable (fail closed)", async () => {
    const index = cluster([pod("d", sel("blue"))]);
    const slots = slotsOver();
    const first = await place(slots, computeNodePlan(index, "n1"));
    index.setGatewayHealth("egress/blue-0", false);
    const second = await place(slots, computeNodePlan(index, "n1"));
    assert.equal(second.gatewaySets[0]?.table, first.gatewaySets[0]?.table);
    assert.equal(second.gatewaySets[0]?.routes[0]?.action, "unreachable");
  });

  it("after a restart keeps each set on the slot its workloads use in the kernel", async () => {
    // Before the restart only "red" existed, on slot 1; "blue" appeared while the agent was down.
    const red = pod("red-client", sel("red"));
    const blue = pod("blue-client", sel("blue"));
    const plan = computeNodePlan(cluster([red, blue]), "n1");
    const fresh = await place(slotsOver(), plan);
    assert.equal(slotOfTable(tableOf(fresh, "blue-client") ?? 0), 1, "fresh order puts blue first");
    assert.equal(slotOfTable(tableOf(fresh, "red-client") ?? 0), 2);

    const adopted = await place(slotsOver(new Map([[red.status?.podIP ?? "", 1]])), plan);
    assert.equal(tableOf(adopted, "red-client"), TABLE_FIRST);
    assert.equal(slotOfMark(setOf(adopted, "red-client")?.mark ?? 0), 1);
    assert.equal(slotOfTable(tableOf(adopted, "blue-client") ?? 0), 2, "the new set takes a free slot");
  });

  it("reads the kernel once: its own slots win from then on; out-of-band kernel slots are ignored", async () => {
    const red = pod("red-prev", sel("red"));
    const blue = pod("blue-prev", sel("blue"));
    const plan = computeNodePlan(cluster([red, blue]), "n1");
    const kernel = new Map([[red.status?.podIP ?? "", 7]]);
    let reads = 0;
    const slots = new GatewaySetSlots(async () => {
      reads++;
      return ok({ workloads: new Map(kernel), pins: new Map() });
    });
    assert.equal(slotOfTable(tableOf(await place(slots, plan), "red-prev") ?? 0), 7);
    kernel.set(red.status?.podIP ?? "", 3);
    assert.equal(slotOfTable(tableOf(await place(slots, plan), "red-prev") ?? 0), 7);
    assert.equal(reads, 1);

    const bad = slotsOver(
      new Map([
        [red.status?.podIP ?? "", 0],
        [blue.status?.podIP ?? "", MAX_GATEWAY_SETS + 1],
      ]),
    );
    assert.deepEqual((await place(bad, plan)).gatewaySets.map((s) => slotOfTable(s.table)).sort(), [1, 2]);
  });

  it("fails while the kernel cannot be read (no guessing), and reads again next time", async () => {
    let fail = true;
    const slots = new GatewaySetSlots(async () =>
      fail
        ? err("nft: permission denied")
        : ok({ workloads: new Map([["10.244.0.99", 4]]), pins: new Map<string, number>() }),
    );
    const plan = computeNodePlan(
      cluster([makeWorkload("app", "w", { node: "n1", ip: "10.244.0.99", annotations: sel("red") })]),
      "n1",
    );
    const failed = await slots.assign(plan);
    assert.equal(failed.ok, false);
    assert.match(
      failed.ok ? "" : failed.error,
      /reading the gateway-set slots the kernel uses failed: nft: permission denied/,
    );
    fail = false;
    const preview = await slots.preview(plan);
    assert.ok(preview.ok);
    assert.deepEqual(
      [...preview.value.slots].filter(([key]) => !key.startsWith("pin ")).map(([, slot]) => slot),
      [4],
    );
    assert.equal(
      slotOfTable(tableOf(await place(slots, plan), "w") ?? 0),
      4,
      "the preview did not use up the hint",
    );
  });

  it("names the kernel's groups by the set whose slot holds their table", async () => {
    const plan = computeNodePlan(cluster([pod("r", sel("red")), pod("b", sel("blue"))]), "n1");
    const preview = await slotsOver().preview(plan);
    assert.ok(preview.ok);
    const groups = groupsBySet(
      [
        { table: TABLE_FIRST, dst: "0.0.0.0/0", hops: ["10.128.0.3"] },
        { table: TABLE_FIRST + 1, dst: "0.0.0.0/0", hops: ["10.128.0.1"] },
        { table: TABLE_FIRST + 9, dst: "0.0.0.0/0", hops: ["10.128.0.1"] },
      ],
      preview.value.slots,
    );
    const keyOf = (name: string) =>
      plan.gatewaySets.find((s) => s.key === plan.workloads.find((w) => w.name === name)?.gatewaySet)?.key;
    assert.deepEqual(
      groups.map((g) => [g.gatewaySet, g.hops]),
      [
        [keyOf("b"), ["10.128.0.3"]],
        [keyOf("r"), ["10.128.0.1"]],
      ],
      "a table no set of the plan holds is left out",
    );
  });
});

describe("assignSlots", () => {
  it("keeps held slots, ignores out-of-band or doubly held ones, fills the lowest free", () => {
    const { slots } = assignSlots(
      ["a", "b", "c", "d"],
      new Map([
        ["a", 3],
        ["b", 3], // already a's: not kept
        ["gone", 1],
        ["c", MAX_GATEWAY_SETS + 1], // outside the band
      ]),
    );
    assert.deepEqual(Object.fromEntries(slots), { a: 3, b: 1, c: 2, d: 4 });
  });

  it("honours preferred slots for keys without a held slot, when valid and still free", () => {
    const { slots } = assignSlots(
      ["a", "b", "c", "d"],
      new Map([["a", 2]]),
      new Map([
        ["a", 5], // a keeps its held slot 2
        ["b", 2], // taken by a: b gets the lowest free one
        ["c", 3],
        ["d", MAX_GATEWAY_SETS + 1], // outside the band
      ]),
    );
    assert.deepEqual(Object.fromEntries(slots), { a: 2, b: 1, c: 3, d: 4 });
  });

  it("reports keys beyond the band as overflow", () => {
    const keys = Array.from({ length: MAX_GATEWAY_SETS + 2 }, (_, i) => `k${String(i).padStart(5, "0")}`);
    const { slots, overflow } = assignSlots(keys, new Map());
    assert.equal(slots.size, MAX_GATEWAY_SETS);
    assert.deepEqual([...overflow], keys.slice(-2));
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

describe("pin slots", () => {
  const pinOf = (plan: KernelNodePlan, ip: string) => plan.pins.find((p) => p.ip === ip);

  it("gives every tunnel peer a pin slot after the sets' slots, and keeps it while the replica drains", async () => {
    const index = cluster([pod("r", sel("red")), pod("b", sel("blue"))]);
    const slots = slotsOver();
    const first = await place(slots, computeNodePlan(index, "n1"));
    assert.deepEqual(
      first.gatewaySets.map((s) => slotOfTable(s.table)),
      [1, 2],
    );
    assert.deepEqual(
      first.pins.map((p) => [p.ip, slotOfTable(p.table), slotOfMark(p.mark)]),
      [
        ["10.128.0.1", 3, 3],
        ["10.128.0.3", 4, 4],
      ],
    );
    // red-0 drains: no route goes to it, but it is retained, so its pin (and its connections) stay.
    const red = index.pod("egress", "red-0");
    assert.ok(red !== undefined);
    index.upsertPod({
      ...red,
      metadata: {
        ...red.metadata,
        annotations: { ...red.metadata.annotations, "egw.dev/terminating": "true" },
      },
    });
    const draining = await place(slots, computeNodePlan(index, "n1"));
    assert.equal(setOf(draining, "r")?.routes[0]?.action, "unreachable");
    assert.deepEqual(pinOf(draining, "10.128.0.1"), pinOf(first, "10.128.0.1"));
    // Gone: its pin slot is freed (its connections' mark no longer restores: fail closed).
    index.deletePod("egress", "red-0");
    const gone = await place(slots, computeNodePlan(index, "n1"));
    assert.equal(pinOf(gone, "10.128.0.1"), undefined);
    assert.deepEqual(pinOf(gone, "10.128.0.3"), pinOf(first, "10.128.0.3"));
  });

  it("adopts the kernel's pins after a restart, where no set claims the slot", async () => {
    const r = pod("r2", sel("red"));
    const plan = computeNodePlan(cluster([r, pod("b2", sel("blue"))]), "n1");
    const slots = slotsOver(
      new Map([[r.status?.podIP ?? "", 9]]),
      new Map([
        ["10.128.0.1", 7],
        ["10.128.0.3", 9], // the red set's slot: the set wins, the pin takes a free one
      ]),
    );
    const placed = await place(slots, plan);
    assert.equal(slotOfTable(tableOf(placed, "r2") ?? 0), 9);
    assert.equal(slotOfTable(pinOf(placed, "10.128.0.1")?.table ?? 0), 7);
    const blue = slotOfTable(pinOf(placed, "10.128.0.3")?.table ?? 0);
    assert.ok(blue !== undefined && blue !== 9 && blue !== 7);
  });
});
