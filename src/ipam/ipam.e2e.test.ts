// IPAM race against a real etcd: two allocators on two separate client connections.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EtcdDatastore } from "../datastore/etcd.js";
import type { Datastore } from "../datastore/types.js";
import { startEtcd, type EtcdServer } from "../datastore/testing/etcd-server.js";
import type { Result } from "../util/result.js";
import { allocateEgressIP, listAllocations, releaseEgressIP } from "./allocator.js";
import { formatIp, nthHost, parseCidr } from "../util/ip.js";
import type { IpamError, IPPoolLike } from "./pools.js";

let etcd: EtcdServer | undefined;
let clients: EtcdDatastore[] = [];
let rootCount = 0;

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  await etcd?.stop();
});

/** Counts lost create races, to show that the allocators really competed. */
const collisions = { count: 0 };

const countingCollisions = (ds: EtcdDatastore): Datastore => ({
  get: (ref) => ds.get(ref),
  list: (kind, opts) => ds.list(kind, opts),
  create: async (obj) => {
    const r = await ds.create(obj);
    if (!r.ok && r.error.code === "AlreadyExists") collisions.count += 1;
    return r;
  },
  update: (obj) => ds.update(obj),
  delete: (ref, opts) => ds.delete(ref, opts),
  watch: (opts, onEvent) => ds.watch(opts, onEvent),
  close: () => ds.close(),
});

/** Two allocators on independent connections to the same (fresh) key root. */
const twoAllocators = (): [Datastore, Datastore] => {
  if (!etcd) throw new Error("etcd not started");
  const root = `/egw-ipam-${process.pid}-${++rootCount}/v1`;
  const pair = [
    new EtcdDatastore({ endpoints: etcd.endpoints, root }),
    new EtcdDatastore({ endpoints: etcd.endpoints, root }),
  ] as const;
  clients.push(...pair);
  return [countingCollisions(pair[0]), countingCollisions(pair[1])];
};

const must = <T>(r: Result<T, IpamError>): T => {
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
};

const owner = (replica: string) => ({ namespace: "payments", gateway: "gw", replica });

for (const [family, cidr] of [
  ["IPv4", "10.10.0.0/23"],
  ["IPv6", "fd00:10::/64"],
] as const) {
  test(
    `${family}: 200 parallel allocations from two allocators give 200 distinct IPs; released IPs are reused`,
    { timeout: 120_000 },
    async () => {
      const [a, b] = twoAllocators();
      const pools: IPPoolLike[] = [
        { metadata: { name: "egress" }, spec: { cidr, allowedUses: ["EgressGateway"] } },
      ];
      const n = 200;
      collisions.count = 0;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          allocateEgressIP(i % 2 ? a : b, { pools, owner: owner(`r${i}`) }),
        ),
      );
      const ips = results.map((r) => must(r).ip);
      assert.equal(new Set(ips).size, n, "zero duplicates");
      assert.ok(collisions.count > 0, "the two allocators competed for the same addresses");

      // What is stored agrees: one allocation per owner, and the stored IPs are the handed-out ones.
      const stored = must(await listAllocations(a));
      assert.equal(stored.length, n);
      assert.deepEqual(stored.map((s) => s.ip).sort(), [...ips].sort());
      const byOwner = new Map(stored.map((s) => [s.owner.replica, s.ip]));
      ips.forEach((ip, i) => assert.equal(byOwner.get(`r${i}`), ip));

      // First-free allocation packs the block even under contention: exactly the first n hosts.
      const block = parseCidr(cidr);
      assert.ok(block.ok);
      const expected = Array.from({ length: n }, (_, i) =>
        formatIp(nthHost(block.value, BigInt(i)) ?? assert.fail()),
      );
      assert.deepEqual([...ips].sort(), expected.sort());

      // The same owner asking again (another allocator, e.g. after a restart) keeps its IP.
      assert.equal(must(await allocateEgressIP(b, { pools, owner: owner("r7") })).ip, ips[7]);
      assert.equal(must(await allocateEgressIP(a, { pools, owner: owner("r8") })).ip, ips[8]);

      // Release a handful in parallel, then allocate new owners in parallel: they get exactly those IPs.
      const freed = [3, 50, 51, 120, 199];
      const released = await Promise.all(freed.map((i) => releaseEgressIP(i % 2 ? a : b, owner(`r${i}`))));
      assert.deepEqual(
        released
          .map((r) => must(r))
          .flat()
          .sort(),
        freed.map((i) => ips[i]).sort(),
      );
      const again = await Promise.all(
        freed.map((_, k) => allocateEgressIP(k % 2 ? a : b, { pools, owner: owner(`new${k}`) })),
      );
      assert.deepEqual(again.map((r) => must(r).ip).sort(), freed.map((i) => ips[i]).sort());
      const final = must(await listAllocations(b));
      assert.equal(new Set(final.map((s) => s.ip)).size, n);
      assert.equal(final.length, n);
    },
  );
}

test("two allocators racing for the same replica agree on one IP", async () => {
  const [a, b] = twoAllocators();
  const pools: IPPoolLike[] = [
    { metadata: { name: "egress" }, spec: { cidr: "10.20.0.0/24", allowedUses: ["EgressGateway"] } },
  ];
  for (let round = 0; round < 10; round++) {
    const [x, y] = await Promise.all([
      allocateEgressIP(a, { pools, owner: owner(`same${round}`) }),
      allocateEgressIP(b, { pools, owner: owner(`same${round}`) }),
    ]);
    assert.equal(must(x).ip, must(y).ip);
  }
  const stored = must(await listAllocations(a));
  assert.equal(stored.length, 10);
  assert.equal(new Set(stored.map((s) => s.owner.replica)).size, 10);
});
