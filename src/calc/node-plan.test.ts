import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
import { computeNodePlan } from "./node-plan.js";
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

  it("names gateway sets by key, sorted, and recomputes identically without changes", () => {
    const index = cluster([pod("r", sel("red")), pod("b", sel("blue")), pod("g", sel("green"))]);
    const first = computeNodePlan(index, "n1");
    const keys = first.gatewaySets.map((s) => s.key);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(new Set(keys).size, 3);
    assert.deepEqual(computeNodePlan(index, "n1"), first);
    index.setGatewayHealth("egress/blue-0", false);
    const down = computeNodePlan(index, "n1");
    assert.equal(setOf(down, "b")?.key, setOf(first, "b")?.key, "a health change keeps the key");
    assert.equal(setOf(down, "b")?.routes[0]?.action, "unreachable");
    // A replica that failed health keeps the connections it carries: it stays a tunnel peer.
    assert.deepEqual(
      setOf(down, "b")?.retained?.map((r) => [r.replica, r.why]),
      [["egress/blue-0", "down"]],
    );
    assert.ok(down.tunnelPeers.some((h) => h.replica === "egress/blue-0"));
  });

  it("lists a running local gateway replica as a workload that may send from its egress IP", () => {
    const local = makeGatewayPod("egress", "red-9", {
      node: "n1",
      ip: "10.128.0.9",
      egressIP: "10.10.0.9",
      gateway: "red",
    });
    const withInterface = (p: PodInput, hostInterface: string, phase = "Running"): PodInput => ({
      ...p,
      status: { ...p.status, hostInterface, phase },
    });
    const starting = makeGatewayPod("egress", "red-8", {
      node: "n1",
      ip: "10.128.0.8",
      egressIP: "10.10.0.8",
      gateway: "red",
    });
    const plan = computeNodePlan(
      cluster([
        withInterface(local, "ewred9"),
        withInterface(starting, "ewred8", "Pending"),
        pod("a", sel("red")),
      ]),
      "n1",
    );
    const replica = plan.workloads.find((w) => w.name === "red-9");
    assert.deepEqual(replica, {
      namespace: "egress",
      name: "red-9",
      ip: "10.128.0.9",
      hostInterface: "ewred9",
      extraSourceIPs: ["10.10.0.9"],
    });
    assert.ok(!plan.workloads.some((w) => w.name === "red-8"), "not running yet");
    assert.ok(!plan.workloads.some((w) => w.name === "red-1"), "no host interface");
  });
});

describe("retained replicas", () => {
  const drainingRed0 = (deadline: string) => {
    const p = makeGatewayPod("egress", "red-0", {
      node: "n2",
      ip: "10.128.0.1",
      egressIP: "10.10.0.1",
      gateway: "red",
    });
    return {
      ...p,
      metadata: {
        ...p.metadata,
        annotations: { ...p.metadata.annotations, "egw.dev/terminating": deadline },
      },
    };
  };

  it("keeps a draining replica out of the routes but in the set's retained list and the tunnel peers", () => {
    const index = cluster([pod("a", sel("red"))]);
    const before = computeNodePlan(index, "n1");
    index.upsertPod(drainingRed0("2026-11-28T10:00:00.000Z"));
    const after = computeNodePlan(index, "n1");
    const set = setOf(after, "a");
    const route = set?.routes[0];
    assert.deepEqual(route?.action === "gateways" ? route.hops.map((h) => h.replica) : [], ["egress/red-1"]);
    assert.deepEqual(set?.retained, [
      {
        replica: "egress/red-0",
        ip: "10.128.0.1",
        mac: set?.retained?.[0]?.mac,
        vtep: "10.128.0.1",
        egressIP: "10.10.0.1",
        why: "draining",
        drainDeadline: "2026-11-28T10:00:00.000Z",
      },
    ]);
    assert.deepEqual(
      after.tunnelPeers.map((h) => h.ip),
      ["10.128.0.1", "10.128.0.2"],
      "the draining replica stays a tunnel peer",
    );
    assert.deepEqual(Object.keys(after.tunnelPeers[0] ?? {}).sort(), [
      "egressIP",
      "ip",
      "mac",
      "replica",
      "vtep",
    ]);
    assert.equal(setOf(before, "a")?.key, set?.key, "a drain does not change the set's key");
    assert.equal(setOf(before, "a")?.retained, undefined);
  });

  it("retains a replica that failed health as down, and fails the route closed when every replica is retained", () => {
    const index = cluster([pod("a", sel("red"))]);
    index.setGatewayHealth("egress/red-1", false);
    index.upsertPod(drainingRed0("true"));
    const plan = computeNodePlan(index, "n1");
    const set = setOf(plan, "a");
    assert.equal(set?.routes[0]?.action, "unreachable");
    assert.deepEqual(
      set?.retained?.map((r) => [r.replica, r.why, r.drainDeadline]),
      [
        ["egress/red-0", "draining", undefined],
        ["egress/red-1", "down", undefined],
      ],
    );
    assert.deepEqual(
      plan.tunnelPeers.map((h) => h.replica),
      ["egress/red-0", "egress/red-1"],
    );
  });

  it("does not retain replicas that cannot carry a connection (not running)", () => {
    const p = makeGatewayPod("egress", "red-0", {
      node: "n2",
      ip: "10.128.0.1",
      egressIP: "10.10.0.1",
      gateway: "red",
      phase: "Failed",
    });
    const index = cluster([pod("a", sel("red"))]);
    index.upsertPod(p);
    const plan = computeNodePlan(index, "n1");
    assert.equal(setOf(plan, "a")?.retained, undefined);
    assert.deepEqual(
      plan.tunnelPeers.map((h) => h.replica),
      ["egress/red-1"],
    );
  });
});
