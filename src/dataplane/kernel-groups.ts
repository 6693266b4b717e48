// The gateway nexthop groups a node's kernel routes through today, as plain data (pure): a
// restarted agent compares them with its first plan so replicas the kernel was not using stay
// out until they are polled healthy (agent/health-seed.ts).
import type { ObservedNexthop, ObservedRoute } from "./model.js";

/** One route of an egw table that goes through a nexthop group, with the group's gateway IPs. */
export interface KernelGatewayGroup {
  table: number;
  /** Canonical destination CIDR (`0.0.0.0/0` for default). */
  dst: string;
  /** Gateway IPs of the group's members, sorted. */
  hops: string[];
}

/** Routes (of egw's tables) that use a nexthop group → the group's member gateway IPs. */
export function gatewayGroupsOf(
  routes: readonly ObservedRoute[],
  nexthops: readonly ObservedNexthop[],
): KernelGatewayGroup[] {
  const byId = new Map(nexthops.map((n) => [n.id, n]));
  const out: KernelGatewayGroup[] = [];
  for (const r of routes) {
    const group = r.nhid === undefined ? undefined : byId.get(r.nhid)?.group;
    if (group === undefined) continue;
    const hops = group.flatMap((id) => {
      const ip = byId.get(id)?.gateway;
      return ip === undefined ? [] : [ip];
    });
    out.push({ table: r.table, dst: r.dst, hops: [...new Set(hops)].sort() });
  }
  return out.sort((a, b) => a.table - b.table || (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}
