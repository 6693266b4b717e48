// The controller's decision for one EgressGateway (pure): from the gateway and what exists
// (pools, nodes, its replica pods, IP allocations) to the actions that move the world towards
// the spec, plus what the status should report. No I/O and no clock: `nowMs` comes in.
//
// Replicas are pods named `<gateway>-<index>`. The IPAM owner of a replica's egress IP is
// {namespace, gateway, pod name}, so a replica keeps its IP across controller restarts and when
// its pod is deleted by hand and recreated under the same name. A replica that is outdated (made
// from another template, its IP left the gateway's pools, its node was cordoned or no longer
// matches the nodeSelector) is replaced in a rolling update: a new replica (new name, new IP) is
// created, and the old one drains once the new one is available (rollout.ts).
//
// The parts: replicas.ts (names, template metadata), placement.ts (nodes), egress-ips.ts (pools,
// free addresses, held allocations), rollout.ts (what to replace when), drain.ts (retiring),
// status.ts (what the status reports).
import { DEFAULTS } from "../api/defaults.js";
import { formatCidr, hostCount } from "../util/ip.js";
import type { UsablePool } from "../ipam/pools.js";
import type { GatewayActions, GatewayActionsInput, Problem, ReplicaAction } from "./actions.js";
import { ANN_GATEWAY_TEMPLATE_HASH } from "../api/well-known.js";
import { drainDeadline, drainGraceMs, drainProgress, servesTraffic } from "./drain.js";
import { freeAddresses, HeldAllocations, ipIn, resolvePools } from "./egress-ips.js";
import { leastLoaded, misplaced, nodeLoad, placement, type Placement } from "./placement.js";
import {
  byReplicaIndex,
  replicaLabels,
  replicaName,
  replicaReady,
  sameStringMap,
  templateAnnotations,
  templateHash,
} from "./replicas.js";
import {
  availability,
  planRollout,
  rollingLimits,
  settleMs,
  type Availability,
  type Outdated,
} from "./rollout.js";
import { replicaStatus } from "./status.js";
import { gatewayKey, type AllocationView, type ReplicaView } from "./views.js";

/** The actions as they are decided, in the order they must run. */
class ActionList {
  /** Releases and deletes: run first, they free capacity. */
  readonly removals: ReplicaAction[] = [];
  readonly drains: ReplicaAction[] = [];
  readonly updates: ReplicaAction[] = [];
  readonly creates: ReplicaAction[] = [];
  /** Allocation names released by these actions. */
  readonly released = new Set<string>();
  /** When to decide again (ms from now), whichever comes first. */
  readonly wakeups: number[] = [];

  constructor(
    private readonly held: HeldAllocations,
    private readonly graceMs: number,
    private readonly nowMs: number,
  ) {}

  /** Deletes the replica's pod and releases what it holds. */
  remove(r: ReplicaView, reason: string): void {
    const release = this.held.heldBy(r.name);
    release.forEach((a) => this.released.add(a.name));
    this.removals.push({ type: "delete", replica: r.name, release, reason });
  }

  /** Drains the replica; deletes it at once without a grace period or when it carries no traffic. */
  retire(r: ReplicaView, reason: string): void {
    if (this.graceMs === 0 || !servesTraffic(r)) return this.remove(r, reason);
    this.drains.push({
      type: "drain",
      replica: r.name,
      started: new Date(this.nowMs).toISOString(),
      deadline: drainDeadline(this.nowMs, this.graceMs),
      reason,
    });
    this.wakeups.push(this.graceMs);
  }

  release(a: AllocationView, reason: string): void {
    this.released.add(a.name);
    this.removals.push({ type: "release", allocation: a, reason });
  }

  all(): ReplicaAction[] {
    return [...this.removals, ...this.drains, ...this.updates, ...this.creates];
  }
}

/** What a serving replica is compared with: the gateway's template and where it may run. */
interface Wanted {
  hash: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  pools: UsablePool[] | undefined;
  placed: Placement;
  cordoned: ReadonlySet<string>;
}

/** Made from the current template: the same hash, or (made before hashes) the same metadata. */
const fromTemplate = (r: ReplicaView, w: Wanted): boolean =>
  r.templateHash !== undefined
    ? r.templateHash === w.hash
    : sameStringMap(r.labels, w.labels) &&
      sameStringMap(r.annotations, { ...r.annotations, ...w.annotations });

/** Why a serving replica must be replaced, or undefined when it is current. */
const outdatedBecause = (r: ReplicaView, w: Wanted): string | undefined => {
  if (w.pools && !ipIn(r.egressIP ?? "", w.pools))
    return `egress IP ${r.egressIP} is no longer in the gateway's IP pools`;
  if (r.node !== undefined && w.cordoned.has(r.node) && w.placed.eligible.length > 0)
    return `node ${r.node} is cordoned`;
  const move = misplaced(r, w.placed);
  if (move !== undefined) return move;
  if (!fromTemplate(r, w)) return "the template changed";
  return undefined;
};

/**
 * Sorts every replica pod: no backed IP or a lost node (delete now), a drain under way (wait or
 * delete), no node to run on (drain now), or serving, current or outdated (the rolling update
 * decides).
 */
const classify = (
  replicas: readonly ReplicaView[],
  o: { held: HeldAllocations; wanted: Wanted; lostNodes: ReadonlyMap<string, string>; nowMs: number },
  acts: ActionList,
): { current: ReplicaView[]; outdated: Outdated[] } => {
  const current: ReplicaView[] = [];
  const outdated: Outdated[] = [];
  for (const r of replicas) {
    const lost = r.node === undefined ? undefined : o.lostNodes.get(r.node);
    if (lost !== undefined) {
      // A lost node cannot drain; its replica has fenced itself (gateway/fence.ts) by now, so the
      // pod goes and its IP returns to the pool at once.
      acts.remove(r, `node ${r.node} is lost: ${lost}`);
      continue;
    }
    if (!o.held.backs(r)) {
      acts.remove(
        r,
        r.egressIP ? `egress IP ${r.egressIP} is not allocated to this replica` : "no egress IP",
      );
      continue;
    }
    if (r.terminating !== undefined) {
      const drain = drainProgress(r.terminating, o.nowMs);
      if (drain.kind === "unreadable") acts.retire(r, `unreadable drain deadline "${r.terminating}"`);
      else if (drain.kind === "finished") acts.remove(r, "drain finished");
      else acts.wakeups.push(drain.remainingMs);
      continue;
    }
    // Without a node it serves nobody: nothing to wait for.
    const nodeless = r.node === undefined || !o.wanted.placed.nodeNames.has(r.node);
    const gone = nodeless ? misplaced(r, o.wanted.placed) : undefined;
    if (gone !== undefined) {
      acts.retire(r, gone);
      continue;
    }
    const why = outdatedBecause(r, o.wanted);
    if (why === undefined) current.push(r);
    else outdated.push({ replica: r, why });
  }
  return { current, outdated };
};

/**
 * Creates the replicas missing to reach `desired`, as far as nodes and free addresses allow:
 * names whose IP is still held first (they keep it), then the lowest free indices. Returns how
 * many were placed and which names reuse a held IP.
 */
const scaleUp = (o: {
  input: GatewayActionsInput;
  held: HeldAllocations;
  pools: UsablePool[];
  placed: Placement;
  serving: readonly ReplicaView[];
  missing: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  graceSeconds: number;
  reason: string;
  acts: ActionList;
}): { placed: number; reused: Set<string> } => {
  const { input, acts } = o;
  const name = input.gateway.metadata.name;
  const namespace = input.gateway.metadata.namespace ?? "";
  const usedNames = new Set([...input.replicas.map((r) => r.name), ...input.otherPodNames]);
  const names: string[] = [];
  for (const a of o.held.reusable(usedNames, o.pools)) {
    if (names.length >= o.missing) break;
    if (!names.includes(a.owner.replica)) names.push(a.owner.replica);
  }
  const reused = new Set(names);
  for (let i = 0; names.length < o.missing; i++) {
    const n = replicaName(name, i);
    if (!usedNames.has(n) && !names.includes(n)) names.push(n);
  }

  let newIPs = freeAddresses(o.pools, input.allocations, acts.released);
  const load = nodeLoad(o.placed, o.serving);
  let placed = 0;
  for (const n of names) {
    if (!reused.has(n)) {
      if (newIPs <= 0n) continue;
      newIPs -= 1n;
    }
    const node = leastLoaded(gatewayKey(namespace, name), load, o.placed.zoneOf);
    load.set(node, (load.get(node) ?? 0) + 1);
    acts.creates.push({
      type: "create",
      replica: n,
      node,
      labels: o.labels,
      annotations: o.annotations,
      graceSeconds: o.graceSeconds,
      reason: reused.has(n) ? `${o.reason} (keeps its allocated IP)` : o.reason,
    });
    placed += 1;
  }
  return { placed, reused };
};

const poolsText = (pools: readonly UsablePool[]): string =>
  pools.map((p) => `IPPool "${p.name}" (${formatCidr(p.cidr)}, ${hostCount(p.cidr)} addresses)`).join(", ");

/** A replacement cannot get an address: the rolling update waits (old replicas keep serving). */
const surgeBlocked = (outdated: readonly Outdated[], pools: readonly UsablePool[]): Problem => ({
  reason: "PoolExhausted",
  message:
    `replacing ${outdated.map((o) => `${o.replica.name} (${o.why})`).join(", ")} waits: ` +
    `no free address for a new replica in ${poolsText(pools)}; free an address, or allow ` +
    "spec.strategy.rollingUpdate.maxUnavailable >= 1 so an old replica drains first",
});

const exhausted = (desired: number, replicas: number, pools: readonly UsablePool[]): Problem => {
  const detail = poolsText(pools);
  return {
    reason: "PoolExhausted",
    message:
      `spec.replicas is ${desired} but only ${replicas} replicas can have an egress IP: ` +
      `no free address left in ${detail}; free addresses in the pool or lower spec.replicas`,
  };
};

export const gatewayActions = (input: GatewayActionsInput): GatewayActions => {
  const { gateway: gw, nowMs } = input;
  const namespace = gw.metadata.namespace ?? "";
  const name = gw.metadata.name;
  const desired = Math.max(0, gw.spec.replicas ?? DEFAULTS.egressGateway.replicas);
  const labels = replicaLabels(gw);
  const annotations = templateAnnotations(gw);

  const problems: Problem[] = [];
  const resolved = resolvePools(gw, input.pools);
  const pools = "pools" in resolved ? resolved.pools : undefined;
  if ("problem" in resolved) problems.push(resolved.problem);
  const lostNodes = new Map(
    input.nodes.flatMap((n) => (n.lost === undefined ? [] : [[n.name, n.lost] as const])),
  );
  const placed = placement(
    gw,
    input.nodes.filter((n) => n.lost === undefined),
    desired,
  );
  if (placed.problem) problems.push(placed.problem);

  const held = new HeldAllocations(input.allocations, namespace, name);
  const graceMs = drainGraceMs(gw);
  const acts = new ActionList(held, graceMs, nowMs);
  const hash = templateHash(gw);
  const wanted: Wanted = {
    hash,
    labels,
    annotations,
    pools,
    placed,
    cordoned: new Set(input.nodes.filter((n) => n.unschedulable).map((n) => n.name)),
  };

  // 1. Classify every replica pod.
  const replicas = [...input.replicas].sort(byReplicaIndex(name));
  const { current, outdated } = classify(replicas, { held, wanted, lostNodes, nowMs }, acts);

  // 2. Scale down and replace outdated replicas, within the rolling update's limits.
  const settle = settleMs(gw);
  const availabilityOf = (r: ReplicaView): Availability => {
    const a = availability(r, nowMs, settle);
    if (a.inMs !== undefined) acts.wakeups.push(a.inMs);
    return a.state;
  };
  const rollout = planRollout({ desired, limits: rollingLimits(gw), current, outdated, availabilityOf });
  for (const o of rollout.retire) acts.retire(o.replica, o.why);
  const serving = [...rollout.current, ...rollout.outdated];

  // 3. Current replicas made before template hashes get theirs (their metadata already match).
  for (const r of rollout.current) {
    if (r.templateHash !== hash) {
      acts.updates.push({
        type: "update-metadata",
        replica: r.name,
        labels,
        annotations: { ...annotations, [ANN_GATEWAY_TEMPLATE_HASH]: hash },
        reason: "records its template hash",
      });
    }
  }

  // 4. Create replicas (scale up, or replacements), as far as nodes and free addresses allow.
  const missing = rollout.create;
  let reused = new Set<string>();
  if (missing > 0 && pools && placed.eligible.length > 0) {
    const replacing = rollout.outdated.length > 0;
    const up = scaleUp({
      input,
      held,
      pools,
      placed,
      serving,
      missing,
      labels,
      annotations: { ...annotations, [ANN_GATEWAY_TEMPLATE_HASH]: hash },
      graceSeconds: graceMs / 1000,
      reason: replacing ? "rolling update" : "scale up",
      acts,
    });
    reused = up.reused;
    if (up.placed < missing) {
      const left = outdated.filter((o) => rollout.outdated.includes(o.replica));
      problems.push(
        replacing ? surgeBlocked(left, pools) : exhausted(desired, serving.length + up.placed, pools),
      );
    }
  }

  // 5. Allocations no replica uses (nor will use) are released once past their grace period.
  const unused = held.unused({
    replicas: input.replicas,
    released: acts.released,
    reused,
    nowMs,
    graceMs: input.unbackedGraceMs,
  });
  for (const a of unused.release) acts.release(a, `no replica pod ${a.owner.replica} uses ${a.ip}`);
  acts.wakeups.push(...unused.waitMs);

  const out: GatewayActions = {
    actions: acts.all(),
    replicas: replicas.map(replicaStatus),
    desired,
    live: serving.length,
    ready: serving.filter(replicaReady).length,
    outdated: rollout.outdated.length,
    problems,
  };
  if (acts.wakeups.length > 0) out.requeueAfterMs = Math.max(0, Math.min(...acts.wakeups));
  return out;
};
