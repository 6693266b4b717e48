// What `egw up` does to the kernel, as data (pure): build steps (namespaces, one `ip -batch` per
// namespace, sysctls and nft tables) that work from nothing, in order. up.ts runs them.
import { renderFirewall } from "./firewall.js";
import { POD_INTERFACE, switchPort, UNDERLAY_BRIDGE, UNDERLAY_INTERFACE } from "./names.js";
import { POD_POOL_CIDR, UNDERLAY_PREFIX, type LabTopology } from "./topology.js";

export type BuildStep =
  | { kind: "netns"; names: string[] }
  | { kind: "ip"; netns: string; lines: string[] }
  | { kind: "sysctl"; netns: string; settings: Record<string, string> }
  | { kind: "nft"; netns: string; text: string };

/** Router and external side: the router's leg towards the external hosts. */
const ROUTER_EXTERNAL_INTERFACE = "ext0";

/** The nft table each node uses for the default (non-egw) node SNAT of pod traffic. */
export const NODE_NAT_TABLE = "egw_lab_nat";

/** Pod traffic leaving the node's underlay for a non-pod destination is NATed to the node IP. */
export const renderNodeNat = (): string =>
  [
    `table ip ${NODE_NAT_TABLE}`,
    `flush table ip ${NODE_NAT_TABLE}`,
    `table ip ${NODE_NAT_TABLE} {`,
    `  chain egw_postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    oifname "${UNDERLAY_INTERFACE}" ip saddr ${POD_POOL_CIDR} ip daddr != ${POD_POOL_CIDR} counter masquerade`,
    `  }`,
    `}`,
    ``,
  ].join("\n");

const up = (dev: string): string => `link set ${dev} up`;

/** Every step that builds the lab network, in an order that works from nothing. */
export const buildSteps = (t: LabTopology): BuildStep[] => {
  const attached = [
    { role: "ctl", netns: t.netns.ctl },
    { role: "rtr", netns: t.netns.rtr },
    ...t.nodes.map((n) => ({ role: `n${n.index}`, netns: n.netns })),
  ];
  const steps: BuildStep[] = [];
  steps.push({
    kind: "netns",
    names: [t.netns.ul, t.netns.ctl, t.netns.rtr, t.netns.ext, ...t.nodes.map((n) => n.netns)],
  });

  // The underlay switch: a bridge in its own namespace, so the router's firewall only ever sees
  // routed traffic. br_netfilter is switched off there: bridged frames skip nft entirely.
  steps.push({
    kind: "sysctl",
    netns: t.netns.ul,
    settings: {
      "net.bridge.bridge-nf-call-iptables": "0",
      "net.bridge.bridge-nf-call-ip6tables": "0",
      "net.bridge.bridge-nf-call-arptables": "0",
    },
  });
  steps.push({
    kind: "ip",
    netns: t.netns.ul,
    lines: [
      up("lo"),
      `link add ${UNDERLAY_BRIDGE} type bridge`,
      up(UNDERLAY_BRIDGE),
      ...attached.flatMap((a) => [
        `link add ${switchPort(a.role)} type veth peer name ${UNDERLAY_INTERFACE} netns ${a.netns}`,
        `link set ${switchPort(a.role)} master ${UNDERLAY_BRIDGE}`,
        up(switchPort(a.role)),
      ]),
    ],
  });

  const underlay = (ip: string): string[] => [
    up("lo"),
    `addr add ${ip}/${UNDERLAY_PREFIX} dev ${UNDERLAY_INTERFACE}`,
    up(UNDERLAY_INTERFACE),
  ];

  // Router: underlay on one leg, the external hosts' subnets on the other.
  steps.push({
    kind: "ip",
    netns: t.netns.rtr,
    lines: [
      ...underlay(t.routerIp),
      `link add ${ROUTER_EXTERNAL_INTERFACE} type veth peer name ${POD_INTERFACE} netns ${t.netns.ext}`,
      ...t.externalHosts.map((h) => `addr add ${h.routerIp}/${h.prefix} dev ${ROUTER_EXTERNAL_INTERFACE}`),
      up(ROUTER_EXTERNAL_INTERFACE),
    ],
  });
  // No ICMP redirects: the router shares the underlay with every node, so it would tell etcd's
  // namespace to reach an egress IP through its node directly, and that cached route outlives the
  // IP moving to another node (a replaced replica's etcd replies then went to the old node).
  steps.push({
    kind: "sysctl",
    netns: t.netns.rtr,
    settings: {
      "net.ipv4.ip_forward": "1",
      "net.ipv4.conf.all.send_redirects": "0",
      "net.ipv4.conf.default.send_redirects": "0",
      [`net.ipv4.conf.${UNDERLAY_INTERFACE}.send_redirects`]: "0",
    },
  });
  steps.push({ kind: "nft", netns: t.netns.rtr, text: renderFirewall() });

  // External hosts share one namespace; replies go back through the router.
  const firstHost = t.externalHosts[0];
  steps.push({
    kind: "ip",
    netns: t.netns.ext,
    lines: [
      up("lo"),
      ...t.externalHosts.map((h) => `addr add ${h.ip}/${h.prefix} dev ${POD_INTERFACE}`),
      up(POD_INTERFACE),
      ...(firstHost ? [`route add default via ${firstHost.routerIp}`] : []),
    ],
  });

  steps.push({
    kind: "ip",
    netns: t.netns.ctl,
    lines: [...underlay(t.controlIp), `route add default via ${t.routerIp}`],
  });

  for (const node of t.nodes) {
    const peers = t.nodes.filter((o) => o.index !== node.index);
    steps.push({
      kind: "ip",
      netns: node.netns,
      lines: [
        ...underlay(node.underlayIp),
        `route add default via ${t.routerIp}`,
        ...peers.map((o) => `route add ${o.podCidr} via ${o.underlayIp}`),
      ],
    });
    // Pods reach their gateway through a static neighbour entry (see pod-actions.ts); proxy_arp via
    // "default" makes every later pod veth answer ARP for it too, as a fallback. The underlay
    // interface exists already and keeps proxy_arp off.
    steps.push({
      kind: "sysctl",
      netns: node.netns,
      settings: {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.default.proxy_arp": "1",
      },
    });
    steps.push({ kind: "nft", netns: node.netns, text: renderNodeNat() });
  }
  return steps;
};
