// The node reconcile's choice between nothing, an element update and the full path, and the
// commands each reconcile issues: a pod event sends one nft transaction and reads nothing back,
// a resync reads everything, and any failure makes the next reconcile full.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GatewayHop, NodePlan, WorkloadPlan } from "../calc/plan.js";
import { withFreshSlots } from "./kernel-plan.js";
import { NodeDataplane } from "./node-dataplane.js";
import {
  deviceKey,
  deviceUnchanged,
  nftStep,
  routingKey,
  routingUnchanged,
  type NodeApplied,
} from "./node-update.js";
import { renderNode, type NodeRender } from "./render-node.js";
import type { Runner, RunResult } from "./runner.js";

const hop = (n: number): GatewayHop => ({
  replica: `egress/gw-${n}`,
  ip: `10.244.9.${n}`,
  mac: `a2:2a:0a:f4:09:0${n}`,
  vtep: `172.30.0.${n}`,
  egressIP: `10.10.0.${n}`,
});

const pod = (n: number, gatewaySet?: string): WorkloadPlan => ({
  namespace: "a",
  name: `p${n}`,
  ip: `10.244.1.${n}`,
  hostInterface: `ew${n}`,
  ...(gatewaySet !== undefined ? { gatewaySet } : {}),
});

const plan = (pods: WorkloadPlan[], sets = ["s1"]): NodePlan => ({
  node: "n1",
  nodeIP: "172.30.0.10",
  workloadCidrs: ["10.244.0.0/16"],
  workloads: pods,
  gatewaySets: sets.map((key) => ({
    key,
    routes: [{ destination: "0.0.0.0/0", action: "gateways", hops: [hop(1)] }],
  })),
  tunnelPeers: [hop(1)],
});

const rendered = (p: NodePlan): NodeRender => {
  const r = renderNode(withFreshSlots(p));
  assert.ok(r.ok, r.ok ? "" : r.error.join("\n"));
  return r.value;
};
const appliedOf = (r: NodeRender): NodeApplied => ({
  table: r.table,
  hash: r.shape.hash,
  routing: routingKey(r.desired),
  device: deviceKey(r.desired),
});

describe("nftStep", () => {
  const base = rendered(plan([pod(10, "s1"), pod(11, "s1")]));
  const applied = appliedOf(base);

  it("sends only the elements a pod event changes", () => {
    const next = rendered(plan([pod(10, "s1"), pod(12, "s1")]));
    const step = nftStep(applied, next, false);
    assert.equal(step.kind, "elements");
    assert.equal(
      step.kind === "elements" ? step.text : "",
      [
        'delete element inet egw egw_workload_ifaces { "ew11" }',
        'delete element inet egw egw_workload_pairs { "ew11" . 10.244.1.11 }',
        "delete element inet egw egw_pod_set { 10.244.1.11 }",
        'add element inet egw egw_workload_ifaces { "ew12" }',
        'add element inet egw egw_workload_pairs { "ew12" . 10.244.1.12 }',
        "add element inet egw egw_pod_set { 10.244.1.12 : jump egw_set_20001 }",
        "",
      ].join("\n"),
    );
    assert.deepEqual(step.kind === "elements" ? step.count : undefined, {
      added: 3,
      removed: 3,
      rewritten: 0,
      sets: 3,
    });
  });

  it("does nothing when nothing changed", () => {
    assert.deepEqual(nftStep(applied, rendered(plan([pod(10, "s1"), pod(11, "s1")])), false), {
      kind: "none",
    });
  });

  it("takes the full path when asked, when nothing was applied, and when more than elements changed", () => {
    assert.equal(nftStep(applied, base, true).kind, "full");
    assert.equal(nftStep(undefined, base, false).kind, "full");
    // A new gateway set brings its chains: a whole-table replacement.
    const step = nftStep(applied, rendered(plan([pod(10, "s1"), pod(11, "s2")], ["s1", "s2"])), false);
    assert.deepEqual(step, { kind: "full", why: "chains or set declarations changed" });
  });

  it("leaves routing alone only when its desired state is what was applied and no resync was asked", () => {
    const same = routingKey(rendered(plan([pod(10, "s1")])).desired);
    assert.equal(routingUnchanged(applied, same, false), true, "pods are not routing");
    assert.equal(routingUnchanged(applied, same, true), false);
    assert.equal(routingUnchanged(undefined, same, false), false);
    const moved = plan([pod(10, "s1")]);
    moved.tunnelPeers = [hop(2)];
    moved.gatewaySets[0]!.routes = [{ destination: "0.0.0.0/0", action: "gateways", hops: [hop(2)] }];
    assert.equal(routingUnchanged(applied, routingKey(rendered(moved).desired), false), false);
  });

  it("checks the tunnel device and sysctls again only when they changed, on a full pass, or after a failure", () => {
    const r = rendered(plan([pod(10, "s1")]));
    const failover = plan([pod(10, "s1")]);
    failover.gatewaySets[0]!.routes = [{ destination: "0.0.0.0/0", action: "gateways", hops: [hop(2)] }];
    const device = deviceKey(rendered(failover).desired);
    assert.equal(device, deviceKey(r.desired), "a failover leaves the device alone");
    assert.equal(deviceUnchanged(applied, device, false), true);
    assert.equal(deviceUnchanged(applied, device, true), false);
    assert.equal(deviceUnchanged(undefined, device, false), false);
    const otherNode = { ...plan([pod(10, "s1")]), nodeIP: "172.30.0.99" };
    assert.equal(deviceUnchanged(applied, deviceKey(rendered(otherNode).desired), false), false);
  });
});

/** A kernel that holds nothing and accepts every write, recording each command. */
class ScriptedRunner implements Runner {
  readonly where = "scripted";
  readonly commands: string[] = [];
  /** `nft -f` inputs matching this fail (what the kernel would say goes to stderr). */
  refuse: RegExp | undefined;

  run(argv: readonly string[], input?: string): Promise<RunResult> {
    const command = argv.join(" ");
    this.commands.push(command);
    const answer = (code: number, stdout = "", stderr = ""): Promise<RunResult> =>
      Promise.resolve({ code, stdout, stderr });
    if (command === "nft -f -")
      return this.refuse?.test(input ?? "") === true
        ? answer(1, "", "Error: Could not process rule: No such file or directory")
        : answer(0);
    if (argv[0] === "nft") return answer(1, "", "Error: No such file or directory");
    if (command.includes("link show")) return answer(1, "", 'Device "egw.vxlan" does not exist.');
    if (argv.includes("-json")) return answer(0, "[]");
    return answer(0);
  }

  /** The commands since the last call. */
  take(): string[] {
    return this.commands.splice(0);
  }
}

describe("NodeDataplane reconcile paths", () => {
  const reads = (commands: string[]): string[] =>
    commands.filter((c) => c.includes("-json") || c.startsWith("nft -j") || c.startsWith("sysctl -n"));

  it("a pod event is one nft transaction and no read-back; a resync reads everything back", async () => {
    const runner = new ScriptedRunner();
    const dp = new NodeDataplane(runner);
    const first = await dp.reconcile(plan([pod(10, "s1")]));
    assert.ok(first.ok, first.ok ? "" : first.error);
    assert.ok(reads(runner.take()).length >= 7, "the first reconcile reads the kernel");

    const event = await dp.reconcile(plan([pod(10, "s1"), pod(11, "s1")]));
    assert.ok(event.ok, event.ok ? "" : event.error);
    assert.deepEqual(runner.take(), ["nft -f -"]);
    assert.deepEqual(event.value.actions, ["nft elements of table inet egw: 3 added, 0 removed in 3 set(s)"]);

    const quiet = await dp.reconcile(plan([pod(10, "s1"), pod(11, "s1")]));
    assert.ok(quiet.ok && quiet.value.changes === 0);
    assert.deepEqual(runner.take(), [], "nothing changed, nothing sent, nothing read");

    const resync = await dp.reconcile(plan([pod(10, "s1"), pod(11, "s1")]), { full: true });
    assert.ok(resync.ok, resync.ok ? "" : resync.error);
    const commands = runner.take();
    assert.ok(commands.includes("ip -json nexthop show") && commands.includes("nft -j list table inet egw"));
    assert.ok(
      resync.value.actions.some((a) => a.startsWith("nft -f (replace table")),
      "the scripted kernel has no table: the resync replaces it",
    );
  });

  it("a failed element update falls back to the full path at once", async () => {
    const runner = new ScriptedRunner();
    const dp = new NodeDataplane(runner);
    assert.ok((await dp.reconcile(plan([pod(10, "s1")]))).ok);
    runner.take();
    runner.refuse = /^delete element/m;
    const r = await dp.reconcile(plan([pod(11, "s1")]));
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.match(r.value.actions[0] ?? "", /^nft element update failed, table read back: .*No such file/);
    assert.match(r.value.actions[1] ?? "", /^nft -f \(replace table inet egw/);
    const commands = runner.take();
    assert.deepEqual(commands, ["nft -f -", "nft -j list table inet egw", "nft -f -"]);
  });

  it("after any failure the next reconcile is full, and after a success it is incremental again", async () => {
    const runner = new ScriptedRunner();
    const dp = new NodeDataplane(runner);
    assert.ok((await dp.reconcile(plan([pod(10, "s1")]))).ok);
    runner.take();
    runner.refuse = /./;
    const failed = await dp.reconcile(plan([pod(11, "s1")]));
    assert.equal(failed.ok, false);
    assert.match(failed.ok ? "" : failed.error, /element update failed .*; table replacement failed too/);
    runner.take();
    runner.refuse = undefined;
    const retried = await dp.reconcile(plan([pod(11, "s1")]));
    assert.ok(retried.ok, retried.ok ? "" : retried.error);
    assert.ok(reads(runner.take()).length >= 7, "the kernel is read back after a failure");
    const next = await dp.reconcile(plan([pod(12, "s1")]));
    assert.ok(next.ok);
    assert.deepEqual(runner.take(), ["nft -f -"]);
  });

  it("rejects a bad plan before any command", async () => {
    const runner = new ScriptedRunner();
    const dp = new NodeDataplane(runner);
    assert.ok((await dp.reconcile(plan([pod(10, "s1")]))).ok);
    runner.take();
    const bad = plan([pod(10, "s1")]);
    bad.gatewaySets[0]!.routes[0]!.destination = "0.0.0.0/33";
    const r = await dp.reconcile(bad);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /routes\[0\]\.destination "0\.0\.0\.0\/33"/);
    assert.deepEqual(runner.take(), []);
  });
});
