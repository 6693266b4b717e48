// Egress IP allocation for gateway replicas. Each allocated IP is one cluster-scoped IPAllocation
// object named after the IP; creating it is the atomic claim (etcd create = compare-and-swap on
// "key absent"), so two allocators can never hand out the same IP.
import type { Resource } from "../api/meta.js";
import { EGW_API_VERSION } from "../api/kinds.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { cidrContains, firstFree, formatIp, parseIp } from "../util/ip.js";
import { ipToName } from "./allocation-name.js";
import {
  describeGateway,
  IpamError,
  usablePools,
  type AllocationOwner,
  type IPPoolLike,
  type UsablePool,
} from "./pools.js";
import { compareNumbers } from "../util/compare.js";

export const IP_ALLOCATION_KIND = "IPAllocation";

export interface IPAllocationSpec {
  ip: string;
  pool: string;
  owner: AllocationOwner;
}

export interface Allocation extends IPAllocationSpec {
  /** Object name (derived from the IP). */
  name: string;
  resourceVersion: string;
}

export interface AllocateRequest {
  /** Known pools; with ipPools, the ones it names are used, otherwise all of these. */
  pools: readonly IPPoolLike[];
  /** The gateway's spec.ipPools (pool names or CIDRs, in preference order). */
  ipPools?: readonly string[];
  owner: AllocationOwner;
}

const sameOwner = (a: AllocationOwner, b: AllocationOwner): boolean =>
  a.namespace === b.namespace && a.gateway === b.gateway && a.replica === b.replica;

const dsError = (what: string, e: { message: string }): IpamError =>
  new IpamError("Datastore", `${what}: ${e.message}`);

const toAllocation = (r: Resource): Allocation | undefined => {
  const spec = r.spec as Partial<IPAllocationSpec> | undefined;
  const o = spec?.owner;
  if (!spec || typeof spec.ip !== "string" || typeof spec.pool !== "string" || !o) return undefined;
  if (typeof o.namespace !== "string" || typeof o.gateway !== "string" || typeof o.replica !== "string")
    return undefined;
  return {
    name: r.metadata.name,
    resourceVersion: r.metadata.resourceVersion ?? "",
    ip: spec.ip,
    pool: spec.pool,
    owner: { namespace: o.namespace, gateway: o.gateway, replica: o.replica },
  };
};

/** Every current allocation (malformed IPAllocation objects are skipped). */
export const listAllocations = async (ds: Datastore): Promise<Result<Allocation[], IpamError>> => {
  const listed = await ds.list(IP_ALLOCATION_KIND);
  if (!listed.ok) return err(dsError("listing IP allocations", listed.error));
  return ok(listed.value.items.map(toAllocation).filter((a): a is Allocation => a !== undefined));
};

const allocationObject = (name: string, spec: IPAllocationSpec): Resource<IPAllocationSpec> => ({
  apiVersion: EGW_API_VERSION,
  kind: IP_ALLOCATION_KIND,
  metadata: {
    name,
    labels: { "egw.dev/gateway-namespace": spec.owner.namespace, "egw.dev/gateway": spec.owner.gateway },
  },
  spec,
});

const inPools = (a: Allocation, pools: readonly UsablePool[]): boolean => {
  const ip = parseIp(a.ip);
  return ip !== undefined && pools.some((p) => p.name === a.pool && cidrContains(p.cidr, ip));
};

/** Earliest claim first: allocation objects are never modified, so resourceVersion = creation revision. */
const byClaimOrder = (a: Allocation, b: Allocation): number => {
  return compareNumbers(BigInt(a.resourceVersion || "0"), BigInt(b.resourceVersion || "0"));
};

// One allocator (= one datastore client) runs one IPAM operation at a time. Safety against other
// allocators comes from the datastore's atomic create; this only stops N concurrent calls of one
// process from all chasing the same first-free address (O(N²) collisions).
const queues = new WeakMap<Datastore, Promise<unknown>>();

const serialized = <T>(ds: Datastore, op: () => Promise<T>): Promise<T> => {
  const prev = queues.get(ds) ?? Promise.resolve();
  const next = prev.then(op, op);
  queues.set(
    ds,
    next.catch(() => undefined),
  );
  return next;
};

/**
 * Gives the replica an egress IP: the one it already holds (so it keeps its IP across restarts of
 * the allocator), else the first free address of the first pool that has one.
 */
export const allocateEgressIP = (
  ds: Datastore,
  req: AllocateRequest,
): Promise<Result<{ ip: string; pool: string }, IpamError>> => serialized(ds, () => allocate(ds, req));

const allocate = async (
  ds: Datastore,
  req: AllocateRequest,
): Promise<Result<{ ip: string; pool: string }, IpamError>> => {
  const { owner } = req;
  const pools = usablePools(owner, req.pools, req.ipPools);
  if (!pools.ok) return pools;
  const all = await listAllocations(ds);
  if (!all.ok) return all;

  const held = all.value.filter((a) => sameOwner(a.owner, owner)).sort(byClaimOrder);
  const keep = held.find((a) => inPools(a, pools.value));
  // Anything else the owner holds is from a pool the gateway no longer uses, or a duplicate.
  for (const stale of held.filter((a) => a !== keep)) {
    const gone = await ds.delete(
      { kind: IP_ALLOCATION_KIND, name: stale.name },
      { resourceVersion: stale.resourceVersion },
    );
    if (!gone.ok && gone.error.code !== "NotFound") return err(dsError(`releasing ${stale.ip}`, gone.error));
  }
  if (keep) return ok({ ip: keep.ip, pool: keep.pool });

  for (const pool of pools.value) {
    const takenHere = new Set<bigint>();
    for (const a of all.value) {
      const ip = parseIp(a.ip);
      if (ip !== undefined && cidrContains(pool.cidr, ip)) takenHere.add(ip.value);
    }
    for (;;) {
      const free = firstFree(pool.cidr, takenHere);
      if (!free) break; // this pool is full: try the next one
      const name = ipToName(free);
      takenHere.add(free.value);
      const ip = formatIp(free);
      const created = await ds.create(allocationObject(name, { ip, pool: pool.name, owner }));
      if (!created.ok) {
        if (created.error.code === "AlreadyExists") continue; // another allocator won this one
        return err(dsError(`claiming ${ip} from IPPool "${pool.name}"`, created.error));
      }
      return settleOwnerRace(ds, owner, {
        ip,
        pool: pool.name,
        name,
        rv: created.value.metadata.resourceVersion ?? "",
      });
    }
  }
  const names = pools.value.map((p) => `"${p.name}"`).join(", ");
  return err(new IpamError("Exhausted", `${describeGateway(owner)}: no free IP left in IPPool ${names}`));
};

/**
 * Two allocators serving the same replica at once may both claim an IP. Each, after its claim,
 * keeps the owner's earliest claim and drops its own if it is not that one: both see the earliest
 * (they list after their own create), so they agree.
 */
const settleOwnerRace = async (
  ds: Datastore,
  owner: AllocationOwner,
  mine: { ip: string; pool: string; name: string; rv: string },
): Promise<Result<{ ip: string; pool: string }, IpamError>> => {
  const all = await listAllocations(ds);
  if (!all.ok) return all;
  const first = all.value.filter((a) => sameOwner(a.owner, owner)).sort(byClaimOrder)[0];
  if (!first || first.name === mine.name) return ok({ ip: mine.ip, pool: mine.pool });
  const gone = await ds.delete({ kind: IP_ALLOCATION_KIND, name: mine.name }, { resourceVersion: mine.rv });
  if (!gone.ok && gone.error.code !== "NotFound") return err(dsError(`releasing ${mine.ip}`, gone.error));
  return ok({ ip: first.ip, pool: first.pool });
};

const releaseWhere = async (
  ds: Datastore,
  match: (a: Allocation) => boolean,
): Promise<Result<string[], IpamError>> => {
  const all = await listAllocations(ds);
  if (!all.ok) return all;
  const released: string[] = [];
  for (const a of all.value.filter(match)) {
    const gone = await ds.delete(
      { kind: IP_ALLOCATION_KIND, name: a.name },
      { resourceVersion: a.resourceVersion },
    );
    if (gone.ok) released.push(a.ip);
    else if (gone.error.code !== "NotFound") return err(dsError(`releasing ${a.ip}`, gone.error));
  }
  return ok(released);
};

/** Frees the replica's IP; returns the released IPs (empty if it held none). */
export const releaseEgressIP = (
  ds: Datastore,
  owner: AllocationOwner,
): Promise<Result<string[], IpamError>> =>
  serialized(ds, () => releaseWhere(ds, (a) => sameOwner(a.owner, owner)));

/** Frees every IP held by the gateway's replicas (e.g. when the gateway is deleted). */
export const releaseAll = (
  ds: Datastore,
  gateway: { namespace: string; gateway: string },
): Promise<Result<string[], IpamError>> =>
  serialized(ds, () =>
    releaseWhere(ds, (a) => a.owner.namespace === gateway.namespace && a.owner.gateway === gateway.gateway),
  );
