import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EgressGatewaySpec, EgressGateway } from "../api/schemas/egress.js";
import { ANN_GATEWAY_TEMPLATE_HASH } from "../api/well-known.js";
import { validateResource } from "../api/validate.js";
import type { GatewayActions, ReplicaAction } from "./actions.js";
import { gatewayActions } from "./gateway-actions.js";
import { retireRemains } from "./orphans.js";
import { templateHash } from "./replicas.js";
import { availability, planRollout, rollingLimits, settleMs } from "./rollout.js";
import { gatewayStatus } from "./status.js";
import type { AllocationView, NodeView, ReplicaView } from "./views.js";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");

const gateway = (spec: Partial<EgressGatewaySpec> = {}): EgressGateway => {
  const v = validateResource({
    apiVersion: "egw.dev/v1",
    kind: "EgressGateway",
    metadata: { name: "gw", namespace: "payments" },
    spec: { replicas: 2, ipPools: [{ name: "egress" }], ...spec },
  });
  if (!v.ok) assert.fail(JSON.stringify(v.error));
  return v.value as EgressGateway;
};

const version = (v: string, spec: Partial<EgressGatewaySpec> = {}): EgressGateway =>
  gateway({
    template: {
      metadata: { labels: { "egw.dev/gateway": "gw", version: v } },
      spec: { terminationGracePeriodSeconds: 10 },
    },
    ...spec,
  });

/** A cluster the decisions are applied to, as the executor and the lab runtime would. */
class World {
  replicas: ReplicaView[] = [];
  allocations: AllocationView[] = [];
  nowMs = T0;
  /** Replicas created this step become Running and Ready at the next one. */
  private starting = new Set<string>();
  private nextIP = 1;

  constructor(
    public gw: EgressGateway,
    public nodes: NodeView[] = ["node-1", "node-2", "node-3"].map((name) => ({ name, labels: {} })),
  ) {}

  /** Replicas already serving from `gw`'s template, Ready for an hour. */
  seed(n: number, node = (i: number) => `node-${i + 1}`): this {
    for (let i = 0; i < n; i++) {
      const r = this.add(`gw-${i}`, node(i), { ...this.hashOf(this.gw) });
      Object.assign(r, {
        phase: "Running",
        podIP: `10.244.9.${i}`,
        podReady: true,
        readySinceMs: T0 - 3_600_000,
      });
    }
    return this;
  }

  hashOf(gw: EgressGateway): Record<string, string> {
    return { [ANN_GATEWAY_TEMPLATE_HASH]: templateHash(gw) };
  }

  decide(): GatewayActions {
    return gatewayActions({
      gateway: this.gw,
      pools: [
        { metadata: { name: "egress" }, spec: { cidr: "10.10.1.0/27", allowedUses: ["EgressGateway"] } },
      ],
      nodes: this.nodes,
      replicas: this.replicas,
      otherPodNames: new Set(),
      allocations: this.allocations,
      nowMs: this.nowMs,
      unbackedGraceMs: 60_000,
    });
  }

  apply(actions: readonly ReplicaAction[]): void {
    for (const a of actions) {
      if (a.type === "create") {
        const r = this.add(a.replica, a.node, a.annotations);
        r.labels = { ...a.labels };
        this.starting.add(a.replica);
      } else if (a.type === "drain") {
        const r = this.replicas.find((x) => x.name === a.replica);
        if (r) r.terminating = a.deadline;
      } else if (a.type === "delete") {
        this.replicas = this.replicas.filter((x) => x.name !== a.replica);
        this.allocations = this.allocations.filter((x) => !a.release.includes(x));
      } else if (a.type === "release") {
        this.allocations = this.allocations.filter((x) => x !== a.allocation);
      }
    }
  }

  /** One second passes; what was created last second runs and is Ready. */
  tick(): void {
    this.nowMs += 1000;
    for (const r of this.replicas) {
      if (!this.starting.has(r.name)) continue;
      Object.assign(r, {
        phase: "Running",
        podIP: `10.244.8.${this.nextIP}`,
        podReady: true,
        readySinceMs: this.nowMs,
      });
    }
    this.starting.clear();
  }

  serving(): ReplicaView[] {
    return this.replicas.filter((r) => r.terminating === undefined);
  }

  available(): number {
    return this.serving().filter((r) => availability(r, this.nowMs, settleMs(this.gw)).state === "available")
      .length;
  }

  private add(name: string, node: string, annotations: Record<string, string>): ReplicaView {
    const ip = `10.10.1.${this.nextIP++}`;
    const r: ReplicaView = {
      name,
      node,
      egressIP: ip,
      labels: {},
      annotations: { ...annotations },
      ...(annotations[ANN_GATEWAY_TEMPLATE_HASH]
        ? { templateHash: annotations[ANN_GATEWAY_TEMPLATE_HASH] }
        : {}),
    };
    this.replicas.push(r);
    this.allocations.push({
      name: ip,
      ip,
      pool: "egress",
      owner: { namespace: "payments", gateway: "gw", replica: name },
      resourceVersion: "1",
      createdMs: this.nowMs,
    });
    return r;
  }
}

/**
 * Runs the controller until nothing is left to do, checking after every step that no more than
 * maxSurge extra replicas serve and at least desired − maxUnavailable stay available.
 */
const rollOut = (w: World): { steps: number; drained: string[] } => {
  const desired = w.gw.spec.replicas ?? 1;
  const { maxSurge, maxUnavailable } = rollingLimits(w.gw);
  const drained: string[] = [];
  for (let step = 0; step < 300; step++) {
    const decided = w.decide();
    w.apply(decided.actions);
    drained.push(...decided.actions.filter((a) => a.type === "drain").map((a) => a.replica));
    assert.ok(w.serving().length <= desired + maxSurge, `step ${step}: ${w.serving().length} serving`);
    assert.ok(
      w.available() >= desired - maxUnavailable,
      `step ${step}: only ${w.available()} available: ${JSON.stringify(w.replicas)}`,
    );
    if (decided.actions.length === 0 && decided.requeueAfterMs === undefined) return { steps: step, drained };
    w.tick();
  }
  assert.fail(`no convergence: ${JSON.stringify(w.replicas)}`);
};

describe("rolling update", () => {
  it("defaults: surge 1, none unavailable; settle = liveness detection + hold-down + margin", () => {
    assert.deepEqual(rollingLimits(gateway()), { maxSurge: 1, maxUnavailable: 0 });
    assert.equal(settleMs(gateway()), 100 * 3 + 2000 + 1000);
  });

  it("a template change replaces every replica, one at a time, never below spec.replicas available", () => {
    const w = new World(version("1")).seed(2);
    w.gw = version("2");
    const { drained } = rollOut(w);
    assert.deepEqual(drained.sort(), ["gw-0", "gw-1"]);
    assert.equal(w.replicas.length, 2);
    for (const r of w.replicas) {
      assert.equal(r.templateHash, templateHash(version("2")));
      assert.equal(r.labels.version, "2");
    }
    assert.deepEqual(w.allocations.length, 2, "the old replicas' IPs are released once they are gone");
  });

  it("the first pass only surges; the old replica drains once the new one was Ready for the settle time", () => {
    const w = new World(version("1")).seed(1);
    w.gw = version("2", { replicas: 1 });
    const first = w.decide();
    assert.deepEqual(
      first.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["create", "gw-1"]],
    );
    assert.equal(first.actions[0]?.type === "create" && first.actions[0].reason, "rolling update");
    w.apply(first.actions);
    w.tick();
    const waiting = w.decide();
    assert.deepEqual(waiting.actions, []);
    assert.equal(waiting.requeueAfterMs, settleMs(w.gw), "wakes when the new replica has settled");
    const status = gatewayStatus(waiting, undefined, "t");
    assert.deepEqual(
      [status.conditions?.[0]?.reason, status.conditions?.[0]?.message],
      ["RollingUpdate", "1/1 replicas ready; rolling update: 1/2 replicas updated"],
    );
    w.nowMs += settleMs(w.gw);
    const drain = w.decide().actions;
    assert.deepEqual(
      drain.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["drain", "gw-0"]],
    );
    assert.equal(drain[0]?.type === "drain" && drain[0].started, new Date(w.nowMs).toISOString());
  });

  it("maxSurge 0, maxUnavailable 1: drains first, then creates", () => {
    const strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
    const w = new World(version("1", { strategy })).seed(2);
    w.gw = version("2", { strategy });
    const first = w.decide();
    assert.deepEqual(
      first.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [
        ["drain", "gw-1"],
        ["create", "gw-2"],
      ],
    );
    rollOut(w);
  });

  it("maxSurge 2 with 3 replicas replaces two at a time", () => {
    const strategy = { rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } };
    const w = new World(version("1", { replicas: 3, strategy })).seed(3);
    w.gw = version("2", { replicas: 3, strategy });
    assert.equal(w.decide().actions.filter((a) => a.type === "create").length, 2);
    rollOut(w);
  });

  it("a scale-down during a rollout keeps within the limits and converges", () => {
    const w = new World(version("1", { replicas: 3 })).seed(3);
    w.gw = version("2", { replicas: 3 });
    w.apply(w.decide().actions);
    w.tick();
    w.gw = version("2", { replicas: 1 });
    rollOut(w);
    assert.equal(w.replicas.length, 1);
  });

  it("a cordoned node: its replica is replaced on another node, then drains", () => {
    const w = new World(version("1"));
    w.seed(2);
    w.nodes = w.nodes.map((n) => (n.name === "node-2" ? { ...n, unschedulable: true } : n));
    const first = w.decide();
    const creates = first.actions.filter((a) => a.type === "create");
    assert.deepEqual(
      creates.map((a) => a.type === "create" && [a.replica, a.node]),
      [["gw-2", "node-3"]],
    );
    const { drained } = rollOut(w);
    assert.deepEqual(drained, ["gw-1"]);
    assert.ok(w.replicas.every((r) => r.node !== "node-2"));
  });

  it("every node cordoned: replicas stay (nowhere to go) and nothing drains", () => {
    const w = new World(version("1")).seed(2);
    w.nodes = w.nodes.map((n) => ({ ...n, unschedulable: true }));
    assert.deepEqual(w.decide().actions, []);
  });

  it("no address for a surge replica: old replicas keep serving, Degraded says why", () => {
    const w = new World(version("1", { replicas: 1 })).seed(1);
    w.gw = version("2", { replicas: 1 });
    const decided = gatewayActions({
      ...{ gateway: w.gw, nodes: w.nodes, replicas: w.replicas, allocations: w.allocations },
      pools: [
        { metadata: { name: "egress" }, spec: { cidr: "10.10.1.1/32", allowedUses: ["EgressGateway"] } },
      ],
      otherPodNames: new Set(),
      nowMs: w.nowMs,
      unbackedGraceMs: 60_000,
    });
    assert.deepEqual(decided.actions, []);
    assert.equal(decided.problems[0]?.reason, "PoolExhausted");
    assert.match(decided.problems[0]?.message ?? "", /replacing gw-0 \(the template changed\) waits/);
    assert.match(decided.problems[0]?.message ?? "", /maxUnavailable >= 1/);
  });

  it("a replica that is not running is deleted at once instead of draining", () => {
    const w = new World(version("1", { replicas: 1 })).seed(2);
    const r1 = w.replicas[1];
    if (r1) Object.assign(r1, { phase: "Pending", podReady: false });
    assert.deepEqual(
      w.decide().actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["delete", "gw-1"]],
    );
  });

  it("an outdated replica Ready but not settled yet is not drained before a replacement is available", () => {
    // The clients may already send through a replica that became Ready a moment ago: draining it
    // "for free" would leave them with no usable replica until the new ones come up.
    const w = new World(version("1")).seed(2);
    for (const r of w.replicas) r.readySinceMs = w.nowMs;
    w.gw = version("2");
    const kinds = (acts: readonly ReplicaAction[]) =>
      acts.map((a) => [a.type, "replica" in a ? a.replica : ""]);
    const first = w.decide();
    assert.deepEqual(kinds(first.actions), [["create", "gw-2"]]);
    assert.ok(first.requeueAfterMs !== undefined && first.requeueAfterMs <= settleMs(w.gw));
    w.apply(first.actions);
    w.tick();
    assert.deepEqual(kinds(w.decide().actions), [], "nothing drains while every replica settles");
    w.nowMs += settleMs(w.gw);
    assert.deepEqual(kinds(w.decide().actions), [
      ["drain", "gw-1"],
      ["create", "gw-3"],
    ]);
  });

  it("a cordoned node's replica that is still settling waits for its replacement", () => {
    const w = new World(version("1")).seed(2);
    for (const r of w.replicas) r.readySinceMs = w.nowMs;
    w.nodes = w.nodes.map((n) => (n.name === "node-2" ? { ...n, unschedulable: true } : n));
    const first = w.decide();
    assert.deepEqual(
      first.actions.map((a) => [a.type, "replica" in a ? a.replica : ""]),
      [["create", "gw-2"]],
    );
  });

  it("planRollout: an outdated replica that is not Ready drains at once, a settling one stays", () => {
    const r = (name: string): ReplicaView => ({ name, labels: {}, annotations: {} });
    const [cur, settling, down] = [r("gw-2"), r("gw-0"), r("gw-1")];
    const state = new Map([
      [cur, "available"],
      [settling, "settling"],
      [down, "unavailable"],
    ] as const);
    const d = planRollout({
      desired: 2,
      limits: { maxSurge: 1, maxUnavailable: 0 },
      current: [cur],
      outdated: [
        { replica: settling, why: "the template changed" },
        { replica: down, why: "the template changed" },
      ],
      availabilityOf: (x) => state.get(x) ?? "unavailable",
    });
    assert.deepEqual(
      d.retire.map((x) => x.replica.name),
      ["gw-1"],
    );
    assert.deepEqual(
      d.outdated.map((x) => x.name),
      ["gw-0"],
    );
    assert.equal(d.create, 1);
  });

  it("planRollout: surplus current replicas keep the available ones", () => {
    const r = (name: string, ok: boolean): ReplicaView => ({
      name,
      labels: {},
      annotations: {},
      podReady: ok,
    });
    const [a, b, c] = [r("gw-0", false), r("gw-1", true), r("gw-2", true)];
    const d = planRollout({
      desired: 2,
      limits: { maxSurge: 1, maxUnavailable: 0 },
      current: [a, b, c],
      outdated: [],
      availabilityOf: (x) => (x.podReady === true ? "available" : "unavailable"),
    });
    assert.deepEqual(
      d.retire.map((x) => x.replica.name),
      ["gw-0"],
    );
    assert.equal(d.create, 0);
  });
});

describe("a deleted gateway's replicas", () => {
  const alloc = (replica: string, ip: string): AllocationView => ({
    name: ip,
    ip,
    pool: "egress",
    owner: { namespace: "payments", gateway: "gw", replica },
    resourceVersion: "1",
  });
  const running = (name: string, extra: Partial<ReplicaView> = {}): ReplicaView => ({
    name,
    labels: {},
    annotations: {},
    phase: "Running",
    podIP: "10.244.1.1",
    ...extra,
  });

  it("drain for their own grace period, keep their IPs meanwhile, then go and release them", () => {
    const replicas = [running("gw-0", { graceSeconds: 8 }), running("gw-1")];
    const allocations = [alloc("gw-0", "10.10.1.1"), alloc("gw-1", "10.10.1.2"), alloc("gw-7", "10.10.1.7")];
    const first = retireRemains({ replicas, allocations, nowMs: T0 });
    assert.deepEqual(
      first.actions.map((a) => (a.type === "drain" ? [a.replica, a.started, a.deadline] : [a.type])),
      [
        ["gw-0", "2030-01-01T00:00:00.000Z", "2030-01-01T00:00:08.000Z"],
        ["gw-1", "2030-01-01T00:00:00.000Z", "2030-01-01T00:00:30.000Z"],
        ["release"],
      ],
    );
    assert.equal(first.requeueAfterMs, 8000);
    const draining = replicas.map((r, i) => ({
      ...r,
      terminating: i === 0 ? "2030-01-01T00:00:08.000Z" : "2030-01-01T00:00:30.000Z",
    }));
    const later = retireRemains({
      replicas: draining,
      allocations: allocations.slice(0, 2),
      nowMs: T0 + 8000,
    });
    assert.deepEqual(
      later.actions.map((a) => (a.type === "delete" ? [a.replica, a.release.map((x) => x.ip)] : [a.type])),
      [["gw-0", ["10.10.1.1"]]],
    );
    assert.equal(later.requeueAfterMs, 22_000);
  });

  it("without a grace period, or not running, go at once", () => {
    const d = retireRemains({
      replicas: [running("gw-0", { graceSeconds: 0 }), { name: "gw-1", labels: {}, annotations: {} }],
      allocations: [],
      nowMs: T0,
    });
    assert.deepEqual(
      d.actions.map((a) => a.type),
      ["delete", "delete"],
    );
    assert.equal(d.requeueAfterMs, undefined);
  });
});
