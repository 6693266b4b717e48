import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EgressGateway, EgressGatewaySpec } from "../api/schemas/egress.js";
import { validateResource } from "../api/validate.js";
import type { IPPoolLike } from "../ipam/pools.js";
import type { GatewayActions, GatewayActionsInput, ReplicaAction } from "./actions.js";
import { gatewayActions } from "./gateway-actions.js";
import { findOrphans } from "./orphans.js";
import { replicaIndex, templateHash } from "./replicas.js";
import { gatewayStatus, invalidSpecStatus } from "./status.js";
import type { AllocationView, NodeView, ReplicaView } from "./views.js";

const NOW = Date.parse("2030-01-01T00:00:00.000Z");

const gateway = (spec: Partial<EgressGatewaySpec> = {}, name = "gw"): EgressGateway => {
  const v = validateResource({
    apiVersion: "egw.dev/v1",
    kind: "EgressGateway",
    metadata: { name, namespace: "payments" },
    spec: { replicas: 1, ipPools: [{ name: "egress" }], ...spec },
  });
  if (!v.ok) assert.fail(JSON.stringify(v.error));
  return v.value as EgressGateway;
};

const pool = (name: string, cidr: string, uses = ["EgressGateway"]): IPPoolLike => ({
  metadata: { name },
  spec: { cidr, allowedUses: uses },
});

const nodes = (...names: string[]): NodeView[] => names.map((name) => ({ name, labels: {} }));

const alloc = (replica: string, ip: string, opts: Partial<AllocationView> = {}): AllocationView => ({
  name: ip.replaceAll(".", "-"),
  ip,
  pool: "egress",
  owner: { namespace: "payments", gateway: "gw", replica },
  resourceVersion: "1",
  createdMs: NOW - 3_600_000,
  ...opts,
});

const replica = (name: string, ip: string, node: string, extra: Partial<ReplicaView> = {}): ReplicaView => ({
  name,
  node,
  egressIP: ip,
  labels: { "egw.dev/gateway": "gw" },
  annotations: { "egw.dev/gateway-owner": "payments/gw", "egw.dev/egress-ip": ip },
  phase: "Running",
  podIP: "10.244.0.9",
  podReady: true,
  templateHash: templateHash(gateway()),
  ...extra,
});

const input = (over: Partial<GatewayActionsInput>): GatewayActionsInput => ({
  gateway: gateway(),
  pools: [pool("egress", "10.10.1.0/29")],
  nodes: nodes("node-1", "node-2", "node-3"),
  replicas: [],
  otherPodNames: new Set(),
  allocations: [],
  nowMs: NOW,
  unbackedGraceMs: 60_000,
  ...over,
});

const ofType = <T extends ReplicaAction["type"]>(decided: GatewayActions, type: T) =>
  decided.actions.filter((a): a is Extract<ReplicaAction, { type: T }> => a.type === type);

/** Three running replicas gw-0..2 on node-1..3 with their allocations. */
const threeReplicas = () => ({
  replicas: [0, 1, 2].map((i) => replica(`gw-${i}`, `10.10.1.${i + 1}`, `node-${i + 1}`)),
  allocations: [0, 1, 2].map((i) => alloc(`gw-${i}`, `10.10.1.${i + 1}`)),
});

describe("gatewayActions: scale up and placement", () => {
  it("creates the missing replicas with stable names, labels and one per node", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({
          replicas: 3,
          template: { metadata: { labels: { "egress-code": "red" }, annotations: { team: "pay" } } },
        }),
      }),
    );
    const creates = ofType(decided, "create");
    assert.deepEqual(
      creates.map((c) => c.replica),
      ["gw-0", "gw-1", "gw-2"],
    );
    assert.deepEqual(new Set(creates.map((c) => c.node)), new Set(["node-1", "node-2", "node-3"]));
    const gw = gateway({
      replicas: 3,
      template: { metadata: { labels: { "egress-code": "red" }, annotations: { team: "pay" } } },
    });
    for (const c of creates) {
      assert.deepEqual(c.labels, { "egress-code": "red" });
      assert.deepEqual(c.annotations, { team: "pay", "egw.dev/template-hash": templateHash(gw) });
      assert.equal(c.graceSeconds, 30);
    }
    assert.equal(decided.actions.length, 3);
    assert.deepEqual(decided.problems, []);
  });

  it("uses the default label egw.dev/gateway: <name> without template labels", () => {
    const [c] = ofType(gatewayActions(input({})), "create");
    assert.deepEqual(c?.labels, { "egw.dev/gateway": "gw" });
  });

  it("spreads evenly, least-loaded first, and decides the same way every time", () => {
    const inp = input({
      gateway: gateway({ replicas: 4 }),
      nodes: nodes("node-1", "node-2"),
      replicas: [replica("gw-0", "10.10.1.1", "node-1")],
      allocations: [alloc("gw-0", "10.10.1.1")],
    });
    const decided = gatewayActions(inp);
    const perNode = new Map<string, number>([["node-1", 1]]);
    for (const c of ofType(decided, "create")) perNode.set(c.node, (perNode.get(c.node) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perNode), { "node-1": 2, "node-2": 2 });
    assert.deepEqual(gatewayActions(inp), decided);
  });

  it("spreads replicas across zones first", () => {
    const zoned: NodeView[] = [
      { name: "node-1", labels: { "topology.kubernetes.io/zone": "zone-a" } },
      { name: "node-2", labels: { "topology.kubernetes.io/zone": "zone-a" } },
      { name: "node-3", labels: { "topology.kubernetes.io/zone": "zone-a" } },
      { name: "node-4", labels: { "topology.kubernetes.io/zone": "zone-b" } },
    ];
    for (const name of ["gw", "other", "third"]) {
      const decided = gatewayActions(input({ gateway: gateway({ replicas: 2 }, name), nodes: zoned }));
      const placed = ofType(decided, "create").map((c) => c.node);
      assert.equal(placed.length, 2);
      assert.ok(placed.includes("node-4"), `${name}: one replica in zone-b, got ${placed.join(",")}`);
    }
  });

  it("places only on nodes matching template.spec.nodeSelector", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 2, template: { spec: { nodeSelector: { egress: "yes" } } } }),
        nodes: [
          { name: "node-1", labels: {} },
          { name: "node-2", labels: { egress: "yes" } },
          { name: "node-3", labels: { egress: "no" } },
        ],
      }),
    );
    assert.deepEqual(
      ofType(decided, "create").map((c) => c.node),
      ["node-2", "node-2"],
    );
  });

  it("no node matching the nodeSelector: Degraded, nothing created", () => {
    const decided = gatewayActions(
      input({ gateway: gateway({ template: { spec: { nodeSelector: { egress: "yes" } } } }) }),
    );
    assert.deepEqual(decided.actions, []);
    assert.equal(decided.problems[0]?.reason, "NoMatchingNode");
    assert.match(decided.problems[0]?.message ?? "", /spec\.template\.spec\.nodeSelector \{"egress":"yes"\}/);
  });

  it("skips names other pods of the namespace already use", () => {
    const decided = gatewayActions(input({ otherPodNames: new Set(["gw-0"]) }));
    assert.deepEqual(
      ofType(decided, "create").map((c) => c.replica),
      ["gw-1"],
    );
  });

  it("a replica whose pod was deleted comes back under its name, keeping its IP", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 2 }),
        replicas: [replica("gw-0", "10.10.1.1", "node-1")],
        allocations: [alloc("gw-0", "10.10.1.1"), alloc("gw-5", "10.10.1.6")],
      }),
    );
    assert.deepEqual(
      decided.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["create", "gw-5"]],
    );
  });
});

describe("gatewayActions: pools", () => {
  it("replicas > free addresses: only as many replicas as IPs, Degraded PoolExhausted", () => {
    const decided = gatewayActions(
      input({ gateway: gateway({ replicas: 3 }), pools: [pool("egress", "10.10.1.0/30")] }),
    );
    assert.equal(ofType(decided, "create").length, 2);
    assert.equal(decided.problems.length, 1);
    assert.equal(decided.problems[0]?.reason, "PoolExhausted");
    assert.match(decided.problems[0]?.message ?? "", /spec\.replicas is 3 but only 2 replicas/);
    assert.match(decided.problems[0]?.message ?? "", /IPPool "egress" \(10\.10\.1\.0\/30, 2 addresses\)/);
  });

  it("counts other gateways' allocations as taken", () => {
    const other = alloc("x-0", "10.10.1.1", { owner: { namespace: "b", gateway: "x", replica: "x-0" } });
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 2 }),
        pools: [pool("egress", "10.10.1.0/30")],
        allocations: [other],
      }),
    );
    assert.equal(ofType(decided, "create").length, 1);
    assert.equal(decided.problems[0]?.reason, "PoolExhausted");
  });

  it("a missing pool: Degraded PoolNotFound, nothing created, existing replicas kept", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 2, ipPools: [{ name: "gone" }] }),
        replicas: [replica("gw-0", "10.10.1.1", "node-1")],
        allocations: [alloc("gw-0", "10.10.1.1")],
      }),
    );
    assert.deepEqual(decided.actions, []);
    assert.equal(decided.problems[0]?.reason, "PoolNotFound");
    assert.match(decided.problems[0]?.message ?? "", /spec\.ipPools\[0\]: IPPool "gone" does not exist/);
  });

  it("a pool that does not allow EgressGateway: Degraded PoolNotAllowed", () => {
    const decided = gatewayActions(input({ pools: [pool("egress", "10.10.1.0/29", ["Workload"])] }));
    assert.deepEqual(decided.actions, []);
    assert.equal(decided.problems[0]?.reason, "PoolNotAllowed");
    assert.match(decided.problems[0]?.message ?? "", /allowedUses .* must include "EgressGateway"/);
  });

  it("a name/cidr pair naming different pools: Degraded PoolMismatch", () => {
    const decided = gatewayActions(
      input({ gateway: gateway({ ipPools: [{ name: "egress", cidr: "10.9.0.0/24" }] }) }),
    );
    assert.equal(decided.problems[0]?.reason, "PoolMismatch");
  });

  it("pool change: a replica whose IP left the pools is replaced (new replica first, then the old one drains)", () => {
    const world = {
      gateway: gateway({ ipPools: [{ name: "b" }] }),
      pools: [pool("egress", "10.10.1.0/29"), pool("b", "10.10.2.0/29")],
    };
    const first = gatewayActions(
      input({
        ...world,
        replicas: [replica("gw-0", "10.10.1.1", "node-1")],
        allocations: [alloc("gw-0", "10.10.1.1")],
      }),
    );
    assert.deepEqual(
      first.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["create", "gw-1"]],
    );
    // Once the new replica is available, the old one drains.
    const second = gatewayActions(
      input({
        ...world,
        replicas: [replica("gw-0", "10.10.1.1", "node-1"), replica("gw-1", "10.10.2.1", "node-2")],
        allocations: [alloc("gw-0", "10.10.1.1"), alloc("gw-1", "10.10.2.1", { pool: "b" })],
      }),
    );
    const [drain] = ofType(second, "drain");
    assert.equal(drain?.replica, "gw-0");
    assert.match(drain?.reason ?? "", /no longer in the gateway's IP pools/);
    assert.equal(second.actions.length, 1);
  });

  it("scale down with a grace period drains first, deadline in the annotation", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 1, template: { spec: { terminationGracePeriodSeconds: 30 } } }),
        ...threeReplicas(),
      }),
    );
    const drains = ofType(decided, "drain");
    assert.deepEqual(
      drains.map((d) => [d.replica, d.deadline]),
      [
        ["gw-2", "2030-01-01T00:00:30.000Z"],
        ["gw-1", "2030-01-01T00:00:30.000Z"],
      ],
    );
    assert.equal(decided.actions.length, 2);
    assert.equal(decided.requeueAfterMs, 30_000);
  });

  it("a draining replica is deleted at its deadline, not before, and is not replaced meanwhile", () => {
    const { replicas, allocations } = threeReplicas();
    const draining = replicas.map((r, i) =>
      i === 2 ? { ...r, terminating: "2030-01-01T00:00:30.000Z" } : r,
    );
    const gw = gateway({ replicas: 2, template: { spec: { terminationGracePeriodSeconds: 30 } } });
    const before = gatewayActions(
      input({ gateway: gw, replicas: draining, allocations, nowMs: NOW + 10_000 }),
    );
    assert.deepEqual(before.actions, []);
    assert.equal(before.requeueAfterMs, 20_000);
    assert.equal(before.replicas.find((r) => r.name === "gw-2")?.ready, false);

    const after = gatewayActions(
      input({ gateway: gw, replicas: draining, allocations, nowMs: NOW + 30_000 }),
    );
    assert.deepEqual(
      after.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["delete", "gw-2"]],
    );
  });

  it("an unreadable drain deadline is written again", () => {
    const { replicas, allocations } = threeReplicas();
    const odd = replicas.map((r, i) => (i === 2 ? { ...r, terminating: "true" } : r));
    const decided = gatewayActions(input({ gateway: gateway({ replicas: 2 }), replicas: odd, allocations }));
    assert.deepEqual(
      ofType(decided, "drain").map((d) => d.deadline),
      ["2030-01-01T00:00:30.000Z"],
    );
  });

  it("a replica pod whose IP is not allocated to it is deleted at once", () => {
    const decided = gatewayActions(
      input({ replicas: [replica("gw-0", "10.10.1.1", "node-1")], allocations: [] }),
    );
    assert.deepEqual(
      decided.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [
        ["delete", "gw-0"],
        ["create", "gw-1"],
      ],
    );
  });

  it("a replica on a node that no longer matches is replaced: surge first, drain when it is available", () => {
    const world = {
      gateway: gateway({ template: { spec: { nodeSelector: { egress: "yes" } } } }),
      nodes: [
        { name: "node-1", labels: {} },
        { name: "node-2", labels: { egress: "yes" } },
      ] as NodeView[],
    };
    const first = gatewayActions(
      input({
        ...world,
        replicas: [replica("gw-0", "10.10.1.1", "node-1")],
        allocations: [alloc("gw-0", "10.10.1.1")],
      }),
    );
    assert.deepEqual(ofType(first, "drain"), []);
    assert.deepEqual(
      ofType(first, "create").map((c) => [c.replica, c.node]),
      [["gw-1", "node-2"]],
    );
    const second = gatewayActions(
      input({
        ...world,
        replicas: [replica("gw-0", "10.10.1.1", "node-1"), replica("gw-1", "10.10.1.2", "node-2")],
        allocations: [alloc("gw-0", "10.10.1.1"), alloc("gw-1", "10.10.1.2")],
      }),
    );
    assert.match(ofType(second, "drain")[0]?.reason ?? "", /node node-1 no longer matches/);
  });

  it("allocations no replica uses are released after their grace period only", () => {
    const fresh = alloc("gw-7", "10.10.1.5", { createdMs: NOW - 10_000 });
    const old = alloc("gw-8", "10.10.1.6");
    const decided = gatewayActions(
      input({
        replicas: [replica("gw-0", "10.10.1.1", "node-1")],
        allocations: [alloc("gw-0", "10.10.1.1"), fresh, old],
      }),
    );
    assert.deepEqual(
      ofType(decided, "release").map((a) => a.allocation.ip),
      ["10.10.1.6"],
    );
    assert.equal(decided.actions.length, 1);
    assert.equal(decided.requeueAfterMs, 50_000);
  });

  it("a template label change replaces replicas (a new replica, not a relabel in place)", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ template: { metadata: { labels: { "egress-code": "blue" } } } }),
        replicas: [replica("gw-0", "10.10.1.1", "node-1")],
        allocations: [alloc("gw-0", "10.10.1.1")],
      }),
    );
    assert.deepEqual(
      decided.actions.map((a) => [a.type, "labels" in a ? a.labels : {}]),
      [["create", { "egress-code": "blue" }]],
    );
  });

  it("a replica made before template hashes, matching the template, only gets its hash", () => {
    const { templateHash: _h, ...old } = replica("gw-0", "10.10.1.1", "node-1");
    const decided = gatewayActions(input({ replicas: [old], allocations: [alloc("gw-0", "10.10.1.1")] }));
    assert.deepEqual(
      decided.actions.map((a) => [a.type, "annotations" in a ? a.annotations : {}]),
      [["update-metadata", { "egw.dev/template-hash": templateHash(gateway()) }]],
    );
  });

  it("scale to 0 then status Ready/ScaledToZero", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 0, template: { spec: { terminationGracePeriodSeconds: 0 } } }),
        ...threeReplicas(),
      }),
    );
    assert.equal(ofType(decided, "delete").length, 3);
    const st = gatewayStatus({ ...decided, replicas: [], live: 0, ready: 0 }, undefined, "t");
    assert.equal(st.conditions?.[0]?.reason, "ScaledToZero");
  });

  it("garbage: replicas and allocations of deleted gateways", () => {
    const g = findOrphans({
      gateways: new Set(["payments/gw"]),
      replicaPods: [
        { namespace: "payments", name: "gw-0", owner: "payments/gw" },
        { namespace: "payments", name: "old-0", owner: "payments/old" },
        { namespace: "other", name: "x", owner: "payments/old" },
      ],
      allocations: [
        alloc("gw-0", "10.10.1.1"),
        alloc("old-0", "10.10.1.2", { owner: { namespace: "payments", gateway: "old", replica: "old-0" } }),
      ],
    });
    assert.deepEqual(
      g.pods.map((p) => p.name),
      ["old-0"],
    );
    assert.deepEqual(
      g.allocations.map((a) => a.ip),
      ["10.10.1.2"],
    );
  });
});

describe("status", () => {
  it("lists replicas and reports Ready and Degraded; transition times only move on change", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 3 }),
        pools: [pool("egress", "10.10.1.0/30")],
        ...threeReplicas(),
      }),
    );
    const s1 = gatewayStatus(decided, undefined, "2030-01-01T00:00:00Z");
    assert.deepEqual(s1.replicas?.[0], { name: "gw-0", node: "node-1", egressIP: "10.10.1.1", ready: true });
    assert.deepEqual(
      s1.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["Ready", "True", "AllReplicasReady"],
        ["Degraded", "False", "AsExpected"],
      ],
    );
    const problems = [{ reason: "PoolExhausted" as const, message: "full" }];
    const s2 = gatewayStatus({ ...decided, problems, ready: 2 }, s1, "2030-01-01T00:01:00Z");
    assert.deepEqual(
      s2.conditions?.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]),
      [
        ["Ready", "False", "ReplicasNotReady", "2/3 replicas ready", "2030-01-01T00:01:00Z"],
        ["Degraded", "True", "PoolExhausted", "full", "2030-01-01T00:01:00Z"],
      ],
    );
    const s3 = gatewayStatus({ ...decided, problems, ready: 2 }, s2, "2030-01-01T00:02:00Z");
    assert.deepEqual(s3, s2);
    const bad = invalidSpecStatus(["EgressGateway payments/gw: spec.replicas: bad"], s3, "t");
    assert.equal(bad.conditions?.[1]?.reason, "InvalidSpec");
    assert.deepEqual(bad.replicas, s3.replicas);
  });

  it("replica names parse back to their index", () => {
    assert.equal(replicaIndex("gw", "gw-12"), 12);
    assert.equal(replicaIndex("gw", "gw-012"), undefined);
    assert.equal(replicaIndex("gw", "gw-1-0"), undefined);
    assert.equal(replicaIndex("gw-1", "gw-1-0"), 0);
  });
});

describe("gatewayActions: lost nodes", () => {
  it("deletes the replica of a lost node at once, releases its IP and replaces it on a healthy node", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 2 }),
        nodes: [
          { name: "node-1", labels: {}, lost: "lease not renewed for 11 s" },
          { name: "node-2", labels: {} },
          { name: "node-3", labels: {} },
        ],
        replicas: [replica("gw-0", "10.10.1.1", "node-1"), replica("gw-1", "10.10.1.2", "node-2")],
        allocations: [alloc("gw-0", "10.10.1.1"), alloc("gw-1", "10.10.1.2")],
      }),
    );
    const [gone] = ofType(decided, "delete");
    assert.equal(gone?.replica, "gw-0");
    assert.match(gone?.reason ?? "", /node node-1 is lost: lease not renewed/);
    assert.deepEqual(
      gone?.release.map((a) => a.ip),
      ["10.10.1.1"],
    );
    assert.deepEqual(ofType(decided, "drain"), [], "a lost node cannot drain");
    const creates = ofType(decided, "create");
    assert.equal(creates.length, 1);
    assert.equal(creates[0]?.node, "node-3", "never on the lost node, spread away from node-2");
    assert.notEqual(
      creates[0]?.replica,
      "gw-0",
      "a new name: the stale pod may still exist on the lost node",
    );
  });

  it("a draining replica on a lost node is deleted too; nothing is placed on a lost node", () => {
    const decided = gatewayActions(
      input({
        gateway: gateway({ replicas: 1 }),
        nodes: [
          { name: "node-1", labels: {}, lost: "lost" },
          { name: "node-2", labels: {}, lost: "lost" },
        ],
        replicas: [replica("gw-0", "10.10.1.1", "node-1", { terminating: "2030-01-01T00:01:00.000Z" })],
        allocations: [alloc("gw-0", "10.10.1.1")],
      }),
    );
    assert.deepEqual(
      ofType(decided, "delete").map((a) => a.replica),
      ["gw-0"],
    );
    assert.deepEqual(ofType(decided, "create"), []);
    assert.deepEqual(
      decided.problems.map((p) => p.reason),
      ["NoMatchingNode"],
    );
  });
});
