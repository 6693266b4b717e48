// The agent loop over the memory datastore, the fake dataplane and a fake clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeNodeDataplane } from "../dataplane/fake.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import { Agent } from "./agent.js";
import { memoryLogger } from "../util/log.js";
import { readinessUrl } from "./poller.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { CLIENT, GW_A, GW_B, hopsOf, must, routesOf, startTwoReplicaAgent } from "./testing/harness.js";
import { clientPod, gatewayPod, node, pod } from "../daemon/testing/objects.js";

/** `kernelSlots`: what the fake kernel already steers workloads with (an agent restart). */
const setup = (kernelSlots?: Map<string, number>) => startTwoReplicaAgent({ kernelSlots });

describe("Agent (memory datastore, fake dataplane)", () => {
  it("programs the node's workloads through the selected gateway replicas", async () => {
    const { dataplane, agent } = await setup();
    const plan = dataplane.last;
    assert.ok(plan);
    assert.equal(plan.node, "node1");
    assert.equal(plan.nodeIP, "172.30.0.1");
    assert.deepEqual(plan.workloadCidrs, ["10.244.0.0/16"]);
    assert.deepEqual(hopsOf(plan), ["egress/gw-a", "egress/gw-b"]);
    assert.equal(agent.healthz().status, 200);
    assert.match(agent.metricsText().body, /egw_agent_gateway_sets 1/);
    await agent.stop();
  });

  it("on start adopts the slot the kernel already uses for a workload's gateway set", async () => {
    const fresh = await setup();
    assert.equal(fresh.dataplane.last?.gatewaySets[0]?.table, 20001);
    await fresh.agent.stop();

    const { dataplane, agent, store, clock } = await setup(new Map([[CLIENT.ip, 5]]));
    const set = dataplane.last?.gatewaySets[0];
    assert.equal(set?.table, 20005);
    assert.equal(set?.mark, 5 << 16);
    // Later plans keep it (the previous plan wins from then on); a new set takes the lowest free slot.
    await must(
      store,
      clientPod({ ...CLIENT, name: "other", ip: "10.244.1.11", hostInterface: "ewother", gateway: "other" }),
    );
    await clock.advance(50);
    const tables = dataplane.last?.gatewaySets.map((s) => s.table);
    // Pins (one slot per tunnel peer) share the band: the lowest slot neither they nor a set hold.
    const held = new Set([20005, ...(dataplane.last?.pins ?? []).map((p) => p.table)]);
    let lowest = 20001;
    while (held.has(lowest)) lowest++;
    assert.deepEqual(tables, [lowest, 20005]);
    assert.equal(routesOf(dataplane.last)?.[0]?.action, "gateways");
    await agent.stop();
  });

  it("follows changes incrementally, one reconcile per burst", async () => {
    const { store, clock, dataplane, attempts, agent } = await setup();
    const before = attempts.length;
    for (let i = 0; i < 5; i++)
      await must(
        store,
        clientPod({ ...CLIENT, name: `c${i}`, ip: `10.244.1.${20 + i}`, hostInterface: `ewc${i}` }),
      );
    await clock.advance(50);
    assert.equal(attempts.length, before + 1, "five pod events, one reconcile");
    assert.equal(dataplane.last?.workloads.length, 6);
    assert.equal(dataplane.last?.gatewaySets.length, 1, "one gateway set for all six pods");
    const del = await store.delete({ kind: "Pod", namespace: "egress", name: "gw-b" });
    assert.ok(del.ok);
    await clock.advance(50);
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-a"]);
    await agent.stop();
  });

  it("takes a replica out after failed polls, fails closed when none is left, and brings it back", async () => {
    const { clock, dataplane, answers, agent } = await setup();
    await clock.advance(1000); // first polls (all up)
    answers.set(readinessUrl(GW_A.ip, 8080), { status: 503 });
    await clock.advance(2100);
    assert.deepEqual(hopsOf(dataplane.last), ["egress/gw-b"]);
    answers.set(readinessUrl(GW_B.ip, 8080), { error: "ECONNREFUSED" });
    await clock.advance(2100);
    const route = routesOf(dataplane.last)?.[0];
    assert.equal(route?.action, "unreachable", "no healthy gateway: unreachable, never the node's path");
    assert.equal(dataplane.last?.workloads.find((w) => w.name === "client")?.gatewaySet !== undefined, true);
    assert.match(agent.metricsText().body, /egw_agent_unreachable_routes 1/);
    answers.delete(readinessUrl(GW_A.ip, 8080));
    await clock.advance(1100);
    assert.deepEqual(
      hopsOf(dataplane.last),
      ["egress/gw-a"],
      "a down replica keeps being polled and comes back",
    );
    assert.match(agent.metricsText().body, /egw_agent_gateway_polls_total\{result="failed"\} [1-9]/);
    await agent.stop();
  });

  it("reconciles periodically without changes (drift repair)", async () => {
    const { clock, attempts, agent } = await setup();
    const before = attempts.length;
    await clock.advance(10_000);
    assert.equal(attempts.length, before + 1);
    await clock.advance(10_000);
    assert.equal(attempts.length, before + 2);
    await agent.stop();
    await clock.advance(30_000);
    assert.equal(attempts.length, before + 2, "nothing after stop");
  });

  it("asks for a full reconcile first, on every resync and on retries; events only send changes", async () => {
    const { store, clock, dataplane, agent } = await setup();
    assert.equal(dataplane.fullReconciles[0], true, "the first pass reads the kernel back");
    const seen = dataplane.fullReconciles.length;
    await must(store, clientPod({ ...CLIENT, name: "c8", ip: "10.244.1.98", hostInterface: "ewc8" }));
    await clock.advance(50);
    assert.deepEqual(dataplane.fullReconciles.slice(seen), [false], "a pod event");
    await clock.advance(10_000);
    assert.deepEqual(dataplane.fullReconciles.slice(seen), [false, true], "the periodic resync");
    dataplane.failNext = "nft: something broke";
    await must(store, clientPod({ ...CLIENT, name: "c9", ip: "10.244.1.99", hostInterface: "ewc9" }));
    await clock.advance(50);
    await clock.advance(1_000);
    assert.deepEqual(
      dataplane.fullReconciles.slice(seen),
      [false, true, false, true],
      "the pass after a failure",
    );
    await agent.stop();
  });

  it("reports a failed reconcile in /healthz and the log, retries, then recovers", async () => {
    const { store, clock, dataplane, log, agent } = await setup();
    dataplane.failNext = "nft -f: Error: something broke";
    await must(store, clientPod({ ...CLIENT, name: "c9", ip: "10.244.1.99", hostInterface: "ewc9" }));
    await clock.advance(50);
    assert.equal(agent.healthz().status, 503);
    assert.match(agent.healthz().body, /something broke/);
    assert.ok(log.records.some((r) => r.level === "error" && String(r.error).includes("something broke")));
    await clock.advance(500);
    assert.equal(agent.healthz().status, 200, "the retry succeeded");
    assert.ok(dataplane.last?.workloads.some((w) => w.name === "c9"));
    await agent.stop();
  });

  it("skips malformed objects and keeps working", async () => {
    const { store, clock, dataplane, log, agent } = await setup();
    const bad = pod({
      namespace: "default",
      name: "bad",
      node: "node1",
      ip: "10.244.1.50",
      hostInterface: "ewbad",
    });
    (bad.metadata as unknown as Record<string, unknown>).labels = "not-a-map";
    await must(store, bad);
    const badIP = pod({
      namespace: "default",
      name: "badip",
      node: "node1",
      ip: "10.244.1.500",
      hostInterface: "ewbadip",
    });
    await must(store, badIP);
    await must(store, clientPod({ ...CLIENT, name: "good", ip: "10.244.1.51", hostInterface: "ewgood" }));
    await clock.advance(50);
    const names = dataplane.last?.workloads.map((w) => w.name);
    assert.ok(names?.includes("good"));
    assert.ok(!names?.includes("bad") && !names?.includes("badip"));
    assert.ok(
      log.records.some(
        (r) => r.msg === "skipping malformed object" && String(r.problem).includes("metadata.labels"),
      ),
    );
    const badIPLogged = () =>
      log.records.filter((r) => String(r.problem).includes('"10.244.1.500" is not an IPv4 address')).length;
    assert.equal(badIPLogged(), 1);
    await clock.advance(10_000); // a resync reconciles the same plan again
    assert.equal(badIPLogged(), 1, "a lasting problem is logged once");
    assert.equal(agent.healthz().status, 200);
    await agent.stop();
  });

  it("lets a local gateway replica send from its egress IP", async () => {
    const { store, clock, dataplane, agent } = await setup();
    await must(
      store,
      gatewayPod({
        ...GW_A,
        name: "gw-local",
        node: "node1",
        ip: "10.244.1.77",
        hostInterface: "ewgwl",
        egressIP: "10.10.0.9",
      }),
    );
    await clock.advance(50);
    const w = dataplane.last?.workloads.find((x) => x.name === "gw-local");
    assert.deepEqual(w?.extraSourceIPs, ["10.10.0.9"]);
    assert.equal(w?.gatewaySet, undefined);
    await agent.stop();
  });
});

describe("Agent without its Node", () => {
  it("reports the missing Node in /healthz and programs nothing until it appears", async () => {
    const store = createMemoryDatastore();
    const clock = new FakeClock();
    const dataplane = new FakeNodeDataplane();
    const agent = new Agent({ store, node: "ghost", dataplane, clock, log: memoryLogger(), retryMs: 100 });
    await agent.start();
    await clock.advance(50);
    assert.equal(agent.healthz().status, 503);
    assert.match(agent.healthz().body, /Node "ghost" is not in the datastore/);
    assert.equal(dataplane.applied.length, 0);
    await must(store, node("ghost", "172.30.0.9"));
    await clock.advance(100);
    assert.equal(agent.healthz().status, 200);
    assert.equal(dataplane.last?.nodeIP, "172.30.0.9");
    await agent.stop();
  });
});
