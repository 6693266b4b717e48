// The gateway loop over the memory datastore, a recording dataplane, a fake ping and a fake clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_TERMINATING, ANN_GATEWAY_USABLE_AFTER } from "../api/well-known.js";
import { memoryLogger } from "../util/log.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { egressGateway, gatewayPod, ipPool, namespace, node } from "../daemon/testing/objects.js";
import type { GatewayReplicaPlan } from "../dataplane/render-gateway.js";
import type { Runner } from "../dataplane/runner.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok } from "../util/result.js";
import { Gateway } from "./gateway.js";
import { readyConditionOf } from "../api/conditions.js";

const REPLICA = { namespace: "egress", name: "gw-0" };

async function must(store: Datastore, obj: Resource): Promise<Resource> {
  const r = await store.create(obj);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return r.value;
}

async function setup(failureDetection?: unknown) {
  const store = createMemoryDatastore();
  for (const obj of [
    node("n1", "172.30.0.1", "10.244.1.0/24"),
    namespace("egress"),
    ipPool("pods", "10.244.0.0/16"),
    egressGateway("egress", "gw", failureDetection),
    gatewayPod({ ...REPLICA, node: "n1", ip: "10.244.1.5", gateway: "gw", egressIP: "10.10.0.1" }),
  ])
    await must(store, obj);
  const clock = new FakeClock();
  const applied: GatewayReplicaPlan[] = [];
  const teardowns: string[] = [];
  const dp = { failNext: undefined as string | undefined };
  let pingOk = true;
  const pings: string[] = [];
  const runner: Runner = {
    where: "fake",
    run: async (argv) => {
      pings.push(argv.join(" "));
      return { code: pingOk ? 0 : 1, stdout: "", stderr: "" };
    },
  };
  const gateway = new Gateway({
    store,
    pod: REPLICA,
    runner,
    uplink: "eth0",
    clock,
    log: memoryLogger("gateway"),
    random: () => 0.5,
    resyncMs: 10_000,
    dataplane: {
      reconcile: async (plan) => {
        if (dp.failNext !== undefined) {
          const e = dp.failNext;
          dp.failNext = undefined;
          return err(e);
        }
        applied.push(plan);
        return ok({ changes: 1, actions: ["x"] });
      },
      teardown: async (plan) => {
        teardowns.push(`${plan.egressIP} on ${plan.uplink}`);
        return ok(undefined);
      },
    },
  });
  await gateway.start();
  await clock.advance(50);
  const condition = async () => {
    const p = await store.get({ kind: "Pod", ...REPLICA });
    assert.ok(p.ok);
    return readyConditionOf(p.value);
  };
  return {
    store,
    clock,
    applied,
    teardowns,
    dp,
    gateway,
    condition,
    setPing: (v: boolean) => (pingOk = v),
    pings,
  };
}

describe("Gateway (memory datastore, fake dataplane)", () => {
  it("applies its plan, is ready, and publishes Ready in its pod's status", async () => {
    const { applied, gateway, condition } = await setup();
    assert.equal(applied.length, 1);
    assert.equal(applied[0]?.egressIP, "10.10.0.1");
    assert.deepEqual(applied[0]?.nodes, [
      { name: "n1", underlayIP: "172.30.0.1", podCidrs: ["10.244.1.0/24"] },
    ]);
    assert.equal(gateway.readinessReply().status, 200);
    const c = await condition();
    assert.equal(c?.status, "True");
    assert.equal(c?.reason, "Ready");
    assert.match(gateway.metricsText().body, /egw_gateway_ready 1/);
    await gateway.stop();
  });

  it("publish before use: WaitingForFeeds until its usableAfter time, then Ready without any other event", async () => {
    const { store, clock, gateway, condition } = await setup();
    const pod = await store.get({ kind: "Pod", ...REPLICA });
    assert.ok(pod.ok);
    // Between two periodic resyncs (every 10 s): only the gateway's own timer can make it ready.
    const at = new Date(clock.now() + 25_000).toISOString();
    const annotations = { ...pod.value.metadata.annotations, [ANN_GATEWAY_USABLE_AFTER]: at };
    assert.ok((await store.update({ ...pod.value, metadata: { ...pod.value.metadata, annotations } })).ok);
    await clock.advance(50);
    assert.equal(gateway.readiness().reason, "WaitingForFeeds");
    assert.equal(gateway.readinessReply().status, 503);
    assert.equal((await condition())?.reason, "WaitingForFeeds");
    await clock.advance(24_000);
    assert.equal(gateway.readiness().reason, "WaitingForFeeds");
    await clock.advance(1_100);
    assert.equal(gateway.readiness().ready, true);
    assert.equal((await condition())?.status, "True");
    await gateway.stop();
  });

  it("re-applies on changes and on every resync", async () => {
    const { store, clock, applied, gateway } = await setup();
    await must(store, node("n2", "172.30.0.2", "10.244.2.0/24"));
    await clock.advance(50);
    assert.equal(applied.length, 2);
    assert.equal(applied[1]?.nodes.length, 2);
    await clock.advance(10_000);
    assert.equal(applied.length, 3, "periodic drift repair");
    await gateway.stop();
  });

  it("is ready only while an ICMP probe succeeded within its timeout", async () => {
    const { clock, gateway, setPing, pings, condition } = await setup({
      icmpProbe: { ips: ["198.18.0.1"], intervalMs: 1000, timeoutMs: 3000 },
    });
    assert.equal(gateway.readinessReply().status, 200, "the first ping round succeeded");
    assert.match(pings[0] ?? "", /^ping -n -q -c 1 -W 1\.000 198\.18\.0\.1$/);
    setPing(false);
    await clock.advance(2000);
    assert.equal(gateway.readinessReply().status, 200, "still within the timeout");
    await clock.advance(2000);
    const reply = gateway.readinessReply();
    assert.equal(reply.status, 503);
    assert.match(reply.body, /ProbeFailed: no ICMP probe succeeded in the last 3000 ms/);
    assert.equal((await condition())?.reason, "ProbeFailed");
    setPing(true);
    await clock.advance(1100);
    assert.equal(gateway.readinessReply().status, 200);
    await gateway.stop();
  });

  it("publishes readiness one write at a time, so a slow older write never outlives a newer one", async () => {
    const { store, clock, gateway, setPing, condition } = await setup({
      icmpProbe: { ips: ["198.18.0.1"], intervalMs: 1000, timeoutMs: 3000 },
    });
    // Hold the next status write (the datastore is slow to come back), let later ones through.
    const update = store.update.bind(store);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    store.update = async (obj) => {
      if (first) {
        first = false;
        await held;
      }
      return update(obj);
    };
    setPing(false);
    await clock.advance(4000); // ProbeFailed: its write is held
    assert.equal(gateway.readinessReply().status, 503);
    setPing(true);
    await clock.advance(1100); // Ready again while the older write is still pending
    assert.equal(gateway.readinessReply().status, 200);
    release();
    await clock.advance(50);
    await clock.advance(50);
    assert.equal((await condition())?.status, "True", "the pod says what the replica says now");
    await gateway.stop();
  });

  it("reports 503 while draining (terminating annotation or drain())", async () => {
    const { store, clock, gateway, condition } = await setup();
    const got = await store.get({ kind: "Pod", ...REPLICA });
    assert.ok(got.ok);
    const p = got.value;
    const updated = await store.update({
      ...p,
      metadata: {
        ...p.metadata,
        annotations: { ...p.metadata.annotations, [ANN_GATEWAY_TERMINATING]: "true" },
      },
    });
    assert.ok(updated.ok);
    await clock.advance(50);
    assert.equal(gateway.readinessReply().status, 503);
    assert.match(gateway.readinessReply().body, /Draining/);
    assert.equal((await condition())?.status, "False");
    await gateway.stop();

    const other = await setup();
    await other.gateway.drain();
    assert.equal(other.gateway.readinessReply().status, 503);
    await other.gateway.stop();
  });

  it("is not ready while its dataplane fails, and recovers on the next resync", async () => {
    const { store, clock, dp, gateway } = await setup();
    dp.failNext = "nft -f -: syntax error";
    await must(store, node("n2", "172.30.0.2", "10.244.2.0/24"));
    await clock.advance(50);
    assert.equal(gateway.readinessReply().status, 503);
    assert.match(gateway.readinessReply().body, /DataplaneNotApplied: nft -f -: syntax error/);
    await clock.advance(10_000);
    assert.equal(gateway.readinessReply().status, 200);
    await gateway.stop();
  });

  it("fences itself after fenceAfter without reading its pod, and comes back when the datastore does", async () => {
    const { store, clock, applied, teardowns, gateway } = await setup();
    store.disconnect();
    await clock.advance(4000);
    assert.deepEqual(teardowns, [], "within fenceAfter (5 s) nothing changes");
    assert.equal(gateway.readinessReply().status, 200);
    await clock.advance(2000);
    assert.deepEqual(teardowns, ["10.10.0.1 on eth0"], "SNAT and egress address withdrawn once");
    assert.match(
      gateway.readinessReply().body,
      /^not ready: Fenced: no successful read of the replica's pod/,
    );
    const before = applied.length;
    await clock.advance(10_000);
    assert.equal(applied.length, before, "no dataplane is applied while fenced, resync or not");
    assert.equal(teardowns.length, 1);
    store.reconnect();
    await clock.advance(1100);
    assert.equal(gateway.readinessReply().status, 200, "the fence lifts: the pod exists and is not retired");
    assert.equal(applied.length, before + 1, "re-applied in full");
    await gateway.stop();
  });

  it("stays fenced when its pod is retired meanwhile, and for good once its pod is gone or replaced", async () => {
    const { store, clock, applied, teardowns, gateway } = await setup();
    store.disconnect();
    await clock.advance(6000);
    store.reconnect();
    const got = await store.get({ kind: "Pod", ...REPLICA });
    assert.ok(got.ok);
    const retired = await store.update({
      ...got.value,
      metadata: {
        ...got.value.metadata,
        annotations: { ...got.value.metadata.annotations, [ANN_GATEWAY_TERMINATING]: "2030-01-01T00:00:00Z" },
      },
    });
    assert.ok(retired.ok);
    await clock.advance(1100);
    assert.match(
      gateway.readinessReply().body,
      /Fenced: the datastore is back but the replica's pod is terminating/,
    );
    const before = applied.length;
    const gone = await store.delete({ kind: "Pod", ...REPLICA });
    assert.ok(gone.ok);
    await must(
      store,
      gatewayPod({ ...REPLICA, node: "n2", ip: "10.244.2.5", gateway: "gw", egressIP: "10.10.0.1" }),
    );
    await clock.advance(12_000);
    assert.match(gateway.readinessReply().body, /Fenced: the replica's pod was deleted \(or replaced\)/);
    assert.equal(applied.length, before, "a pod of the same name is another replica: never re-applied");
    assert.equal(teardowns.length, 1);
    await gateway.stop();
  });

  it("tears down when its pod is deleted while the datastore is reachable", async () => {
    const { store, clock, teardowns, gateway } = await setup();
    const gone = await store.delete({ kind: "Pod", ...REPLICA });
    assert.ok(gone.ok);
    await clock.advance(100);
    assert.deepEqual(teardowns, ["10.10.0.1 on eth0"]);
    assert.equal(gateway.readinessReply().status, 503);
    await gateway.stop();
  });
});
