import assert from "node:assert/strict";
import { test } from "node:test";
import { createMemoryDatastore, MemoryStore } from "../datastore/memory.js";
import type { Result } from "../util/result.js";
import { allocateEgressIP, listAllocations, releaseAll, releaseEgressIP } from "./allocator.js";
import type { IpamError, IPPoolLike } from "./pools.js";

const pool = (name: string, cidr: string, allowedUses: string[] = ["EgressGateway"]): IPPoolLike => ({
  metadata: { name },
  spec: { cidr, allowedUses },
});
const owner = (replica: string, gateway = "gw", namespace = "payments") => ({ namespace, gateway, replica });

const must = <T>(r: Result<T, IpamError>): T => {
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
};
const failure = <T>(r: Result<T, IpamError>): IpamError => {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
};

test("allocates the first free IPs in order and keeps a replica's IP", async () => {
  const ds = createMemoryDatastore();
  const pools = [pool("egress", "10.10.1.0/29")];
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, owner: owner("r0") })), {
    ip: "10.10.1.1",
    pool: "egress",
  });
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, owner: owner("r1") })), {
    ip: "10.10.1.2",
    pool: "egress",
  });
  // Same owner again (an allocator restart): same IP, no new allocation.
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, owner: owner("r0") })), {
    ip: "10.10.1.1",
    pool: "egress",
  });
  const allocs = must(await listAllocations(ds));
  assert.deepEqual(allocs.map((a) => [a.name, a.ip, a.owner.replica]).sort(), [
    ["10-10-1-1", "10.10.1.1", "r0"],
    ["10-10-1-2", "10.10.1.2", "r1"],
  ]);
  await ds.close();
});

test("released IPs are reused first; releaseAll frees a whole gateway", async () => {
  const ds = createMemoryDatastore();
  const pools = [pool("egress", "10.10.1.0/24")];
  for (const r of ["r0", "r1", "r2"]) must(await allocateEgressIP(ds, { pools, owner: owner(r) }));
  must(await allocateEgressIP(ds, { pools, owner: owner("x0", "other") }));
  assert.deepEqual(must(await releaseEgressIP(ds, owner("r1"))), ["10.10.1.2"]);
  assert.deepEqual(must(await releaseEgressIP(ds, owner("r1"))), [], "releasing twice is a no-op");
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, owner: owner("r9") })), {
    ip: "10.10.1.2",
    pool: "egress",
  });
  assert.deepEqual(must(await releaseAll(ds, { namespace: "payments", gateway: "gw" })).sort(), [
    "10.10.1.1",
    "10.10.1.2",
    "10.10.1.3",
  ]);
  assert.deepEqual(
    must(await listAllocations(ds)).map((a) => a.owner.gateway),
    ["other"],
  );
  await ds.close();
});

test("IPv6: huge pools are fine and names are safe", async () => {
  const ds = createMemoryDatastore();
  const pools = [pool("v6", "fd00:10::/64")];
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, owner: owner("r0") })), {
    ip: "fd00:10::",
    pool: "v6",
  });
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, owner: owner("r1") })), {
    ip: "fd00:10::1",
    pool: "v6",
  });
  assert.deepEqual(
    must(await listAllocations(ds))
      .map((a) => a.name)
      .sort(),
    ["fd00-10-0-0-0-0-0-0", "fd00-10-0-0-0-0-0-1"],
  );
  await ds.close();
});

test("spills into the next pool when the first is exhausted, then reports exhaustion", async () => {
  const ds = createMemoryDatastore();
  const pools = [pool("tiny", "10.0.0.8/31"), pool("single", "10.0.1.5/32")];
  const got = [];
  for (const r of ["a", "b", "c"]) got.push(must(await allocateEgressIP(ds, { pools, owner: owner(r) })));
  assert.deepEqual(got, [
    { ip: "10.0.0.8", pool: "tiny" },
    { ip: "10.0.0.9", pool: "tiny" },
    { ip: "10.0.1.5", pool: "single" },
  ]);
  const e = failure(await allocateEgressIP(ds, { pools, owner: owner("d") }));
  assert.equal(e.code, "Exhausted");
  assert.match(e.message, /EgressGateway payments\/gw: no free IP left in IPPool "tiny", "single"/);
  await ds.close();
});

test("pool selection: named refs, missing pools, disallowed uses and bad CIDRs give clear errors", async () => {
  const ds = createMemoryDatastore();
  const pools = [pool("a", "10.1.0.0/24"), pool("b", "10.2.0.0/24"), pool("wl", "10.3.0.0/24", ["Workload"])];
  // Refs by name or CIDR, in preference order.
  assert.deepEqual(
    must(await allocateEgressIP(ds, { pools, ipPools: ["10.2.0.0/24", "a"], owner: owner("r0") })),
    {
      ip: "10.2.0.1",
      pool: "b",
    },
  );
  const missing = failure(await allocateEgressIP(ds, { pools, ipPools: ["a", "nope"], owner: owner("r1") }));
  assert.equal(missing.code, "PoolNotFound");
  assert.match(
    missing.message,
    /EgressGateway payments\/gw: spec\.ipPools\[1\]: IPPool "nope" does not exist; known pools: a, b, wl/,
  );
  const notAllowed = failure(await allocateEgressIP(ds, { pools, ipPools: ["wl"], owner: owner("r1") }));
  assert.equal(notAllowed.code, "PoolNotAllowed");
  assert.match(notAllowed.message, /IPPool "wl".*spec\.allowedUses is \["Workload"\].*"EgressGateway"/);
  const unset = failure(
    await allocateEgressIP(ds, {
      pools: [{ metadata: { name: "u" }, spec: { cidr: "10.4.0.0/24" } }],
      owner: owner("r1"),
    }),
  );
  assert.equal(unset.code, "PoolNotAllowed");
  const bad = failure(
    await allocateEgressIP(ds, { pools: [pool("bad", "10.5.0.1/24")], owner: owner("r1") }),
  );
  assert.equal(bad.code, "PoolInvalid");
  assert.match(bad.message, /IPPool "bad": spec\.cidr: "10\.5\.0\.1\/24" has host bits set/);
  const none = failure(await allocateEgressIP(ds, { pools: [], owner: owner("r1") }));
  assert.equal(none.code, "NoPools");
  await ds.close();
});

test("a replica whose gateway moved to another pool gets a new IP and the old one is freed", async () => {
  const ds = createMemoryDatastore();
  const pools = [pool("a", "10.1.0.0/24"), pool("b", "10.2.0.0/24")];
  must(await allocateEgressIP(ds, { pools, ipPools: ["a"], owner: owner("r0") }));
  assert.deepEqual(must(await allocateEgressIP(ds, { pools, ipPools: ["b"], owner: owner("r0") })), {
    ip: "10.2.0.1",
    pool: "b",
  });
  assert.deepEqual(
    must(await listAllocations(ds)).map((a) => a.ip),
    ["10.2.0.1"],
  );
  await ds.close();
});

test("two allocators racing: distinct owners never share an IP; one owner ends with one IP", async () => {
  const store = new MemoryStore();
  const [ds1, ds2] = [store.client(), store.client()];
  const pools = [pool("egress", "10.10.0.0/24")];
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      allocateEgressIP(i % 2 ? ds1 : ds2, { pools, owner: owner(`r${i}`) }),
    ),
  );
  const ips = results.map((r) => must(r).ip);
  assert.equal(new Set(ips).size, 40);
  const same = await Promise.all([
    allocateEgressIP(ds1, { pools, owner: owner("dup") }),
    allocateEgressIP(ds2, { pools, owner: owner("dup") }),
  ]);
  assert.equal(must(same[0]).ip, must(same[1]).ip);
  assert.equal(must(await listAllocations(ds1)).filter((a) => a.owner.replica === "dup").length, 1);
  await ds1.close();
  await ds2.close();
});

test("datastore failures surface as Datastore errors", async () => {
  const ds = createMemoryDatastore();
  ds.disconnect();
  const e = failure(await allocateEgressIP(ds, { pools: [pool("a", "10.1.0.0/24")], owner: owner("r0") }));
  assert.equal(e.code, "Datastore");
  assert.match(e.message, /listing IP allocations: cannot reach/);
  await ds.close();
});
