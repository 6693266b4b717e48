// What this node's BGP speaker should say (pure): from the BGP resources (BGPConfiguration
// "default", BGPPeers, the Secrets their passwords are in), the IPPools and this node's gateway
// replica pods, the BIRD config values (routing/bird-config.ts) — which peers this node has and
// which egress IPs it announces, each a /32 with the configured communities.
//
// A replica's egress IP is announced while its pod runs on this node and either reports Ready
// (its dataplane is applied and its upstream probes pass) or drains (its established connections
// still need the return path); it is withdrawn when the pod is gone, stops being ready, or the
// node is cut (the router's BFD session ends). Only IPs inside a pool with allowedUses
// EgressGateway are announced, filtered by advertise.ipPools, never from a pool with
// disableBGPExport. No aggregation: every egress IP is its own /32.
//
// It does no I/O; the agent's BgpSpeaker (bgp.ts) renders, applies and reports.
import { conditionOf } from "../api/conditions.js";
import { DEFAULTS } from "../api/defaults.js";
import type { BGPConfiguration, BGPPeer } from "../api/schemas/routing.js";
import type { Secret } from "../api/schemas/core.js";
import { ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import type { IPPoolInput, NodeInput, PodInput } from "../calc/inputs.js";
import { isGatewayPod } from "../calc/snapshot.js";
import {
  parseCommunity,
  type BirdAnnouncement,
  type BirdCommunity,
  type BirdNodeConfig,
  type BirdPeer,
} from "../routing/bird-config.js";
import { parseSelector } from "../selector/selector.js";
import { compareStrings } from "../util/compare.js";
import { cidrContains, parseCidr, parseIp } from "../util/ip.js";

/** The BGPConfiguration that applies (Calico's rule); others are ignored. */
export const BGP_CONFIGURATION_NAME = "default";
/** Namespace of the Secrets BGPPeer passwords refer to (where the egw daemons run). */
export const BGP_SECRET_NAMESPACE = "egw-system";

export interface BgpResources {
  /** The BGPConfiguration named "default", if any. */
  configuration: BGPConfiguration | undefined;
  peers: readonly BGPPeer[];
  /** Secrets of BGP_SECRET_NAMESPACE by name. */
  secrets: ReadonlyMap<string, Secret>;
  pools: readonly IPPoolInput[];
}

export interface BgpNodeInput {
  node: NodeInput | undefined;
  /** The node's InternalIP (the sessions' source and the router id). */
  nodeIP: string | undefined;
  /** The pods scheduled on this node. */
  pods: Iterable<PodInput>;
}

export interface BgpPeerIntent {
  name: string;
  ip: string;
  bfd: boolean;
}

export interface NodeBgpIntent {
  /** False: no BGPConfiguration "default", or enabled: false — BIRD gets a config without peers. */
  enabled: boolean;
  /** What BIRD is to run; undefined when the node's IP is unknown (nothing can be rendered). */
  config: BirdNodeConfig | undefined;
  /** The peers in the config, for status (BFD: whether the session uses it). */
  peers: BgpPeerIntent[];
  /** Announced prefixes, sorted as rendered. */
  announced: string[];
  /** Inputs left out, each naming the resource and field (a peer without its password, …). */
  problems: string[];
}

type Json = Record<string, unknown>;

/** A key of a Secret: stringData wins over data (base64), as Kubernetes merges them. */
export function secretValue(secret: Secret | undefined, key: string): string | undefined {
  if (secret === undefined) return undefined;
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}

/** The password of a peer, or why it cannot be had. */
export function bgpPassword(
  peer: BGPPeer,
  secrets: ReadonlyMap<string, Secret>,
): { password?: string; problem?: string } {
  const ref = peer.spec.password?.secretKeyRef;
  if (ref === undefined) return {};
  const secret = secrets.get(ref.name);
  if (secret === undefined)
    return {
      problem: `BGPPeer ${peer.metadata.name}: spec.password.secretKeyRef: Secret ${BGP_SECRET_NAMESPACE}/${ref.name} does not exist`,
    };
  const value = secretValue(secret, ref.key);
  if (value === undefined)
    return {
      problem: `BGPPeer ${peer.metadata.name}: spec.password.secretKeyRef: Secret ${BGP_SECRET_NAMESPACE}/${ref.name} has no key "${ref.key}"`,
    };
  return { password: value };
}

/** True if the replica's egress IP is to be announced by its node (see the header). */
export function replicaAnnounced(pod: PodInput): boolean {
  if (!isGatewayPod(pod) || pod.status?.phase !== "Running") return false;
  const ready = conditionOf(pod, "Ready");
  if (ready?.status === "True") return true;
  const draining =
    pod.metadata.deletionTimestamp !== undefined ||
    pod.metadata.annotations?.[ANN_GATEWAY_TERMINATING] !== undefined ||
    ready?.reason === "Draining";
  return draining;
}

const egressPools = (pools: readonly IPPoolInput[], wanted: readonly string[] | undefined) =>
  pools
    .filter((p) => (p.spec?.allowedUses ?? []).includes("EgressGateway"))
    .filter((p) => (p.spec as Json | undefined)?.disableBGPExport !== true)
    .filter((p) => wanted === undefined || wanted.length === 0 || wanted.includes(p.metadata.name))
    .flatMap((p) => {
      const c = parseCidr(p.spec?.cidr ?? "");
      return c.ok && c.value.version === 4 ? [c.value] : [];
    });

/** advertise.communities → communities (names from spec.communities, or literal values). */
function advertisedCommunities(cfg: BGPConfiguration | undefined, problems: string[]): BirdCommunity[] {
  const named = new Map((cfg?.spec?.communities ?? []).map((c) => [c.name, c.value]));
  const out: BirdCommunity[] = [];
  (cfg?.spec?.advertise?.communities ?? []).forEach((ref, i) => {
    const c = parseCommunity(named.get(ref) ?? ref);
    if (c.ok) out.push(c.value);
    else
      problems.push(
        `BGPConfiguration ${BGP_CONFIGURATION_NAME}: spec.advertise.communities[${i}]: "${ref}" is neither a name from spec.communities nor a community value`,
      );
  });
  return out;
}

/** The peers that apply to this node: `node` names it, or `nodeSelector` (absent: all) matches its labels. */
function peersOfNode(node: NodeInput | undefined, peers: readonly BGPPeer[], problems: string[]): BGPPeer[] {
  const name = node?.metadata.name;
  const labels = node?.metadata.labels ?? {};
  return peers.filter((p) => {
    if (p.spec.node !== undefined) return p.spec.node === name;
    if (p.spec.nodeSelector === undefined) return true;
    const sel = parseSelector(p.spec.nodeSelector);
    if (!sel.ok) {
      problems.push(`BGPPeer ${p.metadata.name}: spec.nodeSelector: ${sel.error.message}; peer left out`);
      return false;
    }
    return sel.value.matches(labels);
  });
}

/** What the node's BIRD is to run and announce (see the header). */
export function nodeBgpIntent(r: BgpResources, n: BgpNodeInput): NodeBgpIntent {
  const problems: string[] = [];
  const cfg = r.configuration;
  const enabled = cfg !== undefined && cfg.spec?.enabled !== false;
  const d = DEFAULTS.bgpConfiguration;
  const base = {
    asNumber: cfg?.spec?.asNumber ?? d.asNumber,
    listenPort: cfg?.spec?.listenPort ?? d.listenPort,
  };
  if (n.nodeIP === undefined || parseIp(n.nodeIP)?.version !== 4) {
    return {
      enabled,
      config: undefined,
      peers: [],
      announced: [],
      problems: [
        `Node ${n.node?.metadata.name ?? "?"}: status.addresses has no IPv4 InternalIP; BIRD is left as it is`,
      ],
    };
  }
  if (!enabled)
    return {
      enabled,
      config: { nodeIP: n.nodeIP, ...base, peers: [], announce: [] },
      peers: [],
      announced: [],
      problems,
    };

  const bfdTiming = {
    intervalMs: cfg.spec?.bfd?.minIntervalMs ?? d.bfd.minIntervalMs,
    multiplier: cfg.spec?.bfd?.multiplier ?? d.bfd.multiplier,
  };
  const peers: BirdPeer[] = [];
  for (const p of peersOfNode(n.node, r.peers, problems)) {
    const ip = parseIp(p.spec.peerIP);
    if (ip?.version !== 4) {
      problems.push(
        `BGPPeer ${p.metadata.name}: spec.peerIP: "${p.spec.peerIP}" is not an IPv4 address; peer left out`,
      );
      continue;
    }
    if (p.spec.peerIP === n.nodeIP) continue; // a node never peers with itself
    const pw = bgpPassword(p, r.secrets);
    if (pw.problem !== undefined) {
      problems.push(`${pw.problem}; peer left out`);
      continue;
    }
    peers.push({
      name: p.metadata.name,
      ip: p.spec.peerIP,
      asNumber: p.spec.asNumber,
      holdTimeSeconds: p.spec.holdTimeSeconds ?? DEFAULTS.bgpPeer.holdTimeSeconds,
      ...((p.spec.bfd ?? DEFAULTS.bgpPeer.bfd) ? { bfd: bfdTiming } : {}),
      ...(pw.password === undefined ? {} : { password: pw.password }),
    });
  }

  const pools = egressPools(r.pools, cfg.spec?.advertise?.ipPools);
  const communities = advertisedCommunities(cfg, problems);
  const ips = new Set<string>();
  for (const pod of n.pods) {
    if (!replicaAnnounced(pod)) continue;
    const egressIP = pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? "";
    const ip = parseIp(egressIP);
    if (ip?.version === 4 && pools.some((c) => cidrContains(c, ip))) ips.add(egressIP);
  }
  const announce: BirdAnnouncement[] = [...ips].map((ip) => ({ prefix: `${ip}/32`, communities }));
  const config: BirdNodeConfig = { nodeIP: n.nodeIP, ...base, peers, announce };
  return {
    enabled,
    config,
    peers: peers
      .map((p) => ({ name: p.name, ip: p.ip, bfd: p.bfd !== undefined }))
      .sort((a, b) => compareStrings(a.name, b.name)),
    announced: sortPrefixes(announce.map((a) => a.prefix)),
    problems,
  };
}

const sortPrefixes = (prefixes: string[]): string[] =>
  prefixes
    .map((p) => [p, parseIp(p.split("/")[0] ?? "")?.value ?? 0n] as const)
    .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([p]) => p);
