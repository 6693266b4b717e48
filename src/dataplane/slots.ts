// Gives every gateway set of a node a slot of egw's band (band.ts: one fwmark and one routing
// table per slot) and keeps it for as long as the set exists, so established connections, whose
// conntrack mark names the slot, keep their table from one reconcile to the next (Felix's idalloc
// does this for its route tables). Every tunnel peer of the node gets a slot too, its *pin*
// (key `pin <replica IP>`): established connections through that replica carry the pin's mark and
// keep their replica whatever happens to the sets' nexthop groups. A process knows nothing of
// what an earlier one assigned: on its first assignment it adopts the slots the kernel already
// steers the plan's workloads with and pins its connections with. Reading the kernel is the
// caller's job (it passes a reader); the rules of assignment are pure.
import type { NodePlan, WorkloadPlan } from "../calc/plan.js";
import { compareStrings } from "../util/compare.js";
import { err, ok, type Result } from "../util/result.js";
import { MAX_GATEWAY_SETS } from "./band.js";

/** The slot key of the pin of the replica with pod IP `ip`. */
export const pinKey = (ip: string): string => `pin ${ip}`;
const PIN_PREFIX = "pin ";
/** Gateway-set keys start with a destination CIDR, so they never look like pin keys. */
const isPinKey = (key: string): boolean => key.startsWith(PIN_PREFIX);

/** New keys in the order they get slots: gateway sets before pins (a set without a slot blocks
 * its workloads, a replica without a pin only loses pinning), then by key. */
const slotOrder = (a: string, b: string): number =>
  Number(isPinKey(a)) - Number(isPinKey(b)) || compareStrings(a, b);

export interface SlotAssignment {
  /** Gateway-set key or pin key (pinKey) → slot (1..MAX_GATEWAY_SETS). */
  slots: Map<string, number>;
  /** Keys that got no slot because the band is full; their workloads must be blocked. */
  overflow: Set<string>;
}

const validSlot = (slot: number): boolean => Number.isInteger(slot) && slot >= 1 && slot <= MAX_GATEWAY_SETS;

/**
 * Gives every key a slot: the one it holds in `held` when still valid, else its `preferred` slot
 * when valid and free, otherwise the lowest free one (new keys in sorted order, so the result is
 * deterministic). Keys that do not fit are returned in `overflow`.
 */
export function assignSlots(
  keys: readonly string[],
  held: ReadonlyMap<string, number>,
  preferred: ReadonlyMap<string, number> = new Map(),
): SlotAssignment {
  const wanted = new Set(keys);
  const slots = new Map<string, number>();
  const used = new Set<number>();
  const take = (key: string, slot: number): void => {
    if (!wanted.has(key) || slots.has(key) || used.has(slot) || !validSlot(slot)) return;
    slots.set(key, slot);
    used.add(slot);
  };
  for (const [key, slot] of held) take(key, slot);
  for (const [key, slot] of preferred) take(key, slot);
  const overflow = new Set<string>();
  let next = 1;
  for (const key of [...wanted].filter((k) => !slots.has(k)).sort(slotOrder)) {
    while (used.has(next)) next++;
    if (next > MAX_GATEWAY_SETS) {
      overflow.add(key);
      continue;
    }
    slots.set(key, next);
    used.add(next);
  }
  return { slots, overflow };
}

/**
 * key → the slot its workloads already use in the kernel (`kernelSlots`: workload IP → slot).
 * A set whose workloads disagree takes the slot most of them use (ties: lowest slot); a slot
 * claimed by several sets goes to the one with the most workloads in it (ties: lowest key), so
 * the fewest established connections change table.
 */
export function preferredSlots(
  workloads: readonly Pick<WorkloadPlan, "ip" | "gatewaySet">[],
  kernelSlots: ReadonlyMap<string, number>,
): Map<string, number> {
  const votes = new Map<string, { key: string; slot: number; count: number }>();
  for (const w of workloads) {
    const slot = kernelSlots.get(w.ip);
    if (w.gatewaySet === undefined || slot === undefined || !validSlot(slot)) continue;
    const id = `${slot} ${w.gatewaySet}`;
    const vote = votes.get(id) ?? { key: w.gatewaySet, slot, count: 0 };
    vote.count++;
    votes.set(id, vote);
  }
  const ranked = [...votes.values()].sort(
    (a, b) => b.count - a.count || a.slot - b.slot || compareStrings(a.key, b.key),
  );
  const preferred = new Map<string, number>();
  const taken = new Set<number>();
  for (const { key, slot } of ranked) {
    if (preferred.has(key) || taken.has(slot)) continue;
    preferred.set(key, slot);
    taken.add(slot);
  }
  return preferred;
}

/** What the kernel's nft table says about slots (both empty on a fresh node). */
export interface KernelSlots {
  /** Workload IP → the slot the kernel steers its new connections with. */
  workloads: Map<string, number>;
  /** Replica IP → the slot of its pin (the mark its pinned connections carry). */
  pins: Map<string, number>;
}

export type KernelSlotReader = () => Promise<Result<KernelSlots, string>>;

/** The keys a plan needs slots for: its gateway sets, and a pin per tunnel peer. */
export const slotKeysOf = (plan: Pick<NodePlan, "gatewaySets" | "tunnelPeers">): string[] => [
  ...plan.gatewaySets.map((s) => s.key),
  ...plan.tunnelPeers.map((h) => pinKey(h.ip)),
];

/**
 * Slots the kernel already gives the plan's keys: the sets' from their workloads (preferredSlots),
 * then the pins' from the kernel's pin map, where the slot is not a set's already.
 */
export function kernelPreferredSlots(
  plan: Pick<NodePlan, "workloads" | "tunnelPeers">,
  kernel: KernelSlots,
): Map<string, number> {
  const preferred = preferredSlots(plan.workloads, kernel.workloads);
  const taken = new Set(preferred.values());
  for (const h of plan.tunnelPeers) {
    const slot = kernel.pins.get(h.ip);
    if (slot === undefined || !validSlot(slot) || taken.has(slot)) continue;
    preferred.set(pinKey(h.ip), slot);
    taken.add(slot);
  }
  return preferred;
}

/** The slots of one node's gateway sets, kept across reconciles. */
export class GatewaySetSlots {
  private held = new Map<string, number>();
  /** Read back from the kernel once; the first assignment prefers it, later ones keep `held`. */
  private kernel: KernelSlots | undefined;
  private kernelRead = false;

  constructor(private readonly readKernel: KernelSlotReader) {}

  /** What `assign(plan)` would give now, without keeping it (reads the kernel if not done yet). */
  async preview(plan: NodePlan): Promise<Result<SlotAssignment, string>> {
    const read = await this.readKernelOnce();
    return read.ok ? ok(this.compute(plan)) : read;
  }

  /** Slots for the plan's gateway sets and pins, kept from now on; slots of keys that are gone are freed. */
  async assign(plan: NodePlan): Promise<Result<SlotAssignment, string>> {
    const read = await this.readKernelOnce();
    if (!read.ok) return read;
    const assignment = this.compute(plan);
    this.held = assignment.slots;
    this.kernel = undefined;
    return ok(assignment);
  }

  private compute(plan: NodePlan): SlotAssignment {
    const preferred = this.kernel === undefined ? undefined : kernelPreferredSlots(plan, this.kernel);
    return assignSlots(slotKeysOf(plan), this.held, preferred);
  }

  private async readKernelOnce(): Promise<Result<void, string>> {
    if (this.kernelRead) return ok(undefined);
    // Guessing fresh slots could move established connections to another set's table: a failed
    // read fails the caller, and the next call reads again.
    const read = await this.readKernel();
    if (!read.ok) return err(`reading the gateway-set slots the kernel uses failed: ${read.error}`);
    this.kernel = read.value;
    this.kernelRead = true;
    return ok(undefined);
  }
}
