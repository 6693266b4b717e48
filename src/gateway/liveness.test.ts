// The replica's passive liveness endpoint: which peers it answers, its timers, and readiness on
// the wire (AdminDown 7 draining, 6 upstream or dataplane down), driven through the Gateway loop
// over the memory datastore, a fake clock and a fake liveness endpoint.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { fakeLivenessOpener, type FakeLivenessEndpoint } from "../daemon/testing/fake-liveness.js";
import { egressGateway, gatewayPod, ipPool, namespace, node } from "../daemon/testing/objects.js";
import type { Runner } from "../dataplane/runner.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import { memoryLogger } from "../util/log.js";
import { ok } from "../util/result.js";
import { Gateway } from "./gateway.js";
import { adminDiagOf, ReplicaLivenessSessions } from "./liveness.js";

const REPLICA = { namespace: "egress", name: "gw-0" };
const POD_IP = "10.244.1.5";

async function setup(failureDetection?: unknown) {
  const store = createMemoryDatastore();
  for (const obj of [
    node("n1", "172.30.0.1", "10.244.1.0/24"),
    node("n2", "172.30.0.2", "10.244.2.0/24"),
    namespace("egress"),
    ipPool("pods", "10.244.0.0/16"),
    egressGateway("egress", "gw", failureDetection),
    gatewayPod({ ...REPLICA, node: "n1", ip: POD_IP, gateway: "gw", egressIP: "10.10.0.1" }),
  ]) {
    const r = await store.create(obj);
    assert.ok(r.ok);
  }
  const clock = new FakeClock();
  let pingOk = true;
  const runner: Runner = {
    where: "fake",
    run: async () => ({ code: pingOk ? 0 : 1, stdout: "", stderr: "" }),
  };
  const opener = fakeLivenessOpener();
  const gateway = new Gateway({
    store,
    pod: REPLICA,
    runner,
    uplink: "eth0",
    clock,
    log: memoryLogger("gateway"),
    random: () => 0.5,
    liveness: opener,
    dataplane: {
      reconcile: async () => ok({ changes: 0, actions: [] }),
      teardown: async () => ok(undefined),
    },
  });
  await gateway.start();
  await clock.advance(50);
  const endpoint = (): FakeLivenessEndpoint => {
    const e = opener.opened.at(-1);
    assert.ok(e, "no liveness endpoint opened");
    return e;
  };
  return { store, clock, gateway, endpoint, setPing: (v: boolean) => (pingOk = v) };
}

describe("gateway liveness", () => {
  it("maps readiness to what its sessions say", () => {
    const r = (reason: "Ready" | "Draining" | "ProbeFailed" | "DataplaneNotApplied") => ({
      ready: reason === "Ready",
      reason,
      message: "",
    });
    assert.equal(adminDiagOf(r("Ready")), undefined);
    assert.equal(adminDiagOf(r("Draining")), 7);
    assert.equal(adminDiagOf(r("ProbeFailed")), 6);
    assert.equal(adminDiagOf(r("DataplaneNotApplied")), 6);
  });

  it("is passive on the pod IP and answers only the plan's nodes, with its EgressGateway's timers", async () => {
    const { endpoint, gateway } = await setup({ liveness: { intervalMs: 250, multiplier: 4 } });
    const e = endpoint();
    assert.equal(e.options.address, POD_IP);
    assert.deepEqual(e.options.acceptPeer?.("172.30.0.2"), { intervalMs: 250, multiplier: 4 });
    assert.equal(e.options.acceptPeer?.("172.30.0.9"), undefined, "not a cluster node");
    assert.equal(e.options.acceptPeer?.("10.244.1.7"), undefined, "a pod is not a client node");
    assert.equal(e.adminDown, undefined, "ready: normal sessions");
    await gateway.stop();
    assert.ok(e.closed);
  });

  it("says AdminDown 6 at once when its probes fail, 7 when it drains", async () => {
    const { endpoint, gateway, clock, setPing } = await setup({
      icmpProbe: { ips: ["198.18.10.10"], intervalMs: 1000, timeoutMs: 2000 },
    });
    await clock.advance(1000); // first probe round
    assert.equal(endpoint().adminDown, undefined);
    setPing(false);
    await clock.advance(3000);
    assert.equal(endpoint().adminDown, 6, "upstream lost");
    setPing(true);
    await clock.advance(1000);
    assert.equal(endpoint().adminDown, undefined, "back to normal with the first successful round");
    await gateway.drain();
    assert.equal(endpoint().adminDown, 7, "draining, without waiting for anything");
    await gateway.stop();
  });

  it("drops sessions of nodes that leave the plan, and retimes the others", async () => {
    const { endpoint, gateway, store, clock } = await setup();
    const e = endpoint();
    e.set("172.30.0.1", { state: "Up", since: clock.now() });
    e.set("172.30.0.2", { state: "Up", since: clock.now() });
    assert.ok((await store.delete({ kind: "Node", name: "n2" })).ok);
    await clock.advance(50);
    assert.deepEqual([...e.peers().keys()], ["172.30.0.1"]);
    const got = await store.get({ kind: "EgressGateway", namespace: "egress", name: "gw" });
    assert.ok(got.ok);
    const changed = structuredClone(got.value) as Resource & { spec: Record<string, unknown> };
    changed.spec.failureDetection = { liveness: { intervalMs: 500 } };
    assert.ok((await store.update(changed)).ok);
    await clock.advance(50);
    assert.deepEqual(e.timers.get("172.30.0.1"), { intervalMs: 500, multiplier: 3 });
    await gateway.stop();
  });

  it("starts AdminDown 6 (not ready) until told otherwise, and keeps it across a reopen", async () => {
    const opener = fakeLivenessOpener();
    const sessions = new ReplicaLivenessSessions({ open: opener, log: memoryLogger("t") });
    sessions.follow({ podIP: "10.0.0.1", nodes: [] }, { intervalMs: 100, multiplier: 3 });
    await new Promise((r) => setImmediate(r));
    assert.equal(opener.opened[0]?.adminDown, 6);
    sessions.setReadiness({ ready: false, reason: "Draining", message: "" });
    sessions.follow({ podIP: "10.0.0.2", nodes: [] }, { intervalMs: 100, multiplier: 3 });
    await new Promise((r) => setImmediate(r));
    assert.equal(opener.opened[0]?.closed, true);
    assert.equal(opener.opened[1]?.options.address, "10.0.0.2");
    assert.equal(opener.opened[1]?.adminDown, 7);
    await sessions.stop();
  });
});
