// Removing what deleted gateways leave behind (I/O): the replica pods and IP allocations of a
// gateway that is gone, and orphans found by a periodic sweep (orphans.ts decides which).
import type { Datastore } from "../datastore/types.js";
import { IP_ALLOCATION_KIND, releaseAll } from "../ipam/allocator.js";
import type { Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import { releaseAllocation } from "./execute.js";
import { findOrphans } from "./orphans.js";
import { gatewayKey, ownerKeyOf, toAllocationView } from "./views.js";

const deletePod = async (
  store: Datastore,
  namespace: string,
  name: string,
): Promise<Result<void, string>> => {
  const gone = await store.delete({ kind: "Pod", namespace, name });
  if (!gone.ok && gone.error.code !== "NotFound") return err(`deleting pod ${name}: ${gone.error.message}`);
  return ok(undefined);
};

/** The gateway is gone: its replica pods go at once and every IP it held is released. */
export const cleanupGateway = async (
  store: Datastore,
  log: Logger,
  namespace: string,
  name: string,
): Promise<Result<void, string>> => {
  const key = gatewayKey(namespace, name);
  const pods = await store.list("Pod", { namespace });
  if (!pods.ok) return err(`listing pods of ${namespace}: ${pods.error.message}`);
  for (const p of pods.value.items.filter((x) => ownerKeyOf(x) === key)) {
    const gone = await deletePod(store, namespace, p.metadata.name);
    if (!gone.ok) return gone;
    log.info("deleted replica of deleted gateway", { gateway: key, replica: p.metadata.name });
  }
  const released = await releaseAll(store, { namespace, gateway: name });
  if (!released.ok) return err(released.error.message);
  if (released.value.length > 0)
    log.info("released IPs of deleted gateway", { gateway: key, ips: released.value });
  return ok(undefined);
};

/** Replica pods and allocations whose gateway no longer exists (read before the gateways). */
export const collectOrphans = async (store: Datastore, log: Logger): Promise<Result<void, string>> => {
  const pods = await store.list("Pod");
  if (!pods.ok) return err(`listing pods: ${pods.error.message}`);
  const allocations = await store.list(IP_ALLOCATION_KIND);
  if (!allocations.ok) return err(`listing IP allocations: ${allocations.error.message}`);
  const gateways = await store.list("EgressGateway");
  if (!gateways.ok) return err(`listing EgressGateways: ${gateways.error.message}`);
  const orphans = findOrphans({
    gateways: new Set(
      gateways.value.items.map((g) => gatewayKey(g.metadata.namespace ?? "", g.metadata.name)),
    ),
    replicaPods: pods.value.items.flatMap((p) => {
      const owner = ownerKeyOf(p);
      return owner === undefined
        ? []
        : [{ namespace: p.metadata.namespace ?? "", name: p.metadata.name, owner }];
    }),
    allocations: allocations.value.items.map(toAllocationView).filter((a) => a !== undefined),
  });
  for (const p of orphans.pods) {
    const gone = await deletePod(store, p.namespace, p.name);
    if (!gone.ok) return gone;
    log.info("deleted orphan replica", { gateway: p.owner, replica: `${p.namespace}/${p.name}` });
  }
  for (const a of orphans.allocations) {
    const r = await releaseAllocation(store, a);
    if (!r.ok) return r;
    log.info("released orphan IP", { gateway: gatewayKey(a.owner.namespace, a.owner.gateway), ip: a.ip });
  }
  return ok(undefined);
};
