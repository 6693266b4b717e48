// The gateway planner (pure): from one EgressGateway and what exists (pools, nodes, its replica
// pods, IP allocations) to the actions that move the world towards the spec, plus what the
// status should report. No I/O and no clock: `nowMs` comes in.
//
// Replicas are pods named `<gateway>-<index>`. The IPAM owner of a replica's egress IP is
// {namespace, gateway, pod name}, so a replica keeps its IP across controller restarts and when
// its pod is deleted by hand and recreated under the same name. A replica that must move (its IP
// left the gateway's pools, its node no longer matches the nodeSelector) is replaced: a new
// replica (new name, new IP) is created and the old one drains.
import { createHash } from "node:crypto";
import type { EgressGateway } from "../api/schemas/egress.js";
import {
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
  LABEL_GATEWAY,
} from "../api/well-known.js";
import { DEFAULTS } from "../api/defaults.js";
import { cidrContains, formatCidr, hostCount, parseIp } from "../ipam/ip-math.js";
import { usablePools, type IPPoolLike, type UsablePool } from "../ipam/pools.js";
import { gatewayKey, type AllocationView, type NodeView, type ReplicaView } from "./views.js";

export interface GatewayPlanInput {
  /** The gateway, schema-valid with defaults applied (validateResource). */
  gateway: EgressGateway;
  /** Every IPPool. */
  pools: readonly IPPoolLike[];
  /** Every Node. */
  nodes: readonly NodeView[];
  /** Pods of the gateway's namespace that carry its owner annotation. */
  replicas: readonly ReplicaView[];
  /** Names of the other pods of the namespace: a replica must not take one of them. */
  otherPodNames: ReadonlySet<string>;
  /** Every IP allocation in the cluster (free capacity depends on all of them). */
  allocations: readonly AllocationView[];
  nowMs: number;
  /**
   * An allocation whose replica pod does not exist is released only when older than this: another
   * controller may be between allocating the IP and creating the pod.
   */
  unbackedGraceMs: number;
}

export type PlanAction =
  | {
      type: "create";
      replica: string;
      node: string;
      labels: Record<string, string>;
      /** Template annotations; the controller adds the owner and egress-IP annotations. */
      annotations: Record<string, string>;
      reason: string;
    }
  | { type: "drain"; replica: string; deadline: string; reason: string }
  | { type: "delete"; replica: string; release: AllocationView[]; reason: string }
  | {
      type: "update-metadata";
      replica: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      reason: string;
    }
  | { type: "release"; allocation: AllocationView; reason: string };

export type ProblemReason =
  | "InvalidSpec"
  | "NoPools"
  | "PoolNotFound"
  | "PoolNotAllowed"
  | "PoolInvalid"
  | "PoolMismatch"
  | "PoolExhausted"
  | "NoMatchingNode"
  | "ActionFailed";

export interface Problem {
  reason: ProblemReason;
  message: string;
}

export interface ReplicaStatus {
  name: string;
  node?: string;
  egressIP?: string;
  ready: boolean;
}

export interface GatewayPlan {
  actions: PlanAction[];
  /** Every replica pod as it is now (terminating ones included, not ready). */
  replicas: ReplicaStatus[];
  desired: number;
  /** Replicas that serve (not draining, with a valid IP and placement). */
  live: number;
  /** Live replicas that are ready. */
  ready: number;
  problems: Problem[];
  /** Plan again after this long (a drain deadline, an allocation's grace period). */
  requeueAfterMs?: number;
}

/** Serving traffic: running, addressed, not draining, and its gateway process reports Ready. */
const replicaReady = (r: ReplicaView): boolean =>
  r.phase === "Running" && r.podIP !== undefined && r.terminating === undefined && r.podReady === true;

/** `<gateway>-<n>` → n (decimal, no leading zeros); undefined for any other name. */
export const replicaIndex = (gateway: string, pod: string): number | undefined => {
  if (!pod.startsWith(`${gateway}-`)) return undefined;
  const rest = pod.slice(gateway.length + 1);
  if (!/^(0|[1-9][0-9]{0,8})$/.test(rest)) return undefined;
  return Number(rest);
};

const replicaName = (gateway: string, index: number): string => `${gateway}-${index}`;

/** The labels the gateway's replicas carry (template.metadata.labels, default egw.dev/gateway). */
const replicaLabels = (gw: EgressGateway): Record<string, string> => {
  const labels = gw.spec.template?.metadata?.labels;
  return labels && Object.keys(labels).length > 0 ? { ...labels } : { [LABEL_GATEWAY]: gw.metadata.name };
};

const RESERVED_ANNOTATIONS = new Set([ANN_GATEWAY_OWNER, ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_TERMINATING]);

const templateAnnotations = (gw: EgressGateway): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(gw.spec.template?.metadata?.annotations ?? {}))
    if (!RESERVED_ANNOTATIONS.has(k)) out[k] = v;
  return out;
};

const graceMs = (gw: EgressGateway): number => {
  const s =
    gw.spec.template?.spec?.terminationGracePeriodSeconds ??
    DEFAULTS.egressGateway.terminationGracePeriodSeconds;
  return Math.max(0, s) * 1000;
};

const matchesSelector = (labels: Record<string, string>, selector: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Deterministic per-gateway node order for ties, so single-replica gateways spread over nodes. */
const tieBreak = (gw: string, node: string): string =>
  createHash("sha256").update(`${gw}\u0000${node}`).digest("hex").slice(0, 16);

const sameMap = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

const ipIn = (ip: string, pools: readonly UsablePool[]): boolean => {
  const parsed = parseIp(ip);
  return parsed.ok && pools.some((p) => cidrContains(p.cidr, parsed.value));
};

/** The gateway's spec.ipPools as IPAM takes them: each pool's name, else its cidr. */
export const poolRefs = (gw: EgressGateway): string[] =>
  gw.spec.ipPools.flatMap((ref) => {
    const r = ref.name ?? ref.cidr;
    return r === undefined ? [] : [r];
  });

/** Resolves the gateway's pools, checking that a name/cidr pair names one pool. */
const resolvePools = (
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

const byIndex =
  (gateway: string) =>
  (a: { name: string }, b: { name: string }): number => {
    const [x, y] = [replicaIndex(gateway, a.name) ?? Infinity, replicaIndex(gateway, b.name) ?? Infinity];
    return x !== y ? x - y : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };

export const planGateway = (input: GatewayPlanInput): GatewayPlan => {
  const { gateway: gw, nowMs } = input;
  const namespace = gw.metadata.namespace ?? "";
  const name = gw.metadata.name;
  const desired = Math.max(0, gw.spec.replicas ?? DEFAULTS.egressGateway.replicas);
  const grace = graceMs(gw);
  const labels = replicaLabels(gw);
  const annotations = templateAnnotations(gw);
  const nodeSelector = gw.spec.template?.spec?.nodeSelector ?? {};

  const problems: Problem[] = [];
  const removals: PlanAction[] = []; // releases and deletes: run first, they free capacity
  const drains: PlanAction[] = [];
  const updates: PlanAction[] = [];
  const creates: PlanAction[] = [];
  const wakeups: number[] = [];

  const resolved = resolvePools(gw, input.pools);
  const pools = "pools" in resolved ? resolved.pools : undefined;
  if ("problem" in resolved) problems.push(resolved.problem);

  const eligible = input.nodes.filter((n) => matchesSelector(n.labels, nodeSelector));
  const nodeNames = new Set(input.nodes.map((n) => n.name));
  const eligibleNames = new Set(eligible.map((n) => n.name));
  if (eligible.length === 0 && desired > 0) {
    problems.push({
      reason: "NoMatchingNode",
      message:
        input.nodes.length === 0
          ? "no nodes are known, so no replica can be placed"
          : `no node matches spec.template.spec.nodeSelector ${JSON.stringify(nodeSelector)} (${input.nodes.length} nodes known)`,
    });
  }

  const mine = input.allocations.filter((a) => a.owner.namespace === namespace && a.owner.gateway === name);
  const heldBy = (replica: string): AllocationView[] => mine.filter((a) => a.owner.replica === replica);
  /** The replica's IP is backed by an allocation in its name (else it may be someone else's). */
  const backed = (r: ReplicaView): boolean =>
    r.egressIP !== undefined && heldBy(r.name).some((a) => a.ip === r.egressIP);
  const released = new Set<string>(); // allocation names released by this plan

  const remove = (r: ReplicaView, reason: string): void => {
    const release = heldBy(r.name);
    release.forEach((a) => released.add(a.name));
    removals.push({ type: "delete", replica: r.name, release, reason });
  };
  const retire = (r: ReplicaView, reason: string): void => {
    if (grace === 0) return remove(r, reason);
    drains.push({ type: "drain", replica: r.name, deadline: new Date(nowMs + grace).toISOString(), reason });
    wakeups.push(grace);
  };

  // 1. Classify every replica pod.
  const live: ReplicaView[] = [];
  const replicas = [...input.replicas].sort(byIndex(name));
  for (const r of replicas) {
    if (!backed(r)) {
      remove(r, r.egressIP ? `egress IP ${r.egressIP} is not allocated to this replica` : "no egress IP");
    } else if (r.terminating !== undefined) {
      const deadline = Date.parse(r.terminating);
      if (!Number.isFinite(deadline)) retire(r, `unreadable drain deadline "${r.terminating}"`);
      else if (deadline <= nowMs) remove(r, "drain finished");
      else wakeups.push(deadline - nowMs);
    } else if (pools && !ipIn(r.egressIP ?? "", pools)) {
      retire(r, `egress IP ${r.egressIP} is no longer in the gateway's IP pools`);
    } else if (eligible.length > 0 && (r.node === undefined || !eligibleNames.has(r.node))) {
      const why =
        r.node === undefined
          ? "has no node"
          : nodeNames.has(r.node)
            ? `node ${r.node} no longer matches spec.template.spec.nodeSelector`
            : `node ${r.node} does not exist`;
      retire(r, why);
    } else {
      live.push(r);
    }
  }

  // 2. Scale down: the highest indices drain first (`live` is in index order, as `replicas`).
  const surplus = Math.max(0, live.length - desired);
  const retiring = new Set([...live].reverse().slice(0, surplus));
  for (const r of retiring) retire(r, `scale down to ${desired} replicas`);
  const serving = live.filter((r) => !retiring.has(r));

  // 3. Keep the serving replicas' labels and template annotations in step with the template.
  for (const r of serving) {
    const wantAnnotations = { ...r.annotations, ...annotations };
    if (!sameMap(r.labels, labels) || !sameMap(r.annotations, wantAnnotations)) {
      updates.push({
        type: "update-metadata",
        replica: r.name,
        labels,
        annotations,
        reason: "template metadata changed",
      });
    }
  }

  // 4. Scale up, as far as nodes and free addresses allow.
  const missing = desired - serving.length;
  const usedNames = new Set([...input.replicas.map((r) => r.name), ...input.otherPodNames]);
  const reusable = pools
    ? mine
        .filter((a) => !usedNames.has(a.owner.replica) && replicaIndex(name, a.owner.replica) !== undefined)
        .filter((a) => ipIn(a.ip, pools))
        .sort((a, b) => byIndex(name)({ name: a.owner.replica }, { name: b.owner.replica }))
    : [];
  const reused = new Set<string>(); // replica names whose held IP a create reuses
  if (missing > 0 && pools && eligible.length > 0) {
    const names: string[] = [];
    for (const a of reusable) {
      if (names.length >= missing) break;
      if (!names.includes(a.owner.replica)) names.push(a.owner.replica);
    }
    names.forEach((n) => reused.add(n));
    for (let i = 0; names.length < missing; i++) {
      const n = replicaName(name, i);
      if (!usedNames.has(n) && !names.includes(n)) names.push(n);
    }

    const free = freeAddresses(pools, input.allocations, released);
    let newIPs = free;
    const load = new Map(eligible.map((n) => [n.name, 0]));
    for (const r of serving)
      if (r.node !== undefined && load.has(r.node)) load.set(r.node, (load.get(r.node) ?? 0) + 1);
    let placed = 0;
    for (const n of names) {
      if (!reused.has(n)) {
        if (newIPs <= 0n) continue;
        newIPs -= 1n;
      }
      const node = leastLoaded(gatewayKey(namespace, name), load);
      load.set(node, (load.get(node) ?? 0) + 1);
      creates.push({
        type: "create",
        replica: n,
        node,
        labels,
        annotations,
        reason: reused.has(n) ? "scale up (keeps its allocated IP)" : "scale up",
      });
      placed += 1;
    }
    if (placed < missing) {
      const detail = pools
        .map((p) => `IPPool "${p.name}" (${formatCidr(p.cidr)}, ${hostCount(p.cidr)} addresses)`)
        .join(", ");
      problems.push({
        reason: "PoolExhausted",
        message:
          `spec.replicas is ${desired} but only ${serving.length + placed} replicas can have an egress IP: ` +
          `no free address left in ${detail}; free addresses in the pool or lower spec.replicas`,
      });
    }
  }

  // 5. Allocations no replica uses (nor will use) are released once past their grace period.
  const backing = new Set(
    input.replicas.flatMap((r) =>
      heldBy(r.name)
        .filter((a) => a.ip === r.egressIP)
        .map((a) => a.name),
    ),
  );
  for (const a of mine) {
    if (released.has(a.name) || backing.has(a.name) || reused.has(a.owner.replica)) continue;
    const age = a.createdMs === undefined ? Infinity : nowMs - a.createdMs;
    if (age >= input.unbackedGraceMs) {
      released.add(a.name);
      removals.push({
        type: "release",
        allocation: a,
        reason: `no replica pod ${a.owner.replica} uses ${a.ip}`,
      });
    } else {
      wakeups.push(input.unbackedGraceMs - age);
    }
  }

  const statusReplicas: ReplicaStatus[] = replicas.map((r) => ({
    name: r.name,
    ...(r.node === undefined ? {} : { node: r.node }),
    ...(r.egressIP === undefined ? {} : { egressIP: r.egressIP }),
    ready: replicaReady(r),
  }));
  const plan: GatewayPlan = {
    actions: [...removals, ...drains, ...updates, ...creates],
    replicas: statusReplicas,
    desired,
    live: serving.length,
    ready: serving.filter(replicaReady).length,
    problems,
  };
  if (wakeups.length > 0) plan.requeueAfterMs = Math.max(0, Math.min(...wakeups));
  return plan;
};

/** Addresses of the pools not held by any allocation (those this plan releases count as free). */
const freeAddresses = (
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
      if (ip.ok && cidrContains(p.cidr, ip.value)) taken += 1n;
    }
    const left = hostCount(p.cidr) - taken;
    if (left > 0n) free += left;
  }
  return free;
};

const leastLoaded = (gw: string, load: ReadonlyMap<string, number>): string => {
  let best: { node: string; load: number; tie: string } | undefined;
  for (const [node, n] of load) {
    const tie = tieBreak(gw, node);
    if (
      !best ||
      n < best.load ||
      (n === best.load && (tie < best.tie || (tie === best.tie && node < best.node)))
    )
      best = { node, load: n, tie };
  }
  return best?.node ?? "";
};

/** Orphans: replica pods and allocations whose EgressGateway no longer exists. */
export interface GarbageInput {
  /** Keys (`namespace/name`) of the gateways that exist. */
  gateways: ReadonlySet<string>;
  /** Every pod that carries an owner annotation, with its owner key. */
  replicaPods: readonly { namespace: string; name: string; owner: string }[];
  allocations: readonly AllocationView[];
}

export interface Garbage {
  pods: { namespace: string; name: string; owner: string }[];
  allocations: AllocationView[];
}

export const planGarbage = (input: GarbageInput): Garbage => ({
  // A pod outside its owner's namespace was not made by the controller: left alone.
  pods: input.replicaPods.filter(
    (p) => !input.gateways.has(p.owner) && p.owner.startsWith(`${p.namespace}/`),
  ),
  allocations: input.allocations.filter(
    (a) => !input.gateways.has(gatewayKey(a.owner.namespace, a.owner.gateway)),
  ),
});
