// The gateway nexthop groups a node's kernel routes through today, as plain data (pure): read
// back by table, then named by the gateway set whose slot holds that table, so a restarted agent
// can compare them with its first plan without knowing table numbers (agent/health-seed.ts) and
// keep replicas the kernel was not using out until they are polled healthy.
import { compareStrings } from "../util/compare.js";
import { slotOfTable } from "./band.js";
import type { ObservedNexthop, ObservedRoute } from "./model.js";

/** One route of an egw table that goes through a nexthop group, with the group's gateway IPs. */
export interface TableGatewayGroup {
  table: number;
  /** Canonical destination CIDR (`0.0.0.0/0` for default). */
  dst: string;
  /** Gateway IPs of the group's members, sorted. */
  hops: string[];
}

/** A kernel gateway group by the gateway set (key) and destination it routes. */
export interface KernelGatewayGroup {
  gatewaySet: string;
  /** Canonical destination CIDR (`0.0.0.0/0` for default). */
  dst: string;
  /** Gateway IPs of the group's members, sorted. */
  hops: string[];
  /** The kernel table it is in, for messages only. */
  table: number;
}

/** Routes (of egw's tables) that use a nexthop group → the group's member gateway IPs. */
export function gatewayGroupsOf(
  routes: readonly ObservedRoute[],
  nexthops: readonly ObservedNexthop[],
): TableGatewayGroup[] {
  const byId = new Map(nexthops.map((n) => [n.id, n]));
  const out: TableGatewayGroup[] = [];
  for (const r of routes) {
    const group = r.nhid === undefined ? undefined : byId.get(r.nhid)?.group;
    if (group === undefined) continue;
    const hops = group.flatMap((id) => {
      const ip = byId.get(id)?.gateway;
      return ip === undefined ? [] : [ip];
    });
    out.push({ table: r.table, dst: r.dst, hops: [...new Set(hops)].sort() });
  }
  return out.sort((a, b) => a.table - b.table || compareStrings(a.dst, b.dst));
}

/**
 * Names each group by the gateway set whose slot is its table (`slots`: key → slot). Groups in
 * tables no set of the plan holds are left out: they route nothing the plan cares about.
 */
export function groupsBySet(
  groups: readonly TableGatewayGroup[],
  slots: ReadonlyMap<string, number>,
): KernelGatewayGroup[] {
  const keyOfSlot = new Map([...slots].map(([key, slot]) => [slot, key]));
  return groups.flatMap((g) => {
    const slot = slotOfTable(g.table);
    const key = slot === undefined ? undefined : keyOfSlot.get(slot);
    return key === undefined ? [] : [{ gatewaySet: key, dst: g.dst, hops: [...g.hops], table: g.table }];
  });
}
