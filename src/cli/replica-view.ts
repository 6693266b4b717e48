// What each replica of an EgressGateway looks like from outside (pure), for
// `egw get egressgateways -o wide` and `egw describe egressgateway`: where it runs (node, zone),
// how the client nodes' liveness sessions see it (aggregated from each Node's
// status.gatewayLiveness, which the agents publish), its own upstream probe state (the Ready
// condition its gateway process writes on its Pod) and its drain deadline (egw.dev/terminating).
// Everything is read defensively: a malformed entry is left out, never trusted. It decides
// nothing; the controller and the agents do.
import { readyConditionOf } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import {
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
  LABEL_TOPOLOGY_ZONE,
} from "../api/well-known.js";
import { compareStrings } from "../util/compare.js";

/** A client node's session state for one replica, as the agents publish it. */
export const LIVENESS_STATES = ["Down", "Draining", "Held", "Up"] as const;
export type LivenessState = (typeof LIVENESS_STATES)[number];

/** One client node's view of one replica. */
export interface ClientLiveness {
  node: string;
  state: LivenessState;
  since: string;
  reason?: string;
}

/** The replica's own readiness (its upstream probes, drain, dataplane), from its Pod's Ready condition. */
export interface UpstreamState {
  /** undefined: the gateway process has not reported yet. */
  ready: boolean | undefined;
  reason?: string;
  message?: string;
  since?: string;
}

export interface ReplicaVisibility {
  name: string;
  node?: string;
  zone?: string;
  egressIP?: string;
  podIP?: string;
  upstream: UpstreamState;
  /** The drain deadline (egw.dev/terminating), while it drains. */
  drainDeadline?: string;
  /** One entry per client node that has a session with it, by node name. */
  clients: ClientLiveness[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

const isLivenessState = (v: unknown): v is LivenessState =>
  typeof v === "string" && (LIVENESS_STATES as readonly string[]).includes(v);

/** Every well-formed entry of every Node's status.gatewayLiveness, by replica ("ns/pod"). */
export const clientLivenessByReplica = (nodes: readonly Resource[]): Map<string, ClientLiveness[]> => {
  const out = new Map<string, ClientLiveness[]>();
  for (const node of nodes) {
    const entries = isObject(node.status) ? node.status.gatewayLiveness : undefined;
    if (!Array.isArray(entries)) continue;
    for (const e of entries) {
      if (!isObject(e)) continue;
      const replica = str(e.replica);
      const since = str(e.since);
      if (replica === undefined || since === undefined || !isLivenessState(e.state)) continue;
      const entry: ClientLiveness = { node: node.metadata.name, state: e.state, since };
      const reason = str(e.reason);
      if (reason !== undefined) entry.reason = reason;
      const list = out.get(replica) ?? [];
      list.push(entry);
      out.set(replica, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => compareStrings(a.node, b.node));
  return out;
};

/** The replica number in `<gateway>-<n>`, for ordering (others last, by name). */
const replicaNumber = (gateway: string, pod: string): number => {
  const rest = pod.startsWith(`${gateway}-`) ? pod.slice(gateway.length + 1) : "";
  return /^\d+$/.test(rest) ? Number(rest) : Number.MAX_SAFE_INTEGER;
};

/**
 * The replicas of `gateway` among `pods` (by the owner annotation), in replica order, each with
 * what `nodes` say about it.
 */
export const replicaVisibility = (
  gateway: Resource,
  pods: readonly Resource[],
  nodes: readonly Resource[],
  liveness: ReadonlyMap<string, ClientLiveness[]> = clientLivenessByReplica(nodes),
): ReplicaVisibility[] => {
  const namespace = gateway.metadata.namespace ?? "default";
  const owner = `${namespace}/${gateway.metadata.name}`;
  const zones = new Map(nodes.map((n) => [n.metadata.name, str(n.metadata.labels?.[LABEL_TOPOLOGY_ZONE])]));
  const replicas = pods.filter(
    (p) =>
      (p.metadata.namespace ?? "default") === namespace &&
      p.metadata.annotations?.[ANN_GATEWAY_OWNER] === owner,
  );
  const gw = gateway.metadata.name;
  replicas.sort(
    (a, b) =>
      replicaNumber(gw, a.metadata.name) - replicaNumber(gw, b.metadata.name) ||
      compareStrings(a.metadata.name, b.metadata.name),
  );
  return replicas.map((pod) => {
    const spec = isObject(pod.spec) ? pod.spec : {};
    const status = isObject(pod.status) ? pod.status : {};
    const annotations = pod.metadata.annotations ?? {};
    const v: ReplicaVisibility = {
      name: pod.metadata.name,
      upstream: upstreamOf(pod),
      clients: [...(liveness.get(`${namespace}/${pod.metadata.name}`) ?? [])],
    };
    const node = str(spec.nodeName);
    if (node !== undefined) {
      v.node = node;
      const zone = zones.get(node);
      if (zone !== undefined) v.zone = zone;
    }
    const egressIP = str(annotations[ANN_GATEWAY_EGRESS_IP]);
    if (egressIP !== undefined) v.egressIP = egressIP;
    const podIP = str(status.podIP);
    if (podIP !== undefined) v.podIP = podIP;
    const drain = str(annotations[ANN_GATEWAY_TERMINATING]);
    if (drain !== undefined) v.drainDeadline = drain;
    return v;
  });
};

const upstreamOf = (pod: Resource): UpstreamState => {
  const c = readyConditionOf(pod);
  const out: UpstreamState = {
    ready: c?.status === "True" ? true : c?.status === "False" ? false : undefined,
  };
  const reason = str(c?.reason);
  const message = str(c?.message);
  const since = str(c?.lastTransitionTime);
  if (reason !== undefined) out.reason = reason;
  if (message !== undefined) out.message = message;
  if (since !== undefined) out.since = since;
  return out;
};

// ---- words --------------------------------------------------------------------------------------

/** A timestamp as `12:00:01Z` when it falls on `now`'s (UTC) day, else `2026-01-02T12:00:01Z`; unparsable text as is. */
export const shortTime = (iso: string, now: Date): string => {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const text = new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
  return text.slice(0, 10) === now.toISOString().slice(0, 10) ? text.slice(11) : text;
};

/** The latest of some timestamps (the moment the last of them began); unparsable ones count as oldest. */
const latest = (times: readonly string[]): string =>
  times.reduce((a, b) => ((Date.parse(b) || 0) > (Date.parse(a) || 0) ? b : a));

/** Worst first: what an operator needs to see first. */
const STATE_ORDER: readonly LivenessState[] = ["Down", "Draining", "Held", "Up"];

/**
 * The clients' view in one phrase per state, worst first: `up on 3/3 nodes since 12:00:01Z`,
 * `down on 1/3 nodes since 12:00:05Z, up on 2/3 nodes since 11:58:00Z`; `since` is when the last
 * node of that group entered the state. No sessions: `no client sessions`.
 */
export const livenessSummary = (clients: readonly ClientLiveness[], now: Date): string => {
  if (clients.length === 0) return "no client sessions";
  const parts: string[] = [];
  for (const state of STATE_ORDER) {
    const group = clients.filter((c) => c.state === state);
    if (group.length === 0) continue;
    const since = shortTime(latest(group.map((c) => c.since)), now);
    parts.push(`${state.toLowerCase()} on ${group.length}/${clients.length} nodes since ${since}`);
  }
  return parts.join(", ");
};

/** The replica's own readiness in a word or two: `Ready`, `ProbeFailed`, `Draining`, `unknown`. */
export const upstreamWord = (u: UpstreamState): string =>
  u.reason ?? (u.ready === undefined ? "unknown" : u.ready ? "Ready" : "NotReady");

/** `until 12:00:31Z (in 25s)`, or `overdue since …` once the deadline passed. */
export const drainText = (deadline: string, now: Date): string => {
  const t = Date.parse(deadline);
  if (!Number.isFinite(t)) return `deadline "${deadline}" does not parse`;
  const left = Math.round((t - now.getTime()) / 1000);
  return left >= 0
    ? `until ${shortTime(deadline, now)} (in ${left}s)`
    : `deadline ${shortTime(deadline, now)} passed ${-left}s ago`;
};

/** `egw describe egressgateway`'s `Replicas:` section. */
export const describeReplicas = (replicas: readonly ReplicaVisibility[], now: Date): string[] => {
  if (replicas.length === 0) return ["Replicas:          <none>"];
  const lines = ["Replicas:"];
  for (const r of replicas) {
    const where = `${r.node ?? "<no node>"}${r.zone === undefined ? "" : ` (${r.zone})`}`;
    lines.push(`  ${r.name} on ${where}: egress IP ${r.egressIP ?? "<none>"}, pod IP ${r.podIP ?? "<none>"}`);
    lines.push(`    Clients:   ${livenessSummary(r.clients, now)}`);
    for (const c of r.clients) {
      const reason = c.reason === undefined ? "" : ` (${c.reason})`;
      lines.push(`               ${c.node}: ${c.state} since ${shortTime(c.since, now)}${reason}`);
    }
    const u = r.upstream;
    const since = u.since === undefined ? "" : ` since ${shortTime(u.since, now)}`;
    const message = u.message === undefined ? "" : `: ${u.message}`;
    lines.push(`    Upstream:  ${upstreamWord(u)}${since}${message}`);
    lines.push(
      `    Drain:     ${r.drainDeadline === undefined ? "not draining" : drainText(r.drainDeadline, now)}`,
    );
  }
  return lines;
};
