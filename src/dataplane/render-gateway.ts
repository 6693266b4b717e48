// GatewayReplicaPlan → what a gateway replica's netns must hold (pure): the tunnel endpoint, the egress
// IP, the return routes to every node's pods through the tunnel, and an nft table that accepts
// only tunnel traffic from cluster nodes and health checks, forwards only decapsulated workload
// traffic out of the uplink, and SNATs it to the egress IP (never masquerade). Liveness (BFD,
// UDP 3784) with the nodes goes through the tunnel both ways: rules send the replica's own BFD
// packets to a node through egw.vxlan, and make the strict reverse-path check of a node's BFD
// packet (its lookup swaps the ports) find the tunnel too.
import { macForIp } from "../calc/mac.js";
import { compareStrings } from "../util/compare.js";
import { canonicalCidr4, isIpv4 } from "../util/ip.js";
import { err, ok, type Result } from "../util/result.js";
import {
  GATEWAY_NFT_TABLE,
  LIVENESS_PORT,
  LIVENESS_RULE_PRIORITY,
  LIVENESS_TABLE,
  VXLAN_DEVICE,
  withDefaults,
  type DataplaneOptions,
} from "./config.js";
import type { DesiredRule, DesiredTableRoute, NftShape, Sysctls, TunnelPeer, VxlanLink } from "./model.js";
import { ACCEPT, chain, counter, DROP, inSet, is, rule, set, states, type Table } from "./nft/objects.js";
import { Transaction } from "./nft/transaction.js";
import { validIfname } from "./nft/values.js";
import { versionedTable } from "./nft-text.js";

export interface GatewayNode {
  name: string;
  /** The node's underlay IP: VXLAN source of its egress traffic and destination of the replies. */
  underlayIP: string;
  /** Pod CIDRs hosted on the node: replies to them are tunnelled back to it. */
  podCidrs: string[];
}

/**
 * What the kernel of one gateway replica (its own netns) must hold: the counterpart of a client
 * node's NodePlan. The gateway daemon builds it (gateway/plan.ts); renderGateway renders it.
 */
export interface GatewayReplicaPlan {
  /** "<namespace>/<pod name>" of the replica, for messages. */
  replica: string;
  /** The replica's pod IP: its VXLAN source address; its tunnel MAC derives from it. */
  podIP: string;
  egressIP: string;
  /** Interface towards the outside world (carries the egress IP as a /32). */
  uplink: string;
  workloadCidrs: string[];
  nodes: GatewayNode[];
  healthPort: number;
}

export interface GatewayRoute {
  dst: string;
  via: string;
}

export interface GatewayRender {
  /** The replica's nft table (version chain included), as typed objects. */
  table: Table;
  /** Its whole-table replacement as `nft -f` text. */
  nft: string;
  shape: NftShape;
  link: VxlanLink;
  sysctls: Sysctls;
  peers: TunnelPeer[];
  routes: GatewayRoute[];
  /** BFD with the nodes through the tunnel: rules to the liveness table and its node routes. */
  liveness: { rules: DesiredRule[]; routes: DesiredTableRoute[] };
  address: { ip: string; dev: string; label?: string };
}

/** Label that marks the egress address as egw's, when `<uplink>:egw` fits IFNAMSIZ. */
export const egressAddressLabel = (uplink: string): string | undefined =>
  `${uplink}:egw`.length <= 15 ? `${uplink}:egw` : undefined;

function check(p: GatewayReplicaPlan): string[] {
  const at = `GatewayReplicaPlan of replica "${p.replica}"`;
  const e: string[] = [];
  if (!isIpv4(p.podIP)) e.push(`${at}: podIP "${p.podIP}" is not an IPv4 address`);
  if (!isIpv4(p.egressIP)) e.push(`${at}: egressIP "${p.egressIP}" is not an IPv4 address`);
  if (!validIfname(p.uplink)) e.push(`${at}: uplink "${p.uplink}" is not a valid interface name`);
  if (!Number.isInteger(p.healthPort) || p.healthPort < 1 || p.healthPort > 65535)
    e.push(`${at}: healthPort ${p.healthPort} must be 1-65535`);
  p.workloadCidrs.forEach((c, i) => {
    if (canonicalCidr4(c) === undefined) e.push(`${at}: workloadCidrs[${i}] "${c}" is not an IPv4 CIDR`);
  });
  p.nodes.forEach((n, i) => {
    if (!isIpv4(n.underlayIP))
      e.push(`${at}: nodes[${i}] (${n.name}).underlayIP "${n.underlayIP}" is not IPv4`);
    n.podCidrs.forEach((c, j) => {
      if (canonicalCidr4(c) === undefined)
        e.push(`${at}: nodes[${i}] (${n.name}).podCidrs[${j}] "${c}" is not an IPv4 CIDR`);
    });
  });
  return e;
}

const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/**
 * The replica's own BFD packets to a node (destination port 3784) go through the tunnel; a node's
 * BFD packet arrives there with source port ≠ 3784, and the reverse-path check looks up the
 * reply direction (source port 3784), which the second rule sends through the tunnel too, so
 * strict rp_filter holds. Only the replica's own address matches: forwarded client traffic never.
 */
function livenessRouting(podIP: string, nodes: readonly string[]): GatewayRender["liveness"] {
  // A replica on a host-network node has the node's address: the kernel refuses a route via a
  // local address, and BFD to itself needs no tunnel.
  const remote = nodes.filter((ip) => ip !== podIP);
  const from = `${podIP}/32`;
  const base = { priority: LIVENESS_RULE_PRIORITY, from, ipproto: "udp" as const, table: LIVENESS_TABLE };
  return {
    rules: [
      { ...base, dport: LIVENESS_PORT },
      { ...base, sport: LIVENESS_PORT },
    ],
    routes: remote.map((ip) => ({ table: LIVENESS_TABLE, dst: `${ip}/32`, kind: "via", gateway: ip })),
  };
}

export function renderGateway(
  plan: GatewayReplicaPlan,
  options: Partial<DataplaneOptions> = {},
): Result<GatewayRender, string[]> {
  const o = withDefaults(options);
  const problems = check(plan);
  if (problems.length > 0) return err(problems);
  const nodes = sortedUnique(plan.nodes.map((n) => n.underlayIP));
  const workloads = sortedUnique(plan.workloadCidrs.map((c) => canonicalCidr4(c) ?? c));
  const fromWorkloads = is("ip saddr", inSet("egw_workload_cidrs"));
  const { table, text, shape } = versionedTable(GATEWAY_NFT_TABLE, [
    set("egw_nodes", ["ipv4_addr"], nodes),
    set("egw_workload_cidrs", ["ipv4_addr"], workloads, { interval: true }),
    chain(
      "egw_input",
      [
        rule([is("iif", "lo")], [], ACCEPT),
        rule([is("ct state", states("established", "related"))], [], ACCEPT),
        rule([is("udp dport", o.port), is("ip saddr", inSet("egw_nodes"))], [], ACCEPT),
        // BFD control packets of the nodes' liveness sessions, decapsulated.
        rule([is("iifname", VXLAN_DEVICE), is("udp dport", LIVENESS_PORT)], [], ACCEPT),
        rule([is("tcp dport", plan.healthPort)], [], ACCEPT),
        rule([], [counter()], DROP),
      ],
      { type: "filter", hook: "input", priority: { base: "filter", offset: 0 }, policy: "drop" },
    ),
    chain(
      "egw_forward",
      [
        rule([is("ct state", states("established", "related"))], [], ACCEPT),
        rule([is("iifname", VXLAN_DEVICE), is("oifname", plan.uplink), fromWorkloads], [], ACCEPT),
        rule([], [counter()], DROP),
      ],
      { type: "filter", hook: "forward", priority: { base: "filter", offset: 0 }, policy: "drop" },
    ),
    // Only the clients' traffic from the tunnel takes the egress IP: the replica's own traffic
    // (its datastore connection, readiness) keeps the pod IP, whose return path does not depend on
    // the egress IP being routed yet (with BGP it is announced only once the replica is ready).
    chain(
      "egw_postrouting",
      [
        rule(
          [is("iifname", VXLAN_DEVICE), is("oifname", plan.uplink), fromWorkloads],
          [{ kind: "snat", to: plan.egressIP }],
        ),
      ],
      { type: "nat", hook: "postrouting", priority: { base: "srcnat", offset: 0 }, policy: "accept" },
    ),
  ]);
  const invalid = new Transaction().replaceTable(table).error;
  if (invalid !== undefined) return err([`GatewayReplicaPlan of replica "${plan.replica}": ${invalid}`]);
  const peers = nodes.map((ip) => ({ ip, mac: macForIp(ip) ?? "", vtep: ip }));
  const routes = plan.nodes
    .flatMap((n) => n.podCidrs.map((c) => ({ dst: canonicalCidr4(c) ?? c, via: n.underlayIP })))
    .sort((a, b) => compareStrings(a.dst, b.dst));
  return ok({
    table,
    nft: text,
    shape,
    link: {
      name: VXLAN_DEVICE,
      vni: o.vni,
      port: o.port,
      local: plan.podIP,
      mac: macForIp(plan.podIP) ?? "",
      mtu: o.mtu,
    },
    sysctls: {
      "net/ipv4/ip_forward": "1",
      // Decapsulated traffic must come from a pod the tunnel routes back to (strict reverse path).
      [`net/ipv4/conf/${VXLAN_DEVICE}/rp_filter`]: "1",
    },
    peers,
    routes,
    liveness: livenessRouting(plan.podIP, nodes),
    address: { ip: plan.egressIP, dev: plan.uplink, label: egressAddressLabel(plan.uplink) },
  });
}
