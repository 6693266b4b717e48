import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import {
  ANN_GATEWAY_DRAIN_STARTED,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
} from "../api/well-known.js";
import { createMemoryDatastore, type MemoryDatastore } from "../datastore/memory.js";
import { DatastoreError, type Datastore } from "../datastore/types.js";
import { err } from "../util/result.js";
import { GatewayController, type ControllerOptions } from "./controller.js";
import { memoryLogger } from "../util/log.js";
import {
  allocations,
  assertConsistent,
  egressIPOf,
  gatewayObj,
  must,
  nodeObj,
  poolObj,
  replicaPods,
  setReplicas,
  statusOf,
  waitFor,
} from "./testing.js";

const running: GatewayController[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

const seed = async (ds: Datastore, cidr = "10.10.1.0/29"): Promise<void> => {
  for (const n of ["node-1", "node-2", "node-3"]) await must(ds.create(nodeObj(n)));
  await must(ds.create(poolObj("egress", cidr)));
};

const controller = (ds: Datastore, opts: Partial<ControllerOptions> = {}) => {
  const log = memoryLogger("controller");
  const c = new GatewayController({ store: ds, log, ...opts });
  running.push(c);
  return { c, log };
};

const noGrace = { template: { spec: { terminationGracePeriodSeconds: 0 } } };

/** What the runtime does once a replica runs: it is Running, addressed and Ready. */
const startReplicas = async (ds: Datastore, namespace: string, gateway: string): Promise<void> => {
  for (const p of await replicaPods(ds, namespace, gateway))
    await must(
      ds.update({
        ...p,
        status: { phase: "Running", podIP: "10.244.1.5", conditions: [{ type: "Ready", status: "True" }] },
      }),
    );
};

describe("GatewayController over the memory datastore", () => {
  it("create gateway → replica pods with IPs, labels and placement; status lists them", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const { c, log } = controller(ds);
    await c.start();
    await must(
      ds.create(
        gatewayObj("gw", "payments", {
          replicas: 2,
          template: { metadata: { labels: { "egress-code": "red" } } },
        }),
      ),
    );
    await waitFor(
      "2 replicas in status",
      async () => (await statusOf(ds, "payments", "gw")).replicas?.length === 2,
    );
    const pods = await replicaPods(ds, "payments", "gw");
    assert.deepEqual(
      pods.map((p) => p.metadata.name),
      ["gw-0", "gw-1"],
    );
    for (const p of pods) {
      assert.deepEqual(p.metadata.labels, { "egress-code": "red" });
      assert.match(egressIPOf(p) ?? "", /^10\.10\.1\.[1-6]$/);
    }
    const nodes = pods.map((p) => (p.spec as { nodeName?: string }).nodeName);
    assert.equal(new Set(nodes).size, 2, "replicas on different nodes");
    await assertConsistent(ds);
    const st = await statusOf(ds, "payments", "gw");
    assert.deepEqual(
      st.replicas?.map((r) => r.egressIP),
      pods.map(egressIPOf),
    );
    assert.equal(st.conditions?.find((x) => x.type === "Ready")?.status, "False", "pods not running yet");

    // The runtime starts them: the status follows.
    for (const p of pods) {
      await must(
        ds.update({
          ...p,
          status: {
            phase: "Running",
            podIP: "10.244.1.5",
            conditions: [{ type: "Ready", status: "True" }],
          },
          metadata: { ...p.metadata },
        }),
      );
    }
    await waitFor(
      "Ready",
      async () =>
        (await statusOf(ds, "payments", "gw")).conditions?.find((x) => x.type === "Ready")?.status === "True",
      () => statusOf(ds, "payments", "gw"),
    );
    assert.ok(log.records.some((r) => r.msg === "created replica" && r.replica === "gw-0"));
  });

  it("scale 3→1 releases 2 IPs; delete gateway → no pods, no allocations", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const { c } = controller(ds);
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 3, ...noGrace })));
    await must(c.sync("payments/gw"));
    assert.equal((await replicaPods(ds, "payments", "gw")).length, 3);
    assert.equal((await allocations(ds)).length, 3);

    await setReplicas(ds, "payments", "gw", 1);
    await must(c.sync("payments/gw"));
    assert.deepEqual(
      (await replicaPods(ds, "payments", "gw")).map((p) => p.metadata.name),
      ["gw-0"],
    );
    assert.equal((await allocations(ds)).length, 1);
    await assertConsistent(ds);

    await must(ds.delete({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    await must(c.sync("payments/gw"));
    assert.deepEqual(await replicaPods(ds, "payments", "gw"), []);
    assert.deepEqual(await allocations(ds), []);
  });

  it("the same, driven by watch events only", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const { c } = controller(ds);
    await c.start();
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 3, ...noGrace })));
    await waitFor("3 allocations", async () => (await allocations(ds)).length === 3);
    await setReplicas(ds, "payments", "gw", 1);
    await waitFor("1 allocation", async () => (await allocations(ds)).length === 1);
    await must(ds.delete({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    await waitFor(
      "no pods and no allocations",
      async () =>
        (await replicaPods(ds, "payments", "gw")).length === 0 && (await allocations(ds)).length === 0,
    );
  });

  it("replicas > pool size: as many replicas as IPs, Degraded with a clear message, no pod without IP", async () => {
    const ds = createMemoryDatastore();
    await seed(ds, "10.10.1.0/30"); // 2 addresses
    const { c } = controller(ds);
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 4 })));
    await must(c.sync("payments/gw"));
    const pods = await replicaPods(ds, "payments", "gw");
    assert.equal(pods.length, 2);
    await assertConsistent(ds);
    const degraded = (await statusOf(ds, "payments", "gw")).conditions?.find((x) => x.type === "Degraded");
    assert.equal(degraded?.status, "True");
    assert.equal(degraded?.reason, "PoolExhausted");
    assert.match(degraded?.message ?? "", /spec\.replicas is 4 but only 2 replicas can have an egress IP/);
    assert.match(degraded?.message ?? "", /IPPool "egress" \(10\.10\.1\.0\/30, 2 addresses\)/);

    // A second sync changes nothing (no churn, no duplicate writes).
    const before = await must(ds.get({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    await must(c.sync("payments/gw"));
    const after = await must(ds.get({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it("a missing pool: Degraded PoolNotFound and no pods", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const { c } = controller(ds);
    await must(ds.create(gatewayObj("gw", "payments", { ipPools: [{ name: "nope" }] })));
    await must(c.sync("payments/gw"));
    assert.deepEqual(await replicaPods(ds, "payments", "gw"), []);
    const degraded = (await statusOf(ds, "payments", "gw")).conditions?.find((x) => x.type === "Degraded");
    assert.equal(degraded?.reason, "PoolNotFound");
    assert.match(
      degraded?.message ?? "",
      /EgressGateway payments\/gw: spec\.ipPools\[0\]: IPPool "nope" does not exist/,
    );
  });

  it("graceful drain: annotated with a deadline, deleted once it passed (clock survives restarts)", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    let now = Date.parse("2030-01-01T00:00:00Z");
    const { c } = controller(ds, { now: () => now });
    await must(
      ds.create(
        gatewayObj("gw", "payments", {
          replicas: 2,
          template: { spec: { terminationGracePeriodSeconds: 30 } },
        }),
      ),
    );
    await must(c.sync("payments/gw"));
    await startReplicas(ds, "payments", "gw");
    await setReplicas(ds, "payments", "gw", 1);
    const out = await must(c.sync("payments/gw"));
    assert.equal(out.requeueAfterMs, 30_000);
    const draining = (await replicaPods(ds, "payments", "gw")).find((p) => p.metadata.name === "gw-1");
    assert.equal(draining?.metadata.annotations?.[ANN_GATEWAY_TERMINATING], "2030-01-01T00:00:30.000Z");
    assert.equal(
      (await statusOf(ds, "payments", "gw")).replicas?.find((r) => r.name === "gw-1")?.ready,
      false,
    );

    // A new controller (restart) before the deadline keeps it; after the deadline deletes it.
    now += 10_000;
    const { c: c2 } = controller(ds, { now: () => now });
    await must(c2.sync("payments/gw"));
    assert.equal((await replicaPods(ds, "payments", "gw")).length, 2);
    now += 20_000;
    await must(c2.sync("payments/gw"));
    assert.deepEqual(
      (await replicaPods(ds, "payments", "gw")).map((p) => p.metadata.name),
      ["gw-0"],
    );
    assert.equal((await allocations(ds)).length, 1);
  });

  it("deleting a gateway drains its replicas; their IPs stay allocated until they are gone", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    let now = Date.parse("2030-01-01T00:00:00Z");
    const { c } = controller(ds, { now: () => now });
    const grace = { template: { spec: { terminationGracePeriodSeconds: 20 } } };
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 2, ...grace })));
    await must(c.sync("payments/gw"));
    await startReplicas(ds, "payments", "gw");
    await must(ds.delete({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    const out = await must(c.sync("payments/gw"));
    assert.equal(out.requeueAfterMs, 20_000);
    const pods = await replicaPods(ds, "payments", "gw");
    assert.deepEqual(
      pods.map((p) => [
        p.metadata.annotations?.[ANN_GATEWAY_DRAIN_STARTED],
        p.metadata.annotations?.[ANN_GATEWAY_TERMINATING],
      ]),
      [
        ["2030-01-01T00:00:00.000Z", "2030-01-01T00:00:20.000Z"],
        ["2030-01-01T00:00:00.000Z", "2030-01-01T00:00:20.000Z"],
      ],
    );
    assert.equal((await allocations(ds)).length, 2);
    // The garbage sweep in between changes nothing.
    now += 5_000;
    await must(c.collectGarbage());
    assert.equal((await replicaPods(ds, "payments", "gw")).length, 2);
    now += 15_000;
    await must(c.sync("payments/gw"));
    assert.deepEqual(await replicaPods(ds, "payments", "gw"), []);
    assert.deepEqual(await allocations(ds), []);
  });

  it("a hand-deleted replica comes back with the same IP", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const { c } = controller(ds);
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 2 })));
    await must(c.sync("payments/gw"));
    const ips = (await replicaPods(ds, "payments", "gw")).map(egressIPOf);
    await must(ds.delete({ kind: "Pod", namespace: "payments", name: "gw-1" }));
    await must(c.sync("payments/gw"));
    assert.deepEqual((await replicaPods(ds, "payments", "gw")).map(egressIPOf), ips);
  });

  it("garbage on start: orphan replica pods and allocations of missing gateways go", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const orphanPod: Resource = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "old-0",
        namespace: "payments",
        annotations: { [ANN_GATEWAY_OWNER]: "payments/old", [ANN_GATEWAY_EGRESS_IP]: "10.10.1.1" },
      },
      spec: { nodeName: "node-1" },
    };
    const workload: Resource = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "app", namespace: "payments" },
    };
    await must(ds.create(orphanPod));
    await must(ds.create(workload));
    await must(
      ds.create({
        apiVersion: "egw.dev/v1",
        kind: "IPAllocation",
        metadata: { name: "10-10-1-1" },
        spec: {
          ip: "10.10.1.1",
          pool: "egress",
          owner: { namespace: "payments", gateway: "old", replica: "old-0" },
        },
      }),
    );
    const { c } = controller(ds);
    await c.start();
    await waitFor("orphans collected", async () => (await allocations(ds)).length === 0);
    await waitFor("orphan pod gone", async () => (await replicaPods(ds, "payments", "old")).length === 0);
    assert.ok((await must(ds.get({ kind: "Pod", namespace: "payments", name: "app" }))).metadata.name);
  });

  it("bad data never crashes it: invalid gateway gets InvalidSpec status, others still reconcile", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    await must(ds.create({ ...gatewayObj("bad", "payments", {}), spec: { replicas: "many", ipPools: 7 } }));
    await must(
      ds.create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "weird",
          namespace: "payments",
          annotations: { [ANN_GATEWAY_OWNER]: "payments/gw" },
        },
        spec: 5,
      }),
    );
    await must(
      ds.create({ apiVersion: "egw.dev/v1", kind: "IPAllocation", metadata: { name: "junk" }, spec: "x" }),
    );
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 1 })));
    const { c, log } = controller(ds);
    await c.start();
    await waitFor(
      "gw reconciled",
      async () => (await statusOf(ds, "payments", "gw")).replicas?.length === 1,
      () => statusOf(ds, "payments", "gw"),
    );
    await waitFor(
      "bad has a status",
      async () => (await statusOf(ds, "payments", "bad")).conditions !== undefined,
    );
    const degraded = (await statusOf(ds, "payments", "bad")).conditions?.find((x) => x.type === "Degraded");
    assert.equal(degraded?.reason, "InvalidSpec");
    assert.match(degraded?.message ?? "", /EgressGateway payments\/bad: spec\.replicas/);
    assert.ok(log.records.some((r) => r.level === "warn" && r.msg.startsWith("invalid EgressGateway")));
    // The stray pod claiming to be gw's replica without an IP was removed; gw-0 stands.
    assert.deepEqual(
      (await replicaPods(ds, "payments", "gw")).map((p) => p.metadata.name),
      ["gw-0"],
    );
    await assertConsistent(ds);
  });

  it("status written with CAS survives a conflict; failed pod creation releases the IP", async () => {
    const mem = createMemoryDatastore();
    await seed(mem);
    let conflicts = 1;
    let podCreateFailures = 1;
    const flaky: Datastore = wrap(mem, {
      update: async (obj) => {
        if (obj.kind === "EgressGateway" && conflicts > 0) {
          conflicts -= 1;
          // someone else writes in between: the CAS must fail and be retried
          const cur = await must(mem.get({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
          await must(mem.update({ ...cur, metadata: { ...cur.metadata, labels: { touched: "yes" } } }));
        }
        return mem.update(obj);
      },
      create: async (obj) => {
        if (obj.kind === "Pod" && podCreateFailures > 0) {
          podCreateFailures -= 1;
          return err(new DatastoreError("Unavailable", "injected failure"));
        }
        return mem.create(obj);
      },
    });
    const { c, log } = controller(flaky);
    await must(mem.create(gatewayObj("gw", "payments", { replicas: 1 })));
    await must(c.sync("payments/gw"));
    assert.ok(
      log.records.some((r) => r.msg === "create failed" && String(r.error).includes("injected failure")),
    );
    // The next pass in the same sync created it; exactly one allocation, backed by the pod.
    await assertConsistent(mem);
    assert.equal((await allocations(mem)).length, 1);
    const gw = await must(mem.get({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    assert.deepEqual(gw.metadata.labels, { touched: "yes" });
    assert.equal((gw.status as { replicas?: unknown[] }).replicas?.length, 1);
  });
});

const wrap = (ds: MemoryDatastore, over: Partial<Datastore>): Datastore => ({
  get: (ref) => ds.get(ref),
  list: (kind, opts) => ds.list(kind, opts),
  create: (obj) => ds.create(obj),
  update: (obj) => ds.update(obj),
  delete: (ref, opts) => ds.delete(ref, opts),
  watch: (opts, onEvent) => ds.watch(opts, onEvent),
  close: () => ds.close(),
  ...over,
});

describe("GatewayController: node loss", () => {
  it("a node whose agent lease stops is marked lost, its replica deleted and replaced elsewhere; it recovers when the lease renews", async () => {
    const ds = createMemoryDatastore();
    await seed(ds);
    const renewing = new Set(["node-1", "node-2", "node-3"]);
    // What each node's agent does (agent/lease.ts), by hand: renewTime changes every 100 ms.
    let tick = 0;
    const renew = setInterval(() => {
      tick += 1;
      for (const node of renewing) {
        const lease: Resource = {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: `egw-agent-${node}`, namespace: "egw-system" },
          spec: { holderIdentity: node, renewTime: new Date(1_000_000 + tick).toISOString() },
        };
        void ds.update(lease).then((r) => (r.ok ? undefined : ds.create(lease)));
      }
    }, 100);
    try {
      const { c, log } = controller(ds, { nodeLostMs: 1500 });
      await c.start();
      // A node without a lease is not judged: every agent renews before the test begins.
      await waitFor("every node reachable", async () =>
        (await must(ds.list("Node"))).items.every(
          (n) =>
            (n.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find(
              (x) => x.type === "EgwNodeReachable",
            )?.status === "True",
        ),
      );
      await must(ds.create(gatewayObj("gw", "payments", { replicas: 2, ...noGrace })));
      await waitFor("2 replicas", async () => (await replicaPods(ds, "payments", "gw")).length === 2);
      const nodeOf = (p: Resource): string => (p.spec as { nodeName?: string }).nodeName ?? "";
      const before = await replicaPods(ds, "payments", "gw");
      const victim = before[0];
      assert.ok(victim);
      renewing.delete(nodeOf(victim));
      await waitFor(
        "the victim replaced on a healthy node",
        async () => {
          const now = await replicaPods(ds, "payments", "gw");
          return (
            now.length === 2 &&
            !now.some((p) => p.metadata.name === victim.metadata.name) &&
            now.every((p) => nodeOf(p) !== nodeOf(victim))
          );
        },
        async () => [
          ...(await replicaPods(ds, "payments", "gw")).map((p) => `${p.metadata.name}@${nodeOf(p)}`),
          ...log.records.map((r) => `${r.msg} ${String(r.node ?? r.error ?? "")}`),
          ...(await must(ds.list("Lease"))).items.map((l) => `${l.metadata.name} ${JSON.stringify(l.spec)}`),
        ],
      );
      await assertConsistent(ds);
      const node = await must(ds.get({ kind: "Node", name: nodeOf(victim) }));
      const reachable = (
        node.status as { conditions?: { type: string; status: string; reason?: string }[] }
      ).conditions?.find((x) => x.type === "EgwNodeReachable");
      assert.equal(reachable?.status, "False");
      assert.equal(reachable?.reason, "LeaseExpired");
      assert.ok(log.records.some((r) => r.msg === "node lost" && r.node === nodeOf(victim)));

      renewing.add(nodeOf(victim));
      await waitFor("the node reachable again", async () => {
        const n = await must(ds.get({ kind: "Node", name: nodeOf(victim) }));
        return (
          (n.status as { conditions?: { type: string; status: string }[] }).conditions?.find(
            (x) => x.type === "EgwNodeReachable",
          )?.status === "True"
        );
      });
    } finally {
      clearInterval(renew);
    }
  });
});
