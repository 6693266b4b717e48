// End to end in network namespaces (root): a client node with one pod, two gateway replicas and an
// external server that reports the source address it sees. Everything is named with a random
// prefix and removed in after(), also when a test fails.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { macForIp } from "../calc/mac.js";
import type { GatewayHop, NodePlan } from "../calc/plan.js";
import { MARK_MASK, TABLE_FIRST, VXLAN_DEVICE } from "./config.js";
import { GatewayDataplane } from "./gateway-dataplane.js";
import { NodeDataplane } from "./node-dataplane.js";
import { renderGateway, type GatewayPlan } from "./render-gateway.js";
import { renderNode } from "./render-node.js";
import { netnsRunner, type Runner } from "./runner.js";

const P = `egwdp${randomBytes(3).toString("hex")}-`;
const NS = { ul: `${P}ul`, node: `${P}node`, pod: `${P}pod`, gw1: `${P}gw1`, gw2: `${P}gw2`, ext: `${P}ext` };
const NODE_IP = "172.31.0.10";
const POD_IP = "10.244.1.10";
const SERVER = "198.18.0.100";
const PORT = 8000;
const GW = [
  { ns: NS.gw1, ip: "172.31.0.21", ext: "198.18.0.1", egress: "10.10.0.1" },
  { ns: NS.gw2, ip: "172.31.0.22", ext: "198.18.0.2", egress: "10.10.0.2" },
];
const SET_MARK = 1 << 16;
const SET_TABLE = TABLE_FIRST;

const children: ChildProcessWithoutNullStreams[] = [];

async function sh(cmd: string, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-ec", cmd]);
    let out = "";
    let errOut = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (errOut += b.toString()));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd}: ${errOut}`))));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}
const inNs = (ns: string, cmd: string): Promise<string> => sh(`ip netns exec ${ns} sh -ec '${cmd}'`);

const SERVER_JS = `
const net = require("net");
net.createServer((s) => { s.on("error", () => {}); s.write(s.remoteAddress.replace(/^::ffff:/, "") + "\\n"); s.pipe(s); })
  .listen(${PORT}, "${SERVER}", () => console.log("listening"));`;

/** N sequential connections; prints a JSON array of what the server saw, or "error:<code>". */
const CLIENT_JS = `
const net = require("net");
const [n, local] = [Number(process.argv[1]), process.argv[2]];
const one = () => new Promise((res) => {
  const s = net.connect({ host: "${SERVER}", port: ${PORT}, localAddress: local || undefined });
  const t = setTimeout(() => { s.destroy(); res("error:timeout"); }, 1500);
  let buf = "";
  s.on("data", (d) => { buf += d; if (buf.includes("\\n")) { clearTimeout(t); s.destroy(); res(buf.trim()); } });
  s.on("error", (e) => { clearTimeout(t); res("error:" + e.code); });
});
(async () => { const out = []; for (let i = 0; i < n; i++) out.push(await one()); console.log(JSON.stringify(out)); })();`;

/** One long-lived connection: each stdin line is sent and its echo printed. */
const LONG_JS = `
const net = require("net");
const s = net.connect({ host: "${SERVER}", port: ${PORT} });
s.setEncoding("utf8");
s.on("data", (d) => process.stdout.write(d));
s.on("error", (e) => { console.log("error:" + e.code); process.exit(1); });
process.stdin.on("data", (d) => s.write(d));`;

async function connections(n: number, local = ""): Promise<string[]> {
  const out = await sh(`ip netns exec ${NS.pod} node -e '${CLIENT_JS}' ${n} ${local}`);
  return JSON.parse(out) as string[];
}

function spawnInNs(ns: string, js: string): ChildProcessWithoutNullStreams {
  const child = spawn("ip", ["netns", "exec", ns, "node", "-e", js]);
  children.push(child);
  return child;
}

/** Resolves with the next stdout line containing `expect`; a generous guard keeps a broken run from hanging. */
function nextLine(child: ChildProcessWithoutNullStreams, expect: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const guard = setTimeout(() => done(new Error(`no "${expect}" from child; got: ${buf}`)), 10_000);
    const onData = (b: Buffer): void => {
      buf += b.toString();
      const line = buf.split("\n").find((l) => l.includes(expect));
      if (line !== undefined) done(undefined, line);
    };
    const done = (e?: Error, line?: string): void => {
      clearTimeout(guard);
      child.stdout.off("data", onData);
      if (e) reject(e);
      else resolve(line ?? "");
    };
    child.stdout.on("data", onData);
  });
}

const hop = (g: (typeof GW)[number]): GatewayHop => ({
  replica: `egress/${g.ns}`,
  ip: g.ip,
  mac: macForIp(g.ip) ?? "",
  vtep: g.ip,
  egressIP: g.egress,
});

function nodePlan(routes: NodePlan["gatewaySets"][number]["routes"], blocked = false): NodePlan {
  const hops = routes.flatMap((r) => (r.action === "gateways" ? r.hops : []));
  return {
    node: "node1",
    nodeIP: NODE_IP,
    workloadCidrs: ["10.244.0.0/16"],
    workloads: [
      {
        namespace: "default",
        name: "client",
        ip: POD_IP,
        hostInterface: "ewpod1",
        gatewaySet: "set-a",
        ...(blocked ? { blocked: { reason: "test" } } : {}),
      },
    ],
    gatewaySets: [{ key: "set-a", mark: SET_MARK, table: SET_TABLE, routes }],
    tunnelPeers: [...new Map(hops.map((h) => [h.ip, h])).values()],
  };
}
const viaGateways = (...gws: (typeof GW)[number][]): NodePlan =>
  nodePlan([{ destination: "0.0.0.0/0", action: "gateways", hops: gws.map(hop) }]);

const gatewayPlan = (g: (typeof GW)[number]): GatewayPlan => ({
  replica: `egress/${g.ns}`,
  podIP: g.ip,
  egressIP: g.egress,
  uplink: "ext0",
  workloadCidrs: ["10.244.0.0/16"],
  nodes: [{ name: "node1", underlayIP: NODE_IP, podCidrs: ["10.244.1.0/24"] }],
  healthPort: 8080,
});

async function leakCount(): Promise<number> {
  const out = await inNs(NS.ext, "nft -j list counter inet egwtest leak");
  const json = JSON.parse(out) as { nftables: { counter?: { packets: number } }[] };
  return json.nftables.find((x) => x.counter)?.counter?.packets ?? -1;
}

async function buildTopology(): Promise<void> {
  for (const ns of Object.values(NS)) await sh(`ip netns add ${ns}; ip -n ${ns} link set lo up`);
  await sh(`ip -n ${NS.ul} link add br0 type bridge; ip -n ${NS.ul} link set br0 up`);
  const attach = async (ns: string, port: string, addr: string): Promise<void> => {
    await sh(`ip link add ${port} netns ${NS.ul} type veth peer name ul0 netns ${ns}
      ip -n ${NS.ul} link set ${port} master br0 up; ip -n ${ns} link set ul0 up; ip -n ${ns} addr add ${addr}/24 dev ul0`);
  };
  await attach(NS.node, "ul-node", NODE_IP);
  await attach(NS.ext, "ul-ext", "172.31.0.100");
  // The pod and its host-side veth (lab-style name prefix "ew").
  await sh(`ip link add ewpod1 netns ${NS.node} type veth peer name eth0 netns ${NS.pod}
    ip -n ${NS.pod} link set eth0 up; ip -n ${NS.pod} addr add ${POD_IP}/24 dev eth0
    ip -n ${NS.pod} route add default via 10.244.1.1
    ip -n ${NS.node} link set ewpod1 up; ip -n ${NS.node} addr add 10.244.1.1/24 dev ewpod1
    ip -n ${NS.node} route add default via 172.31.0.100`);
  // Strict reverse-path filtering on the node and gateways: the design must work with it.
  for (const ns of [NS.node, NS.gw1, NS.gw2])
    await inNs(
      ns,
      "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1",
    );
  // External side: server plus a bridge the gateways' uplinks join; routes to the egress IPs as
  // the lab router would have. It also routes pod IPs back via the node, so failing open would work
  // and the leak counter below would see it.
  await sh(`ip -n ${NS.ext} link add br-ext type bridge; ip -n ${NS.ext} link set br-ext up
    ip -n ${NS.ext} addr add ${SERVER}/24 dev br-ext
    ip -n ${NS.ext} route add 10.244.0.0/16 via ${NODE_IP}`);
  for (const [i, g] of GW.entries()) {
    await attach(g.ns, `ul-gw${i + 1}`, g.ip);
    await sh(`ip link add ext-gw${i + 1} netns ${NS.ext} type veth peer name ext0 netns ${g.ns}
      ip -n ${NS.ext} link set ext-gw${i + 1} master br-ext up
      ip -n ${g.ns} link set ext0 up; ip -n ${g.ns} addr add ${g.ext}/24 dev ext0
      ip -n ${NS.ext} route add ${g.egress}/32 via ${g.ext}`);
  }
  await sh(
    `ip netns exec ${NS.ext} nft -f -`,
    `table inet egwtest {
  counter leak { }
  chain egwtest_in {
    type filter hook input priority filter; policy accept;
    ip saddr { 10.244.0.0/16, ${NODE_IP} } tcp dport ${PORT} counter name "leak"
  }
}
`,
  );
  // Foreign objects egw must never touch.
  await sh(`ip -n ${NS.node} rule add from 10.99.0.0/16 lookup 100 priority 500
    ip -n ${NS.node} route add unreachable 10.99.0.0/16 table 100
    ip -n ${NS.node} nexthop add id 77 via 172.31.0.100 dev ul0`);
  await sh(
    `ip netns exec ${NS.node} nft -f -`,
    "table inet foreign {\n  chain foreign_in {\n    type filter hook input priority 10; policy accept;\n  }\n}\n",
  );
  const server = spawnInNs(NS.ext, SERVER_JS);
  await nextLine(server, "listening");
}

async function cleanup(): Promise<void> {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) c.kill("SIGKILL");
  for (const ns of Object.values(NS)) await sh(`ip netns del ${ns} 2>/dev/null || true`);
}

describe("dataplane end to end (netns)", { concurrency: false }, () => {
  const node: Runner = netnsRunner(NS.node);
  const dp = new NodeDataplane(node);
  const egressIPs = new Set(GW.map((g) => g.egress));

  before(buildTopology);
  after(cleanup);

  const reconcileOk = async (plan: NodePlan, d = dp): Promise<number> => {
    const r = await d.reconcile(plan);
    assert.ok(r.ok, r.ok ? "" : r.error);
    return r.value.changes;
  };
  const assertOnlyVia = async (allowed: string[], n = 4): Promise<string[]> => {
    const seen = await connections(n);
    for (const s of seen)
      assert.ok(allowed.includes(s), `server saw ${s}, expected one of ${allowed.join(", ")}`);
    return seen;
  };

  it("rendered rulesets pass `nft -c`", async () => {
    const r = renderNode(viaGateways(...GW));
    assert.ok(r.ok);
    await inNs(NS.node, "true");
    await sh(`ip netns exec ${NS.node} nft -c -f -`, r.value.nft);
    const g = renderGateway(gatewayPlan(GW[0]!));
    assert.ok(g.ok);
    await sh(`ip netns exec ${NS.gw1} nft -c -f -`, g.value.nft);
  });

  it("gateways come up and a second reconcile changes nothing", async () => {
    for (const g of GW) {
      const gdp = new GatewayDataplane(netnsRunner(g.ns));
      const first = await gdp.reconcile(gatewayPlan(g));
      assert.ok(first.ok, first.ok ? "" : first.error);
      assert.ok(first.value.changes > 0);
      const again = await new GatewayDataplane(netnsRunner(g.ns)).reconcile(gatewayPlan(g));
      assert.ok(again.ok, again.ok ? "" : again.error);
      assert.deepEqual(again.value.actions, []);
    }
  });

  it("steers the pod through both gateways, never leaving with the pod or node IP", async () => {
    assert.ok((await reconcileOk(viaGateways(...GW))) > 0);
    const seen = await assertOnlyVia([...egressIPs], 24);
    assert.deepEqual(new Set(seen), egressIPs, `24 connections should use both gateways: ${seen.join(" ")}`);
  });

  it("drops traffic with a spoofed source address", async () => {
    await inNs(NS.pod, "ip addr add 10.244.1.99/24 dev eth0");
    const seen = await connections(2, "10.244.1.99");
    assert.ok(
      seen.every((s) => s.startsWith("error:")),
      seen.join(" "),
    );
  });

  it("a restarted dataplane adopts the kernel state: no changes, established flows survive", async () => {
    const long = spawnInNs(NS.pod, LONG_JS);
    long.stdin.write("hello-1\n");
    assert.match(await nextLine(long, "hello-1"), /hello-1/);
    const restarted = new NodeDataplane(node);
    const r = await restarted.reconcile(viaGateways(...GW));
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.deepEqual(r.value.actions, []);
    assert.equal(r.value.changes, 0);
    long.stdin.write("hello-2\n");
    assert.match(await nextLine(long, "hello-2"), /hello-2/);
    long.kill("SIGKILL");
  });

  const groupOfDefault = async (): Promise<number | undefined> => {
    const routes = JSON.parse(await inNs(NS.node, `ip -json route show table ${SET_TABLE}`)) as {
      dst: string;
      nhid?: number;
    }[];
    return routes.find((r) => r.dst === "default")?.nhid;
  };

  it("removing a gateway moves new connections to the other, in the same resilient group", async () => {
    const group = await groupOfDefault();
    assert.notEqual(group, undefined);
    await reconcileOk(viaGateways(GW[0]!));
    assert.equal(await groupOfDefault(), group, "the group is updated in place, not re-created");
    await assertOnlyVia([GW[0]!.egress], 12);
    const nexthops = await inNs(NS.node, "ip -json nexthop show");
    assert.ok(!nexthops.includes(GW[1]!.ip), "the removed gateway's nexthop is deleted");
  });

  it("throw routes leave through the node's normal path", async () => {
    await reconcileOk(
      nodePlan([
        { destination: "0.0.0.0/0", action: "gateways", hops: [hop(GW[0]!)] },
        { destination: `${SERVER}/32`, action: "throw" },
      ]),
    );
    await assertOnlyVia([POD_IP], 2);
    await reconcileOk(viaGateways(...GW));
  });

  const hopId = async (ip: string): Promise<number | undefined> => {
    const all = JSON.parse(await inNs(NS.node, "ip -json nexthop show")) as {
      id: number;
      gateway?: string;
    }[];
    return all.find((n) => n.gateway === ip)?.id;
  };
  const drifts: [string, () => Promise<string>][] = [
    ["a deleted nft table", async () => "nft delete table inet egw"],
    ["a deleted route", async () => `ip route del table ${SET_TABLE} default`],
    ["a link flap", async () => `ip link set ${VXLAN_DEVICE} down; ip link set ${VXLAN_DEVICE} up`],
    ["a deleted nexthop", async () => `ip nexthop del id ${await hopId(GW[0]!.ip)}`],
    ["deleted neighbours", async () => `ip neigh flush dev ${VXLAN_DEVICE} nud permanent`],
  ];
  for (const [what, cmd] of drifts) {
    it(`repairs ${what}`, async () => {
      await inNs(NS.node, await cmd());
      assert.ok((await reconcileOk(viaGateways(...GW))) > 0, "reconcile made repairs");
      await assertOnlyVia([...egressIPs]);
      assert.equal(await reconcileOk(viaGateways(...GW)), 0, "a second reconcile finds nothing to do");
    });
  }

  it("fails closed when the set has no usable gateway: nothing reaches the outside", async () => {
    const before = await leakCount();
    await reconcileOk(
      nodePlan([{ destination: "0.0.0.0/0", action: "unreachable", reason: "no ready gateway" }]),
    );
    const seen = await connections(6);
    assert.ok(
      seen.every((s) => s.startsWith("error:")),
      seen.join(" "),
    );
    assert.equal(await leakCount(), before, "the external side saw packets from the pod or node IP");
    const nexthops = await inNs(NS.node, "ip -json nexthop show");
    assert.ok(
      !nexthops.includes(GW[0]!.ip) && nexthops.includes('"id":77'),
      "our nexthops gone, foreign one kept",
    );
  });

  it("blocks a blocked workload's egress and counts it", async () => {
    await reconcileOk(viaGateways(...GW));
    await assertOnlyVia([...egressIPs], 2);
    const before = await leakCount();
    await reconcileOk(nodePlan([{ destination: "0.0.0.0/0", action: "gateways", hops: GW.map(hop) }], true));
    const seen = await connections(3);
    assert.ok(
      seen.every((s) => s.startsWith("error:")),
      seen.join(" "),
    );
    assert.equal(await leakCount(), before);
    const listing = await inNs(NS.node, "nft list chain inet egw egw_forward");
    assert.match(listing, /ip saddr @egw_blocked ct direction original counter packets [1-9]/);
  });

  it("returns an nft failure as a value and keeps the previous ruleset", async () => {
    await reconcileOk(viaGateways(...GW));
    const before = await inNs(NS.node, "nft list table inet egw");
    const r = await dp.reconcile(viaGateways(...GW), { definitions: [], rules: ["this is not nft"] });
    assert.equal(r.ok, false);
    assert.equal(await inNs(NS.node, "nft list table inet egw"), before);
    await assertOnlyVia([...egressIPs], 2);
  });

  it("rejects an invalid plan without touching the kernel", async () => {
    const bad = viaGateways(...GW);
    bad.gatewaySets[0]!.mark = 0x1; // outside the mask
    const r = await dp.reconcile(bad);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /gatewaySets\[0\].*mark 0x00000001.*mask/);
    assert.equal(await reconcileOk(viaGateways(...GW)), 0);
  });

  it("never touched foreign rules, tables, nexthops or nft tables", async () => {
    const rules = await inNs(NS.node, "ip rule show");
    assert.match(rules, /500:\s+from 10\.99\.0\.0\/16 lookup 100/);
    assert.match(await inNs(NS.node, "ip route show table 100"), /unreachable 10\.99\.0\.0\/16/);
    assert.match(await inNs(NS.node, "ip nexthop show id 77"), /via 172\.31\.0\.100/);
    assert.match(await inNs(NS.node, "nft list tables"), /table inet foreign/);
    assert.match(rules, new RegExp(`fwmark 0x10000/0x${MARK_MASK.toString(16)} lookup ${SET_TABLE}`));
  });

  it("teardown removes everything egw owns", async () => {
    const r = await dp.teardown();
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.doesNotMatch(await inNs(NS.node, "ip rule show"), /fwmark/);
    assert.doesNotMatch(await inNs(NS.node, "nft list tables"), /inet egw$/m);
    assert.match(await inNs(NS.node, "nft list tables"), /table inet foreign/);
    assert.match(await inNs(NS.node, "ip nexthop show id 77"), /via 172\.31\.0\.100/);
  });
});
