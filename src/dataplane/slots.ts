// Gives every gateway set of a node a slot of egw's band (band.ts: one fwmark and one routing
// table per slot) and keeps it for as long as the set exists, so established connections, whose
// conntrack mark names the slot, keep their table from one reconcile to the next (Felix's idalloc
// does this for its route tables). A process knows nothing of what an earlier one assigned: on its
// first assignment it adopts the slots the kernel already steers the plan's workloads with.
// Reading the kernel is the caller's job (it passes a reader); the rules of assignment are pure.
import type { NodePlan, WorkloadPlan } from "../calc/plan.js";
import { compareStrings } from "../util/compare.js";
import { err, ok, type Result } from "../util/result.js";
import { MAX_GATEWAY_SETS } from "./band.js";

export interface SlotAssignment {
  /** Gateway-set key → slot (1..MAX_GATEWAY_SETS). */
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
  for (const key of [...wanted].filter((k) => !slots.has(k)).sort(compareStrings)) {
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

/** Workload IP → the slot the kernel steers it with now (empty on a fresh node). */
export type KernelSlotReader = () => Promise<Result<Map<string, number>, string>>;

/** The slots of one node's gateway sets, kept across reconciles. */
export class GatewaySetSlots {
  private held = new Map<string, number>();
  /** Read back from the kernel once; the first assignment prefers it, later ones keep `held`. */
  private kernel: ReadonlyMap<string, number> | undefined;
  private kernelRead = false;

  constructor(private readonly readKernel: KernelSlotReader) {}

  /** What `assign(plan)` would give now, without keeping it (reads the kernel if not done yet). */
  async preview(plan: NodePlan): Promise<Result<SlotAssignment, string>> {
    const read = await this.readKernelOnce();
    return read.ok ? ok(this.compute(plan)) : read;
  }

  /** Slots for the plan's gateway sets, kept from now on; slots of sets that are gone are freed. */
  async assign(plan: NodePlan): Promise<Result<SlotAssignment, string>> {
    const read = await this.readKernelOnce();
    if (!read.ok) return read;
    const assignment = this.compute(plan);
    this.held = assignment.slots;
    this.kernel = undefined;
    return ok(assignment);
  }

  private compute(plan: NodePlan): SlotAssignment {
    const keys = plan.gatewaySets.map((s) => s.key);
    const preferred = this.kernel === undefined ? undefined : preferredSlots(plan.workloads, this.kernel);
    return assignSlots(keys, this.held, preferred);
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
