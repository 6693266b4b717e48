// The controller against a real etcd: the core scenario, a restart, and two controllers at once.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { EtcdDatastore } from "../datastore/etcd.js";
import { startEtcd, type EtcdServer } from "../datastore/testing/etcd-server.js";
import type { Datastore } from "../datastore/types.js";
import { GatewayController } from "./controller.js";
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

let etcd: EtcdServer | undefined;
const clients: EtcdDatastore[] = [];
const controllers: GatewayController[] = [];
let roots = 0;

before(async () => {
  etcd = await startEtcd();
});
afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
after(async () => {
  await etcd?.stop();
});

/** `n` independent clients on one fresh key root (as separate processes would be). */
const connect = (n: number): EtcdDatastore[] => {
  if (!etcd) throw new Error("etcd not started");
  const root = `/egw-controller-${process.pid}-${++roots}/v1`;
  const made = Array.from({ length: n }, () => new EtcdDatastore({ endpoints: etcd?.endpoints ?? [], root }));
  clients.push(...made);
  return made;
};

const run = async (ds: Datastore, resyncMs = 30_000): Promise<GatewayController> => {
  const c = new GatewayController({ store: ds, log: memoryLogger(), resyncMs });
  controllers.push(c);
  await c.start();
  return c;
};

const seed = async (ds: Datastore, cidr: string): Promise<void> => {
  for (const n of ["node-1", "node-2", "node-3"]) await must(ds.create(nodeObj(n)));
  await must(ds.create(poolObj("egress", cidr)));
};

const noGrace = { template: { spec: { terminationGracePeriodSeconds: 0 } } };

test(
  "create → replicas with IPs; scale 3→1 releases 2 IPs; delete → nothing left",
  { timeout: 60_000 },
  async () => {
    const [ds] = connect(1);
    assert.ok(ds);
    await seed(ds, "10.10.1.0/29");
    await run(ds);
    await must(ds.create(gatewayObj("gw", "payments", { replicas: 3, ...noGrace })));
    await waitFor(
      "3 replicas in the status",
      async () => (await statusOf(ds, "payments", "gw")).replicas?.length === 3,
      () => statusOf(ds, "payments", "gw"),
    );
    const pods = await replicaPods(ds, "payments", "gw");
    assert.deepEqual(
      pods.map((p) => p.metadata.name),
      ["gw-0", "gw-1", "gw-2"],
    );
    assert.deepEqual(
      pods.map((p) => p.metadata.labels),
      [0, 1, 2].map(() => ({ "egw.dev/gateway": "gw" })),
    );
    assert.equal(new Set(pods.map((p) => (p.spec as { nodeName: string }).nodeName)).size, 3);
    await assertConsistent(ds);

    await setReplicas(ds, "payments", "gw", 1);
    await waitFor("one allocation left", async () => (await allocations(ds)).length === 1);
    await waitFor("one replica left", async () => (await replicaPods(ds, "payments", "gw")).length === 1);
    assert.equal(
      egressIPOf((await replicaPods(ds, "payments", "gw"))[0] ?? assert.fail()),
      egressIPOf(pods[0] ?? assert.fail()),
    );
    await assertConsistent(ds);

    await must(ds.delete({ kind: "EgressGateway", namespace: "payments", name: "gw" }));
    await waitFor(
      "no pods and no allocations",
      async () =>
        (await replicaPods(ds, "payments", "gw")).length === 0 && (await allocations(ds)).length === 0,
    );
  },
);

test("a controller restart keeps every replica's IP", { timeout: 60_000 }, async () => {
  const [first, second] = connect(2);
  assert.ok(first && second);
  await seed(first, "10.10.2.0/28");
  const a = await run(first);
  await must(first.create(gatewayObj("gw", "payments", { replicas: 3 })));
  await must(first.create(gatewayObj("other", "shared", { replicas: 2 })));
  await waitFor("5 replicas", async () => (await allocations(first)).length === 5);
  await a.idle();
  const before = new Map(
    [...(await replicaPods(first, "payments", "gw")), ...(await replicaPods(first, "shared", "other"))].map(
      (p) => [`${p.metadata.namespace}/${p.metadata.name}`, egressIPOf(p)],
    ),
  );
  assert.equal(before.size, 5);
  await a.stop();

  // While no controller runs, a replica pod is deleted by hand.
  await must(first.delete({ kind: "Pod", namespace: "payments", name: "gw-1" }));

  const b = await run(second);
  await waitFor("gw-1 back", async () => (await replicaPods(second, "payments", "gw")).length === 3);
  await b.idle();
  const afterRestart = new Map(
    [...(await replicaPods(second, "payments", "gw")), ...(await replicaPods(second, "shared", "other"))].map(
      (p) => [`${p.metadata.namespace}/${p.metadata.name}`, egressIPOf(p)],
    ),
  );
  assert.deepEqual(afterRestart, before);
  assert.equal((await allocations(second)).length, 5);
  await assertConsistent(second);
});

test("two controllers at once never hand out the same IP", { timeout: 120_000 }, async () => {
  const [x, y, user] = connect(3);
  assert.ok(x && y && user);
  await seed(user, "10.10.3.0/27"); // 30 addresses
  await Promise.all([run(x, 500), run(y, 500)]);
  const gateways = ["a", "b", "c", "d", "e"];
  await Promise.all(gateways.map((g) => user.create(gatewayObj(g, "team", { replicas: 4, ...noGrace }))));
  const total = async (): Promise<number> =>
    (await Promise.all(gateways.map((g) => replicaPods(user, "team", g)))).reduce((n, p) => n + p.length, 0);
  await waitFor(
    "20 replicas and 20 allocations",
    async () => (await total()) === 20 && (await allocations(user)).length === 20,
    async () => ({
      pods: await total(),
      allocations: (await allocations(user)).length,
    }),
  );
  await assertConsistent(user);

  // Churn while both run: some scale up past the pool, some down.
  await Promise.all([
    setReplicas(user, "team", "a", 8),
    setReplicas(user, "team", "b", 1),
    setReplicas(user, "team", "c", 8),
  ]);
  // 4+1+8+8+4 = 25 wanted; after b shrinks 30 addresses suffice.
  await waitFor(
    "25 replicas",
    async () => (await total()) === 25 && (await allocations(user)).length === 25,
    async () => ({ pods: await total(), allocations: (await allocations(user)).length }),
  );
  await assertConsistent(user);
  await setReplicas(user, "team", "d", 12); // wants 8 more, only 5 free
  await waitFor(
    "pool full, d degraded",
    async () =>
      (await allocations(user)).length === 30 &&
      (await statusOf(user, "team", "d")).conditions?.find((c) => c.type === "Degraded")?.reason ===
        "PoolExhausted",
    () => statusOf(user, "team", "d"),
  );
  await assertConsistent(user);
  assert.equal(await total(), 30);
});
