// Pure diffs from desired to observed kernel state, as `ip -batch` / `bridge -batch` lines.
// Additions and replacements come first ("add" phase: before the nft marks point at them);
// deletions of stale objects in egw's bands come last ("remove" phase: after nothing uses them).
// Objects that already match produce no line, so a reconcile of an unchanged plan is a no-op.
import { NEXTHOP_ID_FIRST, NEXTHOP_ID_LAST, inNexthopBand } from "./config.js";
import type {
  DesiredGroup,
  DesiredRule,
  DesiredTableRoute,
  ObservedFdb,
  ObservedNeighbour,
  ObservedNexthop,
  ObservedRoute,
  ObservedRule,
  TunnelPeer,
} from "./model.js";
import { hex } from "./nft/text.js";

export interface Changes {
  ipAdd: string[];
  bridgeAdd: string[];
  ipRemove: string[];
  bridgeRemove: string[];
}

export const emptyChanges = (): Changes => ({ ipAdd: [], bridgeAdd: [], ipRemove: [], bridgeRemove: [] });
export const countChanges = (c: Changes): number =>
  c.ipAdd.length + c.bridgeAdd.length + c.ipRemove.length + c.bridgeRemove.length;
export const mergeChanges = (a: Changes, b: Changes): Changes => ({
  ipAdd: [...a.ipAdd, ...b.ipAdd],
  bridgeAdd: [...a.bridgeAdd, ...b.bridgeAdd],
  ipRemove: [...a.ipRemove, ...b.ipRemove],
  bridgeRemove: [...a.bridgeRemove, ...b.bridgeRemove],
});

/** Permanent neighbours and FDB entries of a device egw owns entirely (the VXLAN device). */
export function diffPeers(
  dev: string,
  peers: readonly TunnelPeer[],
  neighbours: readonly ObservedNeighbour[],
  fdb: readonly ObservedFdb[],
): Changes {
  const c = emptyChanges();
  const wantNeigh = new Map(peers.map((p) => [p.ip, p.mac]));
  const wantFdb = new Map(peers.map((p) => [p.mac, p.vtep]));
  const haveNeigh = new Map(neighbours.map((n) => [n.ip, n]));
  for (const p of peers) {
    const n = haveNeigh.get(p.ip);
    if (!n || !n.permanent || n.mac !== p.mac)
      c.ipAdd.push(`neigh replace ${p.ip} lladdr ${p.mac} dev ${dev} nud permanent`);
  }
  for (const [mac, vtep] of wantFdb) {
    const entries = fdb.filter((f) => f.mac === mac);
    if (!entries.some((f) => f.dst === vtep)) c.bridgeAdd.push(`fdb replace ${mac} dev ${dev} dst ${vtep}`);
    for (const f of entries)
      if (f.dst !== undefined && f.dst !== vtep)
        c.bridgeRemove.push(`fdb del ${mac} dev ${dev} dst ${f.dst}`);
  }
  for (const n of neighbours)
    if (n.permanent && !wantNeigh.has(n.ip)) c.ipRemove.push(`neigh del ${n.ip} dev ${dev}`);
  for (const f of fdb)
    if (!wantFdb.has(f.mac))
      c.bridgeRemove.push(`fdb del ${f.mac} dev ${dev}${f.dst ? ` dst ${f.dst}` : ""}`);
  return c;
}

export interface RoutingDesired {
  device: string;
  groups: readonly DesiredGroup[];
  routes: readonly DesiredTableRoute[];
  rules: readonly DesiredRule[];
  buckets: number;
  idleTimerSec: number;
}

export interface RoutingObserved {
  /** Every nexthop of the netns (ids outside the band are only avoided, never changed). */
  nexthops: readonly ObservedNexthop[];
  /** Routes of egw's tables only. */
  routes: readonly ObservedRoute[];
  /** Rules at egw's priorities only. */
  rules: readonly ObservedRule[];
}

const routeKey = (table: number, dst: string): string => `${table} ${dst}`;
interface RuleFields {
  priority: number;
  from: string;
  mark?: number;
  mask?: number;
  ipproto?: string;
  sport?: number | string;
  dport?: number | string;
  table?: number;
}
const ruleKey = (r: RuleFields): string =>
  `${r.priority} ${r.from} ${r.mark ?? "-"}/${r.mask ?? "-"} ${r.ipproto ?? "-"} ` +
  `${r.sport ?? "-"}>${r.dport ?? "-"} ${r.table ?? "-"}`;
const observedRuleFields = (r: ObservedRule): RuleFields => ({ ...r, mark: r.fwmark, mask: r.fwmask });

/** The selector of a rule as `ip rule` takes it (after `rule add` / `rule del priority N`). */
function ruleSelectorText(r: RuleFields): string {
  let text = `from ${r.from}`;
  if (r.mark !== undefined) text += ` fwmark ${hex(r.mark)}${r.mask === undefined ? "" : `/${hex(r.mask)}`}`;
  if (r.ipproto !== undefined) text += ` ipproto ${r.ipproto}`;
  if (r.sport !== undefined) text += ` sport ${r.sport}`;
  if (r.dport !== undefined) text += ` dport ${r.dport}`;
  return text;
}

function idAllocator(used: Iterable<number>): () => number | undefined {
  const taken = new Set(used);
  let next = NEXTHOP_ID_FIRST;
  return () => {
    while (next <= NEXTHOP_ID_LAST && taken.has(next)) next++;
    if (next > NEXTHOP_ID_LAST) return undefined;
    taken.add(next);
    return next++;
  };
}

/**
 * Nexthops, routes and rules. Kernel ids are adopted where the kernel already has a matching
 * object — a hop by its gateway IP, a group by the route that uses it — so a restart keeps the
 * very same resilient groups (and their bucket assignment) instead of rebuilding them.
 */
export function diffRouting(d: RoutingDesired, o: RoutingObserved): { changes: Changes; problems: string[] } {
  const c = emptyChanges();
  const problems: string[] = [];
  const allocate = idAllocator(o.nexthops.map((n) => n.id));
  const ours = o.nexthops.filter((n) => inNexthopBand(n.id));
  const byId = new Map(ours.map((n) => [n.id, n]));

  // Hops: one nexthop per gateway IP over the device.
  const hopId = new Map<string, number>();
  for (const n of ours)
    if (
      n.group === undefined &&
      n.gateway !== undefined &&
      n.dev === d.device &&
      n.onlink &&
      !hopId.has(n.gateway)
    )
      hopId.set(n.gateway, n.id);
  const wantedHops = [...new Set(d.groups.flatMap((g) => g.hops))].sort();
  const usedIds = new Set<number>();
  for (const ip of wantedHops) {
    let id = hopId.get(ip);
    if (id === undefined) {
      id = allocate();
      if (id === undefined) {
        problems.push(`no free nexthop id left in egw's band for gateway ${ip}`);
        continue;
      }
      hopId.set(ip, id);
      c.ipAdd.push(`nexthop replace id ${id} via ${ip} dev ${d.device} onlink`);
    }
    usedIds.add(id);
  }

  // Groups: adopt the group the existing route points at when it is a compatible resilient group.
  const observedRoute = new Map(o.routes.map((r) => [routeKey(r.table, r.dst), r]));
  const groupId = new Map<string, number>();
  for (const r of d.routes) {
    if (r.kind !== "group") continue;
    const g = d.groups.find((x) => x.key === r.group);
    if (!g) continue;
    const members = g.hops.map((h) => hopId.get(h)).filter((x): x is number => x !== undefined);
    if (members.length === 0) continue;
    const adoptedId = observedRoute.get(routeKey(r.table, r.dst))?.nhid;
    const adopted = adoptedId === undefined ? undefined : byId.get(adoptedId);
    const compatible =
      adopted?.resilient !== undefined && adopted.resilient.buckets === d.buckets && !usedIds.has(adopted.id);
    const id = compatible ? adopted.id : allocate();
    if (id === undefined) {
      problems.push(`no free nexthop id left in egw's band for table ${r.table} ${r.dst}`);
      continue;
    }
    usedIds.add(id);
    groupId.set(g.key, id);
    const same =
      compatible &&
      adopted.resilient?.idleTimer === d.idleTimerSec &&
      [...(adopted.group ?? [])].sort().join("/") === [...members].sort().join("/");
    if (!same)
      c.ipAdd.push(
        `nexthop replace id ${id} group ${members.join("/")} type resilient buckets ${d.buckets} idle_timer ${d.idleTimerSec}`,
      );
  }

  // Routes of egw's tables.
  const wantedRoutes = new Set<string>();
  for (const r of d.routes) {
    const key = routeKey(r.table, r.dst);
    const have = observedRoute.get(key);
    if (r.kind === "group") {
      const id = groupId.get(r.group);
      if (id === undefined) continue; // problem already reported; no route means lookup falls through
      wantedRoutes.add(key);
      if (have?.type !== "unicast" || have.nhid !== id)
        c.ipAdd.push(`route replace table ${r.table} ${r.dst} nhid ${id}`);
    } else if (r.kind === "via") {
      wantedRoutes.add(key);
      const same =
        have?.type === "unicast" &&
        have.nhid === undefined &&
        have.gateway === r.gateway &&
        have.dev === d.device &&
        have.onlink === true;
      if (!same)
        c.ipAdd.push(`route replace table ${r.table} ${r.dst} via ${r.gateway} dev ${d.device} onlink`);
    } else {
      wantedRoutes.add(key);
      if (have?.type !== r.kind) c.ipAdd.push(`route replace table ${r.table} ${r.kind} ${r.dst}`);
    }
  }

  // Rules at egw's priorities.
  const haveRules = new Set(o.rules.map((r) => ruleKey(observedRuleFields(r))));
  const wantRules = new Set(d.rules.map(ruleKey));
  for (const r of d.rules)
    if (!haveRules.has(ruleKey(r)))
      c.ipAdd.push(`rule add ${ruleSelectorText(r)} lookup ${r.table} priority ${r.priority}`);

  // Removals: rules, then routes, then groups, then hops (nothing removed is still referenced).
  for (const r of o.rules) {
    const fields = observedRuleFields(r);
    if (wantRules.has(ruleKey(fields))) continue;
    const table = r.table === undefined ? "" : ` lookup ${r.table}`;
    c.ipRemove.push(`rule del priority ${r.priority} ${ruleSelectorText(fields)}${table}`);
  }
  for (const r of o.routes)
    if (!wantedRoutes.has(routeKey(r.table, r.dst)))
      c.ipRemove.push(`route del table ${r.table} ${r.type === "unicast" ? "" : `${r.type} `}${r.dst}`);
  const staleGroups = ours.filter((n) => n.group !== undefined && !usedIds.has(n.id));
  const staleHops = ours.filter((n) => n.group === undefined && !usedIds.has(n.id));
  for (const n of [...staleGroups, ...staleHops]) c.ipRemove.push(`nexthop del id ${n.id}`);
  return { changes: c, problems };
}
