// Scratch-netns topologies shared by the end-to-end tests and benchmarks. Every name carries the
// caller's random prefix; deleteNetns(Object.values(t.ns)) removes all of it again.
import { inNs, sh } from "./netns.js";

export interface PodLink {
  /** Host side of the pod's veth, in the node netns. */
  hostInterface: string;
  ip: string;
  /** The node-side address the pod routes through (a /24 on the host interface). */
  gateway: string;
}

/** A pod netns wired to its node by a veth: eth0 holds `ip`/24 with a default route via `gateway`. */
export const addPod = (nodeNs: string, podNs: string, p: PodLink): Promise<string> =>
  sh(`ip link add ${p.hostInterface} netns ${nodeNs} type veth peer name eth0 netns ${podNs}
    ip -n ${podNs} link set eth0 up; ip -n ${podNs} addr add ${p.ip}/24 dev eth0
    ip -n ${podNs} route add default via ${p.gateway}
    ip -n ${nodeNs} link set ${p.hostInterface} up; ip -n ${nodeNs} addr add ${p.gateway}/24 dev ${p.hostInterface}`);

/**
 * A node netns that forwards, with its underlay address on a veth of its own (egwul) and a link
 * (egwx, 198.18.0.1/24) to an external netns holding `externalIPs` (/24s, the first one primary)
 * that routes the pod range back via the node. No gateways: the policy tests and benchmark.
 */
export const linkNodeToExternal = (o: {
  node: string;
  ext: string;
  nodeIP: string;
  externalIPs: readonly string[];
}): Promise<string> =>
  sh(`ip -n ${o.node} link add egwul type veth peer name egwul1
    ip -n ${o.node} link set egwul up; ip -n ${o.node} link set egwul1 up
    ip -n ${o.node} addr add ${o.nodeIP}/24 dev egwul
    ip netns exec ${o.node} sysctl -qw net.ipv4.ip_forward=1
    ip link add egwx netns ${o.node} type veth peer name eth0 netns ${o.ext}
    ip -n ${o.node} link set egwx up; ip -n ${o.node} addr add 198.18.0.1/24 dev egwx
    ip -n ${o.ext} link set eth0 up
    ${o.externalIPs.map((ip) => `ip -n ${o.ext} addr add ${ip}/24 dev eth0`).join("\n")}
    ip -n ${o.ext} route add 10.244.0.0/16 via 198.18.0.1`);

/** Creates each namespace with its loopback up. */
export async function addNetns(names: Iterable<string>): Promise<void> {
  for (const ns of names) await sh(`ip netns add ${ns}; ip -n ${ns} link set lo up`);
}

/**
 * A client node with one pod, two gateway replicas and an external netns, joined by an underlay
 * bridge; the external side has a bridge the gateways' uplinks (ext0) join, a server address and
 * routes to the egress IPs as the lab router would have.
 */
export const gatewayTopology = (prefix: string) => {
  const ns = {
    ul: `${prefix}ul`,
    node: `${prefix}node`,
    pod: `${prefix}pod`,
    gw1: `${prefix}gw1`,
    gw2: `${prefix}gw2`,
    ext: `${prefix}ext`,
  };
  return {
    ns,
    nodeIP: "172.31.0.10",
    podIP: "10.244.1.10",
    /** The pod's host-side veth (lab-style name prefix "ew"). */
    podInterface: "ewpod1",
    server: "198.18.0.100",
    /** The TCP port the leak counter watches. */
    port: 8000,
    gateways: [
      { ns: ns.gw1, name: "gw-1", ip: "172.31.0.21", ext: "198.18.0.1", egress: "10.10.0.1" },
      { ns: ns.gw2, name: "gw-2", ip: "172.31.0.22", ext: "198.18.0.2", egress: "10.10.0.2" },
    ] as const,
  };
};
export type GatewayTopology = ReturnType<typeof gatewayTopology>;

/**
 * Builds `t` (no processes). Strict reverse-path filtering on the node and the gateways: the
 * design must work with it. The external side also routes pod IPs back via the node, so a
 * fail-open path would work, and counts such packets (see leakCount).
 */
export async function buildGatewayTopology(t: GatewayTopology): Promise<void> {
  const { ns } = t;
  await addNetns(Object.values(ns));
  await sh(`ip -n ${ns.ul} link add br0 type bridge; ip -n ${ns.ul} link set br0 up`);
  const attach = (netns: string, port: string, addr: string): Promise<string> =>
    sh(`ip link add ${port} netns ${ns.ul} type veth peer name ul0 netns ${netns}
      ip -n ${ns.ul} link set ${port} master br0 up; ip -n ${netns} link set ul0 up; ip -n ${netns} addr add ${addr}/24 dev ul0`);
  await attach(ns.node, "ul-node", t.nodeIP);
  await attach(ns.ext, "ul-ext", "172.31.0.100");
  await addPod(ns.node, ns.pod, { hostInterface: t.podInterface, ip: t.podIP, gateway: "10.244.1.1" });
  await sh(`ip -n ${ns.node} route add default via 172.31.0.100`);
  for (const netns of [ns.node, ns.gw1, ns.gw2])
    await inNs(
      netns,
      "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1",
    );
  await sh(`ip -n ${ns.ext} link add br-ext type bridge; ip -n ${ns.ext} link set br-ext up
    ip -n ${ns.ext} addr add ${t.server}/24 dev br-ext
    ip -n ${ns.ext} route add 10.244.0.0/16 via ${t.nodeIP}`);
  for (const [i, g] of t.gateways.entries()) {
    await attach(g.ns, `ul-gw${i + 1}`, g.ip);
    await sh(`ip link add ext-gw${i + 1} netns ${ns.ext} type veth peer name ext0 netns ${g.ns}
      ip -n ${ns.ext} link set ext-gw${i + 1} master br-ext up
      ip -n ${g.ns} link set ext0 up; ip -n ${g.ns} addr add ${g.ext}/24 dev ext0
      ip -n ${ns.ext} route add ${g.egress}/32 via ${g.ext}`);
  }
  await sh(
    `ip netns exec ${ns.ext} nft -f -`,
    `table inet egwtest {
  counter leak { }
  chain egwtest_in {
    type filter hook input priority filter; policy accept;
    ip saddr { 10.244.0.0/16, ${t.nodeIP} } tcp dport ${t.port} counter name "leak"
  }
}
`,
  );
}

/** Packets from pod or node addresses that reached the external server's port directly (bypassing the gateways). */
export async function leakCount(t: GatewayTopology): Promise<number> {
  const out = await inNs(t.ns.ext, "nft -j list counter inet egwtest leak");
  const json = JSON.parse(out) as { nftables: { counter?: { packets: number } }[] };
  return json.nftables.find((x) => x.counter)?.counter?.packets ?? -1;
}
