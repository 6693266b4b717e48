// A gateway's egress IPs (pure): the pools it may draw from, which addresses are still free,
// which allocations back its replicas, which held ones a new replica may take over, and which
// are left over and must be released. The allocation itself is a datastore transaction
// (ipam/allocator.ts), run by the executor.
import type { EgressGateway } from "../api/schemas/egress.js";
import { cidrContains, hostCount, parseIp } from "../util/ip.js";
import { usablePools, type IPPoolLike, type UsablePool } from "../ipam/pools.js";
import type { Problem, ProblemReason } from "./actions.js";
import { byReplicaIndex, replicaIndex } from "./replicas.js";
import type { AllocationView, ReplicaView } from "./views.js";

/** The gateway's spec.ipPools as IPAM takes them: each pool's name, else its cidr. */
export const poolRefs = (gw: EgressGateway): string[] =>
  gw.spec.ipPools.flatMap((ref) => {
    const r = ref.name ?? ref.cidr;
    return r === undefined ? [] : [r];
  });

/** Resolves the gateway's pools, checking that a name/cidr pair names one pool. */
export const resolvePools = (
  gw: EgressGateway,
  pools: readonly IPPoolLike[],
): { pools: UsablePool[] } | { problem: Problem } => {
  for (const [i, ref] of gw.spec.ipPools.entries()) {
    if (ref.name !== undefined && ref.cidr !== undefined) {
      const named = pools.find((p) => p.metadata.name === ref.name);
      if (named && named.spec?.cidr !== ref.cidr) {
        return {
          problem: {
            reason: "PoolMismatch",
            message: `spec.ipPools[${i}]: IPPool "${ref.name}" has cidr ${named.spec?.cidr ?? "(none)"}, not ${ref.cidr}; give the pool's name or its cidr`,
          },
        };
      }
    }
  }
  const owner = { namespace: gw.metadata.namespace ?? "", gateway: gw.metadata.name };
  const usable = usablePools(owner, pools, poolRefs(gw));
  if (usable.ok) return { pools: usable.value };
  const code = usable.error.code;
  const reason: ProblemReason =
    code === "PoolNotFound" || code === "PoolNotAllowed" || code === "PoolInvalid" || code === "NoPools"
      ? code
      : "PoolInvalid";
  return { problem: { reason, message: usable.error.message } };
};

export const ipIn = (ip: string, pools: readonly UsablePool[]): boolean => {
  const parsed = parseIp(ip);
  return parsed !== undefined && pools.some((p) => cidrContains(p.cidr, parsed));
};

/** Addresses of the pools not held by any allocation (those in `released` count as free). */
export const freeAddresses = (
  pools: readonly UsablePool[],
  allocations: readonly AllocationView[],
  released: ReadonlySet<string>,
): bigint => {
  let free = 0n;
  for (const p of pools) {
    let taken = 0n;
    for (const a of allocations) {
      if (released.has(a.name)) continue;
      const ip = parseIp(a.ip);
      if (ip !== undefined && cidrContains(p.cidr, ip)) taken += 1n;
    }
    const left = hostCount(p.cidr) - taken;
    if (left > 0n) free += left;
  }
  return free;
};

/** The allocations one gateway holds, by replica. */
export class HeldAllocations {
  readonly all: readonly AllocationView[];

  constructor(
    allocations: readonly AllocationView[],
    private readonly namespace: string,
    private readonly gateway: string,
  ) {
    this.all = allocations.filter((a) => a.owner.namespace === namespace && a.owner.gateway === gateway);
  }

  heldBy(replica: string): AllocationView[] {
    return this.all.filter((a) => a.owner.replica === replica);
  }

  /** The replica's IP is backed by an allocation in its name (else it may be someone else's). */
  backs(r: ReplicaView): boolean {
    return r.egressIP !== undefined && this.heldBy(r.name).some((a) => a.ip === r.egressIP);
  }

  /**
   * Allocations of replica names no pod uses (`usedNames`), still inside the pools: a new replica
   * under that name keeps the IP. In replica index order.
   */
  reusable(usedNames: ReadonlySet<string>, pools: readonly UsablePool[]): AllocationView[] {
    const byIndex = byReplicaIndex(this.gateway);
    return this.all
      .filter(
        (a) => !usedNames.has(a.owner.replica) && replicaIndex(this.gateway, a.owner.replica) !== undefined,
      )
      .filter((a) => ipIn(a.ip, pools))
      .sort((a, b) => byIndex({ name: a.owner.replica }, { name: b.owner.replica }));
  }

  /**
   * Allocations nothing uses or will use: not backing a replica pod, not reused by a create, not
   * already released. Those older than `graceMs` are to be released; for the others, how long
   * until they are.
   */
  unused(o: {
    replicas: readonly ReplicaView[];
    released: ReadonlySet<string>;
    reused: ReadonlySet<string>;
    nowMs: number;
    graceMs: number;
  }): { release: AllocationView[]; waitMs: number[] } {
    const backing = new Set(
      o.replicas.flatMap((r) =>
        this.heldBy(r.name)
          .filter((a) => a.ip === r.egressIP)
          .map((a) => a.name),
      ),
    );
    const release: AllocationView[] = [];
    const waitMs: number[] = [];
    for (const a of this.all) {
      if (o.released.has(a.name) || backing.has(a.name) || o.reused.has(a.owner.replica)) continue;
      const age = a.createdMs === undefined ? Infinity : o.nowMs - a.createdMs;
      if (age >= o.graceMs) release.push(a);
      else waitMs.push(o.graceMs - age);
    }
    return { release, waitMs };
  }
}
