// A NodePlan as this node's kernel will hold it (pure): every gateway set carries the slot
// (fwmark and routing table) slots.ts gave it, and so does every tunnel peer's pin; workloads of
// sets that got no slot are blocked (fail closed); a replica without a pin slot carries its
// connections unpinned; workloads and source addresses this IPv4 dataplane cannot hold are left
// out. Each departure from the plan is returned as one line naming the pod or replica, so it is
// never silent.
import type { GatewaySetPlan, NodePlan, WorkloadPlan } from "../calc/plan.js";
import { MAX_GATEWAY_SETS, markOfSlot, tableOfSlot } from "./band.js";
import { isIpv4 } from "../util/ip.js";
import { validIfname } from "./nft/values.js";
import { assignSlots, pinKey, slotKeysOf, type SlotAssignment } from "./slots.js";

/** A gateway set with its slot: the fwmark its connections carry and the table that routes them. */
export interface SlottedGatewaySet extends GatewaySetPlan {
  mark: number;
  table: number;
}

/**
 * A tunnel peer's pin: connections that went out through the replica get `mark` in conntrack,
 * and `table` routes them via that replica alone.
 */
export interface PinnedPeer {
  replica: string;
  /** The replica's pod IP (the next hop a set's nexthop group chose). */
  ip: string;
  mark: number;
  table: number;
}

/** What the renderer takes: a NodePlan whose gateway sets and tunnel peers have their slots. */
export interface KernelNodePlan extends Omit<NodePlan, "gatewaySets"> {
  /** Sorted by table. */
  gatewaySets: SlottedGatewaySet[];
  /** One per tunnel peer that got a slot, sorted by table. */
  pins: PinnedPeer[];
}

export interface KernelPlan {
  plan: KernelNodePlan;
  /** Where the kernel departs from the NodePlan, one line each (blocked or left-out pods). */
  problems: string[];
}

const podOf = (w: WorkloadPlan): string => `Pod ${w.namespace}/${w.name}`;

/**
 * Parsing an address costs about a microsecond, and every reconcile of a node checks the same few
 * thousand addresses again: the verdicts are remembered (dropped wholesale past a bound).
 */
const IPV4_MEMO_MAX = 50_000;
const ipv4Memo = new Map<string, boolean>();
function knownIpv4(text: string): boolean {
  let known = ipv4Memo.get(text);
  if (known === undefined) {
    if (ipv4Memo.size >= IPV4_MEMO_MAX) ipv4Memo.clear();
    known = isIpv4(text);
    ipv4Memo.set(text, known);
  }
  return known;
}

/** Why the kernel cannot hold this workload at all; undefined when it can. */
function unusable(w: WorkloadPlan): string | undefined {
  if (!knownIpv4(w.ip)) return `status.podIP "${w.ip}" is not an IPv4 address`;
  if (!validIfname(w.hostInterface))
    return `status.hostInterface "${w.hostInterface}" is not a valid interface name (1-15 characters)`;
  return undefined;
}

/** Places `plan` in the kernel with the slots of `assignment`; the NodePlan itself is not changed. */
export function kernelPlanOf(plan: NodePlan, assignment: SlotAssignment): KernelPlan {
  const problems: string[] = [];
  const overflowReason = `node "${plan.node}" needs more than ${MAX_GATEWAY_SETS} distinct gateway sets; egress is blocked for the excess`;
  const overflowCount = new Map<string, number>();
  const workloads: WorkloadPlan[] = [];
  for (const w of plan.workloads) {
    const bad = unusable(w);
    if (bad !== undefined) {
      problems.push(`${podOf(w)}: ${bad}; its traffic is dropped`);
      continue;
    }
    let out = w;
    const extra = w.extraSourceIPs?.filter((ip) => {
      if (knownIpv4(ip)) return true;
      problems.push(`${podOf(w)}: extra source address "${ip}" is not an IPv4 address; left out`);
      return false;
    });
    if (extra !== undefined && extra.length !== w.extraSourceIPs?.length) {
      const { extraSourceIPs: _all, ...rest } = w;
      out = extra.length > 0 ? { ...rest, extraSourceIPs: extra } : rest;
    }
    if (out.gatewaySet !== undefined && !out.blocked && assignment.overflow.has(out.gatewaySet)) {
      overflowCount.set(out.gatewaySet, (overflowCount.get(out.gatewaySet) ?? 0) + 1);
      const { gatewaySet: _set, ...rest } = out;
      out = { ...rest, blocked: { reason: overflowReason } };
    }
    workloads.push(out);
  }
  for (const [key, n] of overflowCount)
    problems.push(
      `gateway set ${key}: no slot left in egw's band; egress of its ${n} workload(s) is blocked`,
    );

  const gatewaySets: SlottedGatewaySet[] = [];
  for (const set of plan.gatewaySets) {
    const slot = assignment.slots.get(set.key);
    if (slot !== undefined) gatewaySets.push({ ...set, mark: markOfSlot(slot), table: tableOfSlot(slot) });
  }
  gatewaySets.sort((a, b) => a.table - b.table);
  // Replicas only the blocked sets route to (or retain) are no tunnel peers of this node.
  const setsOverflow = plan.gatewaySets.some((s) => assignment.overflow.has(s.key));
  const tunnelPeers = setsOverflow ? peersOf(plan, gatewaySets) : plan.tunnelPeers;
  const pins: PinnedPeer[] = [];
  for (const h of tunnelPeers) {
    const slot = assignment.slots.get(pinKey(h.ip));
    if (slot !== undefined)
      pins.push({ replica: h.replica, ip: h.ip, mark: markOfSlot(slot), table: tableOfSlot(slot) });
    else
      problems.push(
        `gateway replica ${h.replica}: no slot left in egw's band to pin its connections; ` +
          `they follow their set's nexthop group (a change of the group moves them)`,
      );
  }
  pins.sort((a, b) => a.table - b.table);
  return { plan: { ...plan, workloads, gatewaySets, tunnelPeers, pins }, problems };
}

function peersOf(plan: NodePlan, sets: readonly SlottedGatewaySet[]): NodePlan["tunnelPeers"] {
  const used = new Set<string>();
  for (const set of sets) {
    for (const route of set.routes)
      if (route.action === "gateways") for (const h of route.hops) used.add(h.ip);
    for (const h of set.retained ?? []) used.add(h.ip);
  }
  return plan.tunnelPeers.filter((h) => used.has(h.ip));
}

/** The plan with the slots a node without earlier assignments gives it (tests, benchmarks). */
export const withFreshSlots = (plan: NodePlan): KernelNodePlan =>
  kernelPlanOf(plan, assignSlots(slotKeysOf(plan), new Map())).plan;
