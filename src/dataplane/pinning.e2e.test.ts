// End to end in network namespaces (root): per-connection replica pinning and the liveness path
// through the tunnel, on the kernel. A client node with one pod, two gateway replicas with strict
// rp_filter and an echo server that first reports the source address it sees. A long-lived TCP
// stream keeps its replica while that replica drains (and across dataplane restarts), while new
// connections go to the other; once the replica is no tunnel peer the stream is dropped, never
// sent out of the node's own path. BFD-port UDP between the node IP and a replica's IP is carried
// through egw.vxlan in both directions. Names carry a random prefix; after() removes everything.
import { connectionsScript, echoServerScript, streamScript } from "./testing/echo-scripts.js";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { macForIp } from "../calc/mac.js";
import type { GatewayHop, NodePlan, RetainedHop } from "../calc/plan.js";
import { LIVENESS_PORT, VXLAN_DEVICE } from "./config.js";
import { GatewayDataplane } from "./gateway-dataplane.js";
import { NodeDataplane } from "./node-dataplane.js";
import type { GatewayReplicaPlan } from "./render-gateway.js";
import { netnsRunner } from "./runner.js";
import { deleteNetns, inNs, lineFrom, Processes, sh, waitFor } from "./testing/netns.js";
import { buildGatewayTopology, gatewayTopology, leakCount } from "./testing/topology.js";

const PREFIX = `egwpin${randomBytes(3).toString("hex")}-`;
const T = gatewayTopology(PREFIX);
const { ns: NS, nodeIP: NODE_IP, podIP: POD_IP, server: SERVER, port: PORT, gateways: GW } = T;
type Gw = (typeof GW)[number];

const processes = new Processes();

const SERVER_JS = echoServerScript(SERVER, PORT);

/** N sequential connections; prints a JSON array of what the server saw, or "error:<code>". */
const CLIENT_JS = connectionsScript(SERVER, PORT, 2000);

/** One long-lived connection: each stdin line is sent and its echo printed. */
const STREAM_JS = streamScript(SERVER, PORT);

/** Prints "listening", then "got <address>:<port>" for every datagram to <address>:${LIVENESS_PORT}. */
const UDP_LISTEN_JS = `
const s = require("dgram").createSocket("udp4");
s.on("message", (m, r) => console.log("got " + r.address + ":" + r.port + " " + m));
s.bind(${LIVENESS_PORT}, process.argv[1], () => console.log("listening"));`;

/** Sends one datagram from <source> (ephemeral port) to <destination>:${LIVENESS_PORT}. */
const UDP_SEND_JS = `
const s = require("dgram").createSocket("udp4");
s.bind({ address: process.argv[1], port: 0 }, () =>
  s.send(process.argv[3], ${LIVENESS_PORT}, process.argv[2], (e) => { if (e) { console.error(e); process.exit(1); } s.close(); }));`;

/** A table in a netns that counts BFD-port packets arriving decapsulated from the tunnel. */
const TUNNEL_COUNTER = `table inet egwtestlv {
  chain lv_in {
    type filter hook input priority -10; policy accept;
    iifname "${VXLAN_DEVICE}" udp dport ${LIVENESS_PORT} counter comment "through the tunnel"
  }
}
`;

const hop = (g: Gw): GatewayHop => ({
  replica: `egress/${g.name}`,
  ip: g.ip,
  mac: macForIp(g.ip) ?? "",
  vtep: g.ip,
  egressIP: g.egress,
});

/** The client's plan: new connections through `hops`; `retained` keep theirs; peers = both. */
function plan(hops: Gw[], retained: Gw[] = []): NodePlan {
  const kept: RetainedHop[] = retained.map((g) => ({ ...hop(g), why: "draining" }));
  const route: NodePlan["gatewaySets"][number]["routes"][number] =
    hops.length > 0
      ? { destination: "0.0.0.0/0", action: "gateways", hops: hops.map(hop) }
      : { destination: "0.0.0.0/0", action: "unreachable", reason: "no usable replica" };
  return {
    node: "node1",
    nodeIP: NODE_IP,
    workloadCidrs: ["10.244.0.0/16"],
    workloads: [
      {
        namespace: "default",
        name: "client",
        ip: POD_IP,
        hostInterface: T.podInterface,
        gatewaySet: "set-a",
      },
    ],
    gatewaySets: [{ key: "set-a", routes: [route], ...(kept.length > 0 ? { retained: kept } : {}) }],
    tunnelPeers: [...hops, ...retained].map(hop).sort((a, b) => a.ip.localeCompare(b.ip)),
  };
}

const gatewayPlan = (g: Gw): GatewayReplicaPlan => ({
  replica: `egress/${g.name}`,
  podIP: g.ip,
  egressIP: g.egress,
  uplink: "ext0",
  workloadCidrs: ["10.244.0.0/16"],
  nodes: [{ name: "node1", underlayIP: NODE_IP, podCidrs: ["10.244.1.0/24"] }],
  healthPort: 8080,
});

async function connections(n: number): Promise<string[]> {
  return JSON.parse(await sh(`ip netns exec ${NS.pod} node -e '${CLIENT_JS}' ${n}`)) as string[];
}

/** Packets the rule with `comment` counted in `chain` of table `table` in netns `ns`. */
async function counted(ns: string, table: string, chain: string, comment: string): Promise<number> {
  const listing = await inNs(ns, `nft list chain inet ${table} ${chain}`);
  const m = new RegExp(`counter packets (\\d+) bytes \\d+ .*comment "${comment}"`).exec(listing);
  return Number(m?.[1] ?? -1);
}
const failClosed = (): Promise<number> =>
  counted(NS.node, "egw", "egw_established", "gateway set gone: fail closed");

/** The listener's line for datagram `text`; on failure, what each side's tunnel counter saw. */
const arrival = (listener: ReturnType<Processes["start"]>, text: string, what: string): Promise<string> =>
  lineFrom(listener, (l) => l.includes(text), 10_000).catch(async (e: unknown) => {
    const seen = async (ns: string) =>
      counted(ns, "egwtestlv", "lv_in", "through the tunnel").catch(() => -1);
    throw new Error(
      `${what}: ${String(e)}; tunnel counters: node ${await seen(NS.node)}, ` +
        `replica ${await seen(GW[0].ns)}; ${await inNs(NS.node, "ip -s link show egw.vxlan")}`,
    );
  });

describe("replica pinning and the liveness path (netns)", { concurrency: false }, () => {
  const node = netnsRunner(NS.node);
  const dp = new NodeDataplane(node);
  let stream: ReturnType<Processes["start"]> | undefined;
  let pinned: Gw | undefined;
  let other: Gw | undefined;

  before(async () => {
    await buildGatewayTopology(T);
    const server = processes.start(NS.ext, ["node", "-e", SERVER_JS]);
    await lineFrom(server, (l) => l.includes("listening"));
    for (const g of GW) {
      const r = await new GatewayDataplane(netnsRunner(g.ns)).reconcile(gatewayPlan(g));
      assert.ok(r.ok, r.ok ? "" : r.error);
    }
  });
  after(async () => {
    dp.close();
    processes.killAll();
    await deleteNetns(Object.values(NS));
  });

  const reconcile = async (p: NodePlan, d = dp) => {
    const r = await d.reconcile(p);
    assert.ok(r.ok, r.ok ? "" : r.error);
    return r.value;
  };
  /** Sends a line on the stream and waits for its echo (a broken stream fails the test). */
  const echoes = async (text: string): Promise<void> => {
    assert.ok(stream !== undefined);
    const echoed = lineFrom(stream, (l) => l.includes(text) || l.startsWith("error:"));
    stream.stdin.write(`${text}\n`);
    assert.equal(await echoed, text);
  };

  it("pins a long-lived stream to the replica the group chose", async () => {
    await reconcile(plan([...GW]));
    stream = processes.start(NS.pod, ["node", "-e", STREAM_JS]);
    const seen = await lineFrom(stream, (l) => l.length > 0);
    pinned = GW.find((g) => g.egress === seen);
    other = GW.find((g) => g.egress !== seen);
    assert.ok(pinned !== undefined && other !== undefined, `the server saw ${seen}`);
    await echoes("hello-1");
    const conntrack = await inNs(
      NS.node,
      `conntrack -L -p tcp --dport ${PORT} -o extended 2>/dev/null || true`,
    );
    const pin = (await reconcile(plan([...GW]))).plan.pins.find((p) => p.ip === pinned?.ip);
    assert.ok(pin !== undefined);
    assert.match(
      conntrack,
      new RegExp(`mark=${pin.mark}\\b`),
      `the stream's ct mark is the pin: ${conntrack}`,
    );
  });

  it("a restarted dataplane adopts the pins: no change, the stream goes on", async () => {
    const restarted = new NodeDataplane(node);
    const r = await reconcile(plan([...GW]), restarted);
    restarted.close();
    assert.deepEqual(r.actions, []);
    await echoes("hello-2");
  });

  it("keeps the stream on its draining replica while every new connection goes to the other", async () => {
    assert.ok(pinned !== undefined && other !== undefined);
    const r = await reconcile(plan([other], [pinned]));
    assert.ok(
      !r.actions.some((a) => a.startsWith("nft -f")),
      `a drain changes routing, not the nft table: ${r.actions.join("; ")}`,
    );
    await echoes("draining-1");
    const seen = await connections(20);
    assert.deepEqual(
      seen.filter((s) => s !== other?.egress),
      [],
      `all 20 new connections use ${other.egress}`,
    );
    await echoes("draining-2");
    // And across a restart during the drain.
    const restarted = new NodeDataplane(node);
    const again = await reconcile(plan([other], [pinned]), restarted);
    restarted.close();
    assert.deepEqual(again.actions, []);
    await echoes("draining-3");
  });

  it("drops the stream once its replica is no tunnel peer; nothing leaves by the node's path", async () => {
    assert.ok(pinned !== undefined && other !== undefined && stream !== undefined);
    const leaks = await leakCount(T);
    const dropped = await failClosed();
    await reconcile(plan([other]));
    let out = "";
    stream.stdout.on("data", (d: Buffer) => (out += d.toString()));
    stream.stdin.write("gone-1\n");
    await waitFor("the stream's packet to hit the fail-closed drop", async () =>
      (await failClosed()) > dropped ? true : undefined,
    );
    // Give a wrong path time to deliver an echo (the assertion is that none comes).
    await new Promise((r) => setTimeout(r, 1500));
    assert.doesNotMatch(out, /gone-1/);
    assert.equal(await leakCount(T), leaks, "the server saw the pod or node IP");
    assert.deepEqual(
      (await connections(4)).filter((s) => s !== other?.egress),
      [],
      "new connections still work",
    );
    stream.kill("SIGKILL");
  });

  it("carries BFD-port UDP between the node IP and a replica through the tunnel, both ways, under strict rp_filter", async () => {
    await reconcile(plan([...GW]));
    const g = GW[0];
    await inNs(NS.node, "nft -f -", TUNNEL_COUNTER);
    await inNs(g.ns, "nft -f -", TUNNEL_COUNTER);
    assert.equal((await inNs(g.ns, "sysctl -n net.ipv4.conf.all.rp_filter")).trim(), "1");
    assert.equal((await inNs(g.ns, `cat /proc/sys/net/ipv4/conf/${VXLAN_DEVICE}/rp_filter`)).trim(), "1");
    const atGateway = processes.start(g.ns, ["node", "-e", UDP_LISTEN_JS, g.ip]);
    const atNode = processes.start(NS.node, ["node", "-e", UDP_LISTEN_JS, NODE_IP]);
    // Both waits start before either is awaited: a line printed with no listener is lost.
    await Promise.all([atGateway, atNode].map((c) => lineFrom(c, (l) => l.includes("listening"))));

    // Node → replica: the rule `from <node IP> ipproto udp dport 3784` takes it into the tunnel.
    const toGateway = arrival(atGateway, "ping-node", "node → replica");
    await sh(`ip netns exec ${NS.node} node -e '${UDP_SEND_JS}' ${NODE_IP} ${g.ip} ping-node`);
    assert.match(await toGateway, new RegExp(`^got ${NODE_IP.replace(/\./g, "\\.")}:`));
    assert.equal(await counted(g.ns, "egwtestlv", "lv_in", "through the tunnel"), 1);

    // Replica → node: its own dport 3784 rule; the node sees it arrive on egw.vxlan.
    const toNode = arrival(atNode, "ping-gateway", "replica → node");
    await sh(`ip netns exec ${g.ns} node -e '${UDP_SEND_JS}' ${g.ip} ${NODE_IP} ping-gateway`);
    assert.match(await toNode, new RegExp(`^got ${g.ip.replace(/\./g, "\\.")}:`));
    assert.equal(await counted(NS.node, "egwtestlv", "lv_in", "through the tunnel"), 1);
  });
});
