// Removing what deleted gateways leave behind (I/O): the replica pods and IP allocations of a
// gateway that is gone, and orphans found by a periodic sweep (orphans.ts decides which, and how:
// replicas drain before they go, an IP is released only once no pod holds it).
import type { Datastore } from "../datastore/types.js";
import { IP_ALLOCATION_KIND } from "../ipam/allocator.js";
import type { Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import type { ActionExecutor } from "./execute.js";
import { findOrphans, retireRemains } from "./orphans.js";
import {
  gatewayKey,
  ownerKeyOf,
  parseGatewayKey,
  toAllocationView,
  toReplicaView,
  type AllocationView,
  type ReplicaView,
} from "./views.js";

export interface CleanupContext {
  store: Datastore;
  log: Logger;
  executor: ActionExecutor;
  now: () => number;
}

/** When to look again (the next drain deadline), if anything is still draining. */
export interface CleanupOutcome {
  requeueAfterMs?: number;
}

const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** Drains, deletes and releases what one gone gateway left; failures are errors (retried). */
const retire = async (
  ctx: CleanupContext,
  owner: { namespace: string; name: string },
  replicas: readonly ReplicaView[],
  allocations: readonly AllocationView[],
): Promise<Result<CleanupOutcome, string>> => {
  const decided = retireRemains({ replicas, allocations, nowMs: ctx.now() });
  const problems = await ctx.executor.runFor(owner, decided.actions);
  if (problems.length > 0) return err(problems.map((p) => p.message).join("; "));
  return ok(decided.requeueAfterMs === undefined ? {} : { requeueAfterMs: decided.requeueAfterMs });
};

/** The gateway `namespace/name` is gone: its replicas drain, then go, and its IPs are released. */
export const cleanupGateway = async (
  ctx: CleanupContext,
  namespace: string,
  name: string,
): Promise<Result<CleanupOutcome, string>> => {
  const key = gatewayKey(namespace, name);
  const pods = await ctx.store.list("Pod", { namespace });
  if (!pods.ok) return err(`listing pods of ${namespace}: ${pods.error.message}`);
  const listed = await ctx.store.list(IP_ALLOCATION_KIND);
  if (!listed.ok) return err(`listing IP allocations: ${listed.error.message}`);
  const replicas = pods.value.items.filter((p) => ownerKeyOf(p) === key).map(toReplicaView);
  const allocations = listed.value.items
    .map(toAllocationView)
    .filter((a) => a !== undefined && a.owner.namespace === namespace && a.owner.gateway === name);
  return retire(ctx, { namespace, name }, replicas, allocations as AllocationView[]);
};

/** Replica pods and allocations whose gateway no longer exists (read before the gateways). */
export const collectOrphans = async (ctx: CleanupContext): Promise<Result<CleanupOutcome, string>> => {
  const { store } = ctx;
  const pods = await store.list("Pod");
  if (!pods.ok) return err(`listing pods: ${pods.error.message}`);
  const allocations = await store.list(IP_ALLOCATION_KIND);
  if (!allocations.ok) return err(`listing IP allocations: ${allocations.error.message}`);
  const gateways = await store.list("EgressGateway");
  if (!gateways.ok) return err(`listing EgressGateways: ${gateways.error.message}`);
  const replicaPods = pods.value.items.flatMap((p) => {
    const owner = ownerKeyOf(p);
    return owner === undefined ? [] : [{ pod: p, namespace: p.metadata.namespace ?? "", owner }];
  });
  const orphans = findOrphans({
    gateways: new Set(
      gateways.value.items.map((g) => gatewayKey(g.metadata.namespace ?? "", g.metadata.name)),
    ),
    replicaPods: replicaPods.map((p) => ({
      namespace: p.namespace,
      name: p.pod.metadata.name,
      owner: p.owner,
    })),
    allocations: allocations.value.items.map(toAllocationView).filter((a) => a !== undefined),
  });
  // By gone gateway: its pods (in its own namespace) and its allocations.
  const byOwner = new Map<string, { replicas: ReplicaView[]; allocations: AllocationView[] }>();
  const entry = (key: string) => {
    let e = byOwner.get(key);
    if (e === undefined) byOwner.set(key, (e = { replicas: [], allocations: [] }));
    return e;
  };
  const orphanPods = new Set(orphans.pods.map((p) => `${p.namespace}/${p.name}`));
  for (const p of replicaPods)
    if (orphanPods.has(`${p.namespace}/${p.pod.metadata.name}`))
      entry(p.owner).replicas.push(toReplicaView(p.pod));
  for (const a of orphans.allocations)
    entry(gatewayKey(a.owner.namespace, a.owner.gateway)).allocations.push(a);

  let requeueAfterMs: number | undefined;
  for (const [key, remains] of byOwner) {
    const owner = parseGatewayKey(key);
    if (owner === undefined) continue;
    const r = await retire(ctx, owner, remains.replicas, remains.allocations);
    if (!r.ok) return r;
    requeueAfterMs = earliest(requeueAfterMs, r.value.requeueAfterMs);
  }
  return ok(requeueAfterMs === undefined ? {} : { requeueAfterMs });
};
