// GatewayPlan → what a gateway replica's netns must hold (pure): the tunnel endpoint, the egress
// IP, the return routes to every node's pods through the tunnel, and an nft table that accepts
// only tunnel traffic from cluster nodes and health checks, forwards only decapsulated workload
// traffic out of the uplink, and SNATs it to the egress IP (never masquerade).
import { macForIp } from "../calc/mac.js";
import { err, ok, type Result } from "../util/result.js";
import { GATEWAY_NFT_TABLE, VXLAN_DEVICE, withDefaults, type DataplaneOptions } from "./config.js";
import type { NftShape, Sysctls, TunnelPeer, VxlanLink } from "./model.js";
import { cidr4, elements, ipv4, replaceTableText, validIfname } from "./nft-text.js";

export interface GatewayNode {
  name: string;
  /** The node's underlay IP: VXLAN source of its egress traffic and destination of the replies. */
  underlayIP: string;
  /** Pod CIDRs hosted on the node: replies to them are tunnelled back to it. */
  podCidrs: string[];
}

export interface GatewayPlan {
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
  nft: string;
  shape: NftShape;
  link: VxlanLink;
  sysctls: Sysctls;
  peers: TunnelPeer[];
  routes: GatewayRoute[];
  address: { ip: string; dev: string; label?: string };
}

/** Label that marks the egress address as egw's, when `<uplink>:egw` fits IFNAMSIZ. */
export const egressAddressLabel = (uplink: string): string | undefined =>
  `${uplink}:egw`.length <= 15 ? `${uplink}:egw` : undefined;

function check(p: GatewayPlan): string[] {
  const at = `GatewayPlan of replica "${p.replica}"`;
  const e: string[] = [];
  if (ipv4(p.podIP) === undefined) e.push(`${at}: podIP "${p.podIP}" is not an IPv4 address`);
  if (ipv4(p.egressIP) === undefined) e.push(`${at}: egressIP "${p.egressIP}" is not an IPv4 address`);
  if (!validIfname(p.uplink)) e.push(`${at}: uplink "${p.uplink}" is not a valid interface name`);
  if (!Number.isInteger(p.healthPort) || p.healthPort < 1 || p.healthPort > 65535)
    e.push(`${at}: healthPort ${p.healthPort} must be 1-65535`);
  p.workloadCidrs.forEach((c, i) => {
    if (cidr4(c) === undefined) e.push(`${at}: workloadCidrs[${i}] "${c}" is not an IPv4 CIDR`);
  });
  p.nodes.forEach((n, i) => {
    if (ipv4(n.underlayIP) === undefined)
      e.push(`${at}: nodes[${i}] (${n.name}).underlayIP "${n.underlayIP}" is not IPv4`);
    n.podCidrs.forEach((c, j) => {
      if (cidr4(c) === undefined)
        e.push(`${at}: nodes[${i}] (${n.name}).podCidrs[${j}] "${c}" is not an IPv4 CIDR`);
    });
  });
  return e;
}

const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

export function renderGateway(
  plan: GatewayPlan,
  options: Partial<DataplaneOptions> = {},
): Result<GatewayRender, string[]> {
  const o = withDefaults(options);
  const problems = check(plan);
  if (problems.length > 0) return err(problems);
  const nodes = sortedUnique(plan.nodes.map((n) => n.underlayIP));
  const workloads = sortedUnique(plan.workloadCidrs.map((c) => cidr4(c) ?? c));
  const up = `"${plan.uplink}"`;
  const body = {
    lines: [
      `set egw_nodes { type ipv4_addr;${elements(nodes)} }`,
      `set egw_workload_cidrs { type ipv4_addr; flags interval; auto-merge;${elements(workloads)} }`,
      `chain egw_input {`,
      `  type filter hook input priority filter; policy drop;`,
      `  iif "lo" accept`,
      `  ct state established,related accept`,
      `  udp dport ${o.port} ip saddr @egw_nodes accept`,
      `  tcp dport ${plan.healthPort} accept`,
      `  counter drop`,
      `}`,
      `chain egw_forward {`,
      `  type filter hook forward priority filter; policy drop;`,
      `  ct state established,related accept`,
      `  iifname "${VXLAN_DEVICE}" oifname ${up} ip saddr @egw_workload_cidrs accept`,
      `  counter drop`,
      `}`,
      `chain egw_postrouting {`,
      `  type nat hook postrouting priority srcnat; policy accept;`,
      `  oifname ${up} ip saddr @egw_workload_cidrs snat ip to ${plan.egressIP}`,
      `}`,
    ],
    chains: { egw_input: 5, egw_forward: 3, egw_postrouting: 1 },
    sets: { egw_nodes: nodes.length },
  };
  const { text, shape } = replaceTableText(GATEWAY_NFT_TABLE, body);
  const peers = nodes.map((ip) => ({ ip, mac: macForIp(ip) ?? "", vtep: ip }));
  const routes = plan.nodes
    .flatMap((n) => n.podCidrs.map((c) => ({ dst: cidr4(c) ?? c, via: n.underlayIP })))
    .sort((a, b) => a.dst.localeCompare(b.dst));
  return ok({
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
    address: { ip: plan.egressIP, dev: plan.uplink, label: egressAddressLabel(plan.uplink) },
  });
}
