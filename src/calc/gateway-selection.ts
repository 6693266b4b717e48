// For one workload: which gateway replicas carry its traffic, per destination.
//
// Decisions (see DESIGN §3 and the Calico notes):
// - Replicas are gateway pods (annotated with an egress IP) matching the selector, in namespaces
//   matching the namespaceSelector (annotations: default is the workload's own namespace).
// - A replica is a candidate while Running, with a valid pod IP (its VXLAN endpoint), not
//   terminating, scheduled to a node. Candidates are chosen from by maxNextHops first, then health filters them:
//   so a health flap changes the hops of a set but not its key (its table and mark stay, and a
//   resilient nexthop group keeps flows on the survivors where they are).
// - Health not polled yet counts as healthy (as Calico does): otherwise every restart would
//   black-hole traffic until the first poll. A replica that failed polling is dropped.
// - maxNextHops > 0 picks that many candidates by rendezvous hashing on the workload's key, so
//   workloads spread evenly and losing one replica only moves the workloads that had it. If none
//   of the picked replicas is healthy, healthy candidates are picked instead (seeded by the set's
//   key, so every workload of that set gets the same hops).
// - An EgressGatewayPolicy that does not cover 0.0.0.0/0 sends uncovered destinations the normal
//   way (as in Calico, where the table simply has no route for them); the plan makes that explicit
//   with a `throw 0.0.0.0/0`, which is equivalent and visible in `ip route` and describe.
// - A matching replica that is draining or failed health is in no route but is *retained*: the
//   connections it carries stay on it (dataplane pinning), so it stays a tunnel peer. A route
//   whose replicas are all retained is still unreachable for new connections (fail closed).
import {
  ANN_EGRESS_GATEWAY_POLICY,
  ANN_EGRESS_GATEWAY_PREFERENCE,
  ANN_EGRESS_NAMESPACE_SELECTOR,
  ANN_EGRESS_SELECTOR,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_TERMINATING,
  LABEL_NAMESPACE_NAME,
  LABEL_TOPOLOGY_ZONE,
} from "../api/well-known.js";
import { formatSelectorError } from "../selector/errors.js";
import type { Selector } from "../selector/selector.js";
import { describeLevel, effectiveEgressConfig, type EgressConfig } from "./effective-config.js";
import { rendezvousPick } from "./hash.js";
import { podKeyOf, type PodInput } from "./inputs.js";
import { macForIp } from "./mac.js";
import type { DestinationRoute, GatewayHop, RetainedHop } from "./plan.js";
import { DEFAULT_DESTINATION, type GatewayTarget } from "./policy.js";
import type { ClusterIndex } from "./snapshot.js";
import { compareStrings } from "../util/compare.js";

/** A gateway replica as calc sees it. */
export interface GatewayReplica {
  key: string;
  node: string;
  hop: GatewayHop;
  /** Why it cannot be chosen at all; undefined = candidate. */
  excluded?: string;
  /** Polled readiness; undefined = not polled yet (treated as healthy). */
  healthy: boolean | undefined;
  /** Set when the replica takes no new connections but keeps those it carries (draining, down). */
  retained?: RetainedHop;
}

export type WorkloadEgress =
  | { kind: "none" }
  | { kind: "blocked"; reason: string; config: EgressConfig }
  | {
      kind: "gateways";
      /** Canonical description of the routing behaviour: equal keys ⇒ equal routes on a node. */
      key: string;
      routes: DestinationRoute[];
      /** Replicas of the routes that keep their connections but take no new ones, by key. */
      retained?: RetainedHop[];
      config: EgressConfig;
      notes: string[];
    };

/**
 * How the gateways of one destination were chosen, for explain (the set's key encodes the same).
 * It refers to arrays the selection has anyway.
 */
export interface GatewayChoice {
  destination: string;
  target: GatewayTarget;
  /** Every candidate: a matching replica that may be chosen (running, with an IP, not draining). */
  candidates: readonly GatewayReplica[];
  /** What was chosen from: the candidates, or those on the client node (node-local preference). */
  pool: readonly GatewayReplica[];
  /** The replicas maxNextHops picked for this workload; absent when the whole pool is used. */
  picked?: readonly GatewayReplica[];
  /** None of the chosen replicas passed readiness polling: healthy candidates stand in. */
  fallback: boolean;
}

const isUsable = (r: GatewayReplica): boolean => r.excluded === undefined && r.healthy !== false;

/** Resolves a workload pod's egress on `clientNode` (the node whose plan is being computed). */
export function resolveWorkloadEgress(
  index: ClusterIndex,
  pod: PodInput,
  clientNode: string,
): WorkloadEgress {
  return index.memoForPod(pod, clientNode, () => resolveUncached(index, pod, clientNode));
}

/**
 * How each destination's gateways were chosen for a workload pod on `clientNode` (for explain;
 * the same choices resolveWorkloadEgress makes, which does not keep them).
 */
export function gatewayChoices(index: ClusterIndex, pod: PodInput, clientNode: string): GatewayChoice[] {
  const prepared = prepareFor(index, pod, clientNode);
  const parts = prepared.kind === "done" ? prepared.from?.parts : prepared.parts;
  const out: GatewayChoice[] = [];
  for (const p of parts ?? []) {
    const choice = p.kind === "resolved" ? p.part.choice : finishPick(p, podKeyOf(pod)).choice;
    if (choice !== undefined) out.push(choice);
  }
  return out;
}

function resolveUncached(index: ClusterIndex, pod: PodInput, clientNode: string): WorkloadEgress {
  const prepared = prepareFor(index, pod, clientNode);
  return prepared.kind === "done" ? prepared.value : finish(prepared, podKeyOf(pod));
}

/** The workload's config resolved as far as it goes without the workload itself (memoized). */
function prepareFor(index: ClusterIndex, pod: PodInput, clientNode: string): Prepared {
  const namespace = pod.metadata.namespace ?? "default";
  const config = effectiveEgressConfig(
    pod.metadata.annotations,
    index.namespace(namespace)?.metadata.annotations,
    (name) => index.policy(name) !== undefined,
  );
  if (config.kind === "none") return { kind: "done", value: config };
  if (config.kind === "missing-policy") {
    const reason =
      `${describeLevel(config.from)} ${ANN_EGRESS_GATEWAY_POLICY} names EgressGatewayPolicy "${config.policy}", ` +
      `which does not exist: egress is blocked until it is created or the annotation is changed`;
    return { kind: "done", value: blocked(config, reason) };
  }
  // Everything but the maxNextHops pick is shared by all workloads with this config, and by all
  // nodes unless a rule prefers node-local gateways. A namespace-level selector config is a
  // function of the namespace alone (a short key).
  const sharedKey =
    config.kind === "policy"
      ? `w\u0000p\u0000${config.policy}`
      : config.from === "namespace"
        ? `w\u0000n\u0000${namespace}`
        : `w\u0000s\u0000${config.selector}\u0000${config.namespaceSelector ?? ""}\u0000` +
          `${namespace}\u0000${config.maxNextHops}\u0000${config.maxNextHopsProblem ?? ""}\u0000` +
          `${config.gatewayPreference}\u0000${config.gatewayPreferenceProblem ?? ""}`;
  const prepareHere = (): { prepared: Prepared; dependsOnNode: boolean } => {
    const probe = { dependsOnNode: false };
    return {
      prepared: prepare(index, config, namespace, clientNode, probe),
      dependsOnNode: probe.dependsOnNode,
    };
  };
  let entry = index.memo(sharedKey, prepareHere);
  if (entry.dependsOnNode) entry = index.memo(`${sharedKey}\u0000${clientNode}`, prepareHere);
  return entry.prepared;
}

/** A config resolved as far as possible without knowing which workload asks. */
type Prepared = Done | PerWorkload;

/** `from` keeps the parts when every one was resolved without the workload (explain reads them). */
type Done = { kind: "done"; value: WorkloadEgress; from?: PerWorkload };

type PerWorkload = { kind: "per-workload"; config: EgressConfig; notes: string[]; parts: PreparedPart[] };

interface ResolvedPart {
  destination: string;
  keyPart: string;
  route: DestinationRoute;
  retained?: readonly RetainedHop[];
  choice?: GatewayChoice;
}

/** A destination whose replicas are picked per workload (maxNextHops smaller than the pool). */
interface PickPart {
  destination: string;
  intent: string;
  target: GatewayTarget;
  matching: GatewayReplica[];
  candidates: GatewayReplica[];
  pool: GatewayReplica[];
  /** The matching replicas that are retained (never usable, so never among the hops). */
  retained: RetainedHop[];
}

type PreparedPart = { kind: "resolved"; part: ResolvedPart } | ({ kind: "pick" } & PickPart);

function prepare(
  index: ClusterIndex,
  config: Exclude<EgressConfig, { kind: "none" } | { kind: "missing-policy" }>,
  namespace: string,
  clientNode: string,
  probe: { dependsOnNode: boolean },
): Prepared {
  const notes: string[] = [];
  const parts: PreparedPart[] = [];
  const throwPart = (destination: string): PreparedPart => ({
    kind: "resolved",
    part: { destination, keyPart: "throw", route: { destination, action: "throw" } },
  });

  if (config.kind === "selector") {
    if (config.maxNextHopsProblem !== undefined) notes.push(config.maxNextHopsProblem);
    if (config.gatewayPreferenceProblem !== undefined) {
      const where = `${describeLevel(config.from)} ${ANN_EGRESS_GATEWAY_PREFERENCE}`;
      return { kind: "done", value: blocked(config, `${where}: ${config.gatewayPreferenceProblem}`) };
    }
    const selector = index.selector(config.selector);
    if (!selector.ok) {
      const where = `${describeLevel(config.from)} ${ANN_EGRESS_SELECTOR}`;
      return { kind: "done", value: blocked(config, `${where}: ${formatSelectorError(selector.error)}`) };
    }
    const nsSelector = index.selector(
      config.namespaceSelector ?? `${LABEL_NAMESPACE_NAME} == '${namespace}'`,
    );
    if (!nsSelector.ok) {
      const where = `${describeLevel(config.from)} ${ANN_EGRESS_NAMESPACE_SELECTOR}`;
      return { kind: "done", value: blocked(config, `${where}: ${formatSelectorError(nsSelector.error)}`) };
    }
    const target: GatewayTarget = {
      selector: selector.value,
      namespaceSelector: nsSelector.value,
      maxNextHops: config.maxNextHops,
      preference: config.gatewayPreference,
    };
    parts.push(prepareTarget(index, target, DEFAULT_DESTINATION, clientNode, probe));
  } else {
    const policy = index.policy(config.policy);
    if (policy === undefined) {
      return {
        kind: "done",
        value: blocked(config, `EgressGatewayPolicy "${config.policy}" does not exist`),
      };
    }
    if (!policy.ok) {
      return {
        kind: "done",
        value: blocked(config, `${policy.error}; egress is blocked until the policy is fixed`),
      };
    }
    for (const rule of policy.value.routes) {
      parts.push(
        rule.target === undefined
          ? throwPart(rule.destination)
          : prepareTarget(index, rule.target, rule.destination, clientNode, probe),
      );
    }
    if (!policy.value.routes.some((r) => r.destination === DEFAULT_DESTINATION)) {
      parts.push(throwPart(DEFAULT_DESTINATION));
    }
  }
  const prepared: PerWorkload = { kind: "per-workload", config, notes, parts };
  return parts.every((p) => p.kind === "resolved")
    ? { kind: "done", value: finish(prepared, ""), from: prepared }
    : prepared;
}

function finish(prepared: PerWorkload, workloadKey: string): WorkloadEgress {
  const parts = prepared.parts.map((p) => (p.kind === "resolved" ? p.part : finishPick(p, workloadKey)));
  const out: WorkloadEgress = {
    kind: "gateways",
    key: parts.map((p) => `${p.destination}>${p.keyPart}`).join("|"),
    routes: parts.map((p) => p.route),
    config: prepared.config,
    notes: prepared.notes,
  };
  const retained = retainedOfParts(parts);
  if (retained !== undefined) out.retained = retained;
  return out;
}

/** The parts' retained replicas, each once, by replica key; undefined when there are none. */
function retainedOfParts(parts: readonly ResolvedPart[]): RetainedHop[] | undefined {
  let only: readonly RetainedHop[] | undefined;
  let several = false;
  for (const p of parts) {
    if (p.retained === undefined || p.retained.length === 0) continue;
    if (only === undefined) only = p.retained;
    else several = true;
  }
  if (only === undefined) return undefined;
  if (!several) return [...only];
  const byReplica = new Map<string, RetainedHop>();
  for (const p of parts)
    for (const h of p.retained ?? []) if (!byReplica.has(h.replica)) byReplica.set(h.replica, h);
  return [...byReplica.values()].sort((a, b) => compareStrings(a.replica, b.replica));
}

function prepareTarget(
  index: ClusterIndex,
  target: GatewayTarget,
  destination: string,
  clientNode: string,
  probe: { dependsOnNode: boolean },
): PreparedPart {
  const matching = matchingReplicas(index, target.selector, target.namespaceSelector);
  const candidates = matching.filter((r) => r.excluded === undefined);
  if (target.preference !== "None") probe.dependsOnNode = true;
  const preferred = preferredCandidates(index, target, candidates, clientNode);
  const pool = preferred.length > 0 ? preferred : candidates;
  const zone = target.preference === "PreferSameZone" ? `;zone=${zoneOf(index, clientNode) ?? ""}` : "";
  const intent =
    `sel=${target.selector.toString()};ns=${target.namespaceSelector.toString()};` +
    `max=${target.maxNextHops};local=${target.preference === "PreferNodeLocal" ? 1 : 0}${zone}`;
  const retained: RetainedHop[] = [];
  for (const r of matching) if (r.retained !== undefined) retained.push(r.retained);
  const part: PickPart = { destination, intent, target, matching, candidates, pool, retained };
  if (target.maxNextHops > 0 && target.maxNextHops < pool.length) return { kind: "pick", ...part };
  return { kind: "resolved", part: routeThrough(part, pool, "*") };
}

/** A node's topology.kubernetes.io/zone label; undefined when unknown or unlabelled. */
export function zoneOf(index: ClusterIndex, node: string): string | undefined {
  const zone = index.node(node)?.metadata.labels?.[LABEL_TOPOLOGY_ZONE];
  return zone === undefined || zone === "" ? undefined : zone;
}

/** The candidates the target's preference narrows to (on the client's node, or in its zone); may be empty. */
function preferredCandidates(
  index: ClusterIndex,
  target: GatewayTarget,
  candidates: readonly GatewayReplica[],
  clientNode: string,
): GatewayReplica[] {
  switch (target.preference) {
    case "None":
      return [];
    case "PreferNodeLocal":
      return candidates.filter((r) => r.node === clientNode);
    case "PreferSameZone": {
      const zone = zoneOf(index, clientNode);
      return zone === undefined ? [] : candidates.filter((r) => zoneOf(index, r.node) === zone);
    }
  }
}

function finishPick(part: PickPart, workloadKey: string): ResolvedPart {
  const picked = sortByKey(rendezvousPick(workloadKey, part.pool, (r) => r.key, part.target.maxNextHops));
  return routeThrough(part, picked, picked.map((r) => r.key).join(","));
}

/** The route through the chosen replicas' healthy members (or a healthy fallback, or unreachable). */
function routeThrough(part: PickPart, picked: GatewayReplica[], pick: string): ResolvedPart {
  const { destination, target } = part;
  const keyPart = `gw(${part.intent};pick=${pick})`;
  let hops = picked.filter(isUsable);
  const fallback = hops.length === 0;
  if (fallback) {
    // The picked replicas are all down: other healthy ones of the preferred pool stand in, else
    // any healthy candidate.
    const healthyPreferred = part.pool.filter(isUsable);
    const healthy = healthyPreferred.length > 0 ? healthyPreferred : part.candidates.filter(isUsable);
    hops = sortByKey(rendezvousPick(keyPart, healthy, (r) => r.key, target.maxNextHops || healthy.length));
  }
  const choice: GatewayChoice = {
    destination,
    target,
    candidates: part.candidates,
    pool: part.pool,
    fallback,
  };
  if (pick !== "*") choice.picked = picked;
  const retained = part.retained;
  if (hops.length === 0) {
    const reason = noGatewayReason(target, part.matching);
    return { destination, keyPart, route: { destination, action: "unreachable", reason }, retained, choice };
  }
  const route: DestinationRoute = { destination, action: "gateways", hops: hops.map((r) => r.hop) };
  return { destination, keyPart, route, retained, choice };
}

function noGatewayReason(target: GatewayTarget, matching: readonly GatewayReplica[]): string {
  const what = `selector "${target.selector.toString()}" in namespaces "${target.namespaceSelector.toString()}"`;
  if (matching.length === 0) return `no gateway replica matches ${what}`;
  const why = matching
    .slice(0, 3)
    .map((r) => `${r.key}: ${r.excluded ?? "failed readiness polling"}`)
    .join("; ");
  const more = matching.length > 3 ? `; and ${matching.length - 3} more` : "";
  return `none of the ${matching.length} gateway replicas matching ${what} is usable (${why}${more})`;
}

/** Gateway replicas (usable or not) matching selector × namespaceSelector, sorted by key. */
export function matchingReplicas(
  index: ClusterIndex,
  selector: Selector,
  nsSelector: Selector,
): GatewayReplica[] {
  return index.memo(`m\u0000${selector.toString()}\u0000${nsSelector.toString()}`, () => {
    const out: GatewayReplica[] = [];
    // The default scope (one namespace by name) needs no scan of every gateway namespace.
    const ast = nsSelector.ast;
    const namespaces =
      ast.kind === "eq" && ast.key === LABEL_NAMESPACE_NAME ? [ast.value] : index.gatewayNamespaces();
    for (const ns of namespaces) {
      if (!nsSelector.matches(index.namespaceLabels(ns))) continue;
      for (const pod of index.gatewayPodsIn(ns)) {
        if (selector.matches(pod.metadata.labels ?? {})) out.push(replicaOf(index, pod));
      }
    }
    return sortByKey(out);
  });
}

/** The replica view of a gateway pod (memoized until gateways, nodes or health change). */
export function replicaOf(index: ClusterIndex, pod: PodInput): GatewayReplica {
  const key = podKeyOf(pod);
  return index.memo(`r\u0000${key}`, () => {
    const node = pod.spec?.nodeName ?? "";
    const ip = pod.status?.podIP ?? "";
    const mac = ip === "" ? undefined : macForIp(ip);
    const annotations = pod.metadata.annotations ?? {};
    const hop: GatewayHop = {
      replica: key,
      ip,
      mac: mac ?? "",
      // The replica's VXLAN device lives in its own netns with the pod IP as local address.
      vtep: ip,
      egressIP: annotations[ANN_GATEWAY_EGRESS_IP] ?? "",
    };
    const phase = pod.status?.phase ?? "Unknown";
    let excluded: string | undefined;
    if (phase !== "Running") excluded = `not running (phase ${phase})`;
    else if (ip === "") excluded = "has no pod IP yet";
    else if (mac === undefined) excluded = `pod IP "${ip}" is not a valid IP address`;
    else if (
      pod.metadata.deletionTimestamp !== undefined ||
      annotations[ANN_GATEWAY_TERMINATING] !== undefined
    ) {
      excluded = DRAINING;
    } else if (node === "") excluded = "not scheduled to a node";
    const healthy = index.gatewayHealth(key);
    const replica: GatewayReplica = { key, node, hop, healthy };
    if (excluded !== undefined) replica.excluded = excluded;
    if (excluded === DRAINING) {
      replica.retained = { ...hop, why: "draining" };
      const deadline = drainDeadlineOf(pod);
      if (deadline !== undefined) replica.retained.drainDeadline = deadline;
    } else if (excluded === undefined && healthy === false) replica.retained = { ...hop, why: "down" };
    return replica;
  });
}

const DRAINING = "terminating (draining)";

/**
 * When a draining replica goes: the controller writes the deadline as the value of
 * `egw.dev/terminating`; Kubernetes' deletionTimestamp is the time the pod is killed.
 */
function drainDeadlineOf(pod: PodInput): string | undefined {
  const annotated = pod.metadata.annotations?.[ANN_GATEWAY_TERMINATING];
  if (annotated !== undefined && !Number.isNaN(Date.parse(annotated))) return annotated;
  return pod.metadata.deletionTimestamp;
}

function blocked(config: EgressConfig, reason: string): WorkloadEgress {
  return { kind: "blocked", reason, config };
}

const sortByKey = <T extends { key: string }>(items: T[]): T[] =>
  items.sort((a, b) => compareStrings(a.key, b.key));
