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
// disableBGPExport. No aggregation: every egress IP is its own /32. Which configuration is in
// force, which peers select the node and their passwords are api/routing.ts's rules.
//
// It does no I/O; the agent's BgpSpeaker (bgp.ts) renders, applies and reports.
import { conditionOf } from "../api/conditions.js";
import {
  announcesPool,
  BGP_CONFIGURATION_NAME,
  bgpPassword,
  effectiveBgpConfiguration,
  peersForNode,
} from "../api/routing.js";
import type { Node, Secret } from "../api/schemas/core.js";
import type { IPPool } from "../api/schemas/egress.js";
import type { BGPConfiguration, BGPPeer } from "../api/schemas/routing.js";
import { DEFAULTS } from "../api/defaults.js";
import { ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import type { IPPoolInput, NodeInput, PodInput } from "../calc/inputs.js";
import { isGatewayPod } from "../calc/snapshot.js";
import type { BirdAnnouncement, BirdNodeConfig, BirdPeer } from "../routing/bird-config.js";
import { compareNumbers } from "../util/compare.js";
import { cidrContains, parseCidr, parseIp } from "../util/ip.js";

export interface BgpResources {
  /** Every stored BGPConfiguration (only the one named "default" applies). */
  configurations: readonly BGPConfiguration[];
  peers: readonly BGPPeer[];
  /** Secrets of the egw system namespace (BGPPeer passwords). */
  secrets: readonly Secret[];
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

/** The egress pools whose IPs are announced (IPv4 CIDRs): announcesPool, and not disableBGPExport. */
const announcedPools = (
  cfg: NonNullable<ReturnType<typeof effectiveBgpConfiguration>>,
  pools: readonly IPPoolInput[],
) =>
  pools
    .map((p) => p as unknown as IPPool)
    .filter((p) => p.spec !== undefined && announcesPool(cfg, p) && p.spec.disableBGPExport !== true)
    .flatMap((p) => {
      const c = parseCidr(p.spec.cidr ?? "");
      return c.ok && c.value.version === 4 ? [c.value] : [];
    });

/** What the node's BIRD is to run and announce (see the header). */
export function nodeBgpIntent(r: BgpResources, n: BgpNodeInput): NodeBgpIntent {
  const cfg = effectiveBgpConfiguration(r.configurations);
  const d = DEFAULTS.bgpConfiguration;
  if (n.nodeIP === undefined || parseIp(n.nodeIP)?.version !== 4)
    return {
      enabled: cfg !== undefined,
      config: undefined,
      peers: [],
      announced: [],
      problems: [
        `Node ${n.node?.metadata.name ?? "?"}: status.addresses has no IPv4 InternalIP; BIRD is left as it is`,
      ],
    };
  if (cfg === undefined) {
    // Off: a config without peers, so turning BGP off withdraws everything.
    const own = r.configurations.find((c) => c.metadata.name === BGP_CONFIGURATION_NAME)?.spec;
    const config = {
      nodeIP: n.nodeIP,
      asNumber: own?.asNumber ?? d.asNumber,
      listenPort: own?.listenPort ?? d.listenPort,
      peers: [],
      announce: [],
    };
    return { enabled: false, config, peers: [], announced: [], problems: [] };
  }

  const problems = cfg.problems.map(
    (p) => `BGPConfiguration ${BGP_CONFIGURATION_NAME}: spec.advertise.communities: ${p}`,
  );
  const peers: BirdPeer[] = [];
  const node = n.node === undefined ? [] : peersForNode(r.peers, n.node as unknown as Node);
  for (const p of node) {
    if (parseIp(p.spec.peerIP)?.version !== 4) {
      problems.push(
        `BGPPeer ${p.metadata.name}: spec.peerIP: "${p.spec.peerIP}" is not an IPv4 address; peer left out`,
      );
      continue;
    }
    const pw = bgpPassword(p, r.secrets);
    if (!pw.ok) {
      problems.push(`${pw.error}; peer left out`);
      continue;
    }
    peers.push({
      name: p.metadata.name,
      ip: p.spec.peerIP,
      asNumber: p.spec.asNumber,
      holdTimeSeconds: p.spec.holdTimeSeconds ?? DEFAULTS.bgpPeer.holdTimeSeconds,
      ...((p.spec.bfd ?? DEFAULTS.bgpPeer.bfd)
        ? { bfd: { intervalMs: cfg.bfd.minIntervalMs, multiplier: cfg.bfd.multiplier } }
        : {}),
      ...(pw.value === undefined ? {} : { password: pw.value }),
    });
  }

  const pools = announcedPools(cfg, r.pools);
  const ips = new Map<string, bigint>();
  for (const pod of n.pods) {
    if (!replicaAnnounced(pod)) continue;
    const egressIP = pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? "";
    const ip = parseIp(egressIP);
    if (ip?.version === 4 && pools.some((c) => cidrContains(c, ip))) ips.set(egressIP, ip.value);
  }
  const sorted = [...ips].sort((a, b) => compareNumbers(a[1], b[1])).map(([ip]) => `${ip}/32`);
  const announce: BirdAnnouncement[] = sorted.map((prefix) => ({ prefix, communities: cfg.communities }));
  return {
    enabled: true,
    config: { nodeIP: n.nodeIP, asNumber: cfg.asNumber, listenPort: cfg.listenPort, peers, announce },
    peers: peers.map((p) => ({ name: p.name, ip: p.ip, bfd: p.bfd !== undefined })),
    announced: sorted,
    problems,
  };
}
