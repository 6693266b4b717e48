// `npm run bench -- dataplane` (root): TCP throughput (iperf3) and new-connection rate from a pod to
// an external server over three paths, side by side in one run of scratch network namespaces:
//   kernel  hand-built VXLAN + plain `ip rule`/route into the tunnel + plain `snat` on a gateway:
//           the kernel's limit for this design (no egw rules anywhere);
//   egw     the same shape built by the real NodeDataplane + GatewayDataplane from a NodePlan and
//           a GatewayReplicaPlan (nft steering, marks, resilient nexthop group, gateway filter);
//   direct  pod → node masquerade → external, no tunnel (a pod not selected for a gateway, on the
//           egw node, so it still passes egw's table).
// Each round runs every path once (interleaved); the table reports medians over the rounds.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { macForIp } from "../src/calc/mac.js";
import type { NodePlan } from "../src/calc/plan.js";
import { GatewayDataplane } from "../src/dataplane/gateway-dataplane.js";
import { NodeDataplane } from "../src/dataplane/node-dataplane.js";
import type { GatewayReplicaPlan } from "../src/dataplane/render-gateway.js";
import { netnsRunner } from "../src/dataplane/runner.js";
import { median, printTable } from "./report.js";

const ROUNDS = 5;
const IPERF_SECONDS = 3;
const CONNECTS = 2_000;
const SERVER = "198.18.0.100";
const IPERF_PORT = 5201;
const ACCEPT_PORT = 7000;
const POD_MTU = 1450; // the tunnel MTU, for every pod alike, so the paths carry equal segments

const P = `egwbd${randomBytes(3).toString("hex")}-`;
const NS = {
  ul: `${P}ul`,
  egwNode: `${P}ne`,
  plainNode: `${P}np`,
  egwPod: `${P}pe`,
  directPod: `${P}pd`,
  plainPod: `${P}pp`,
  egwGw: `${P}ge`,
  plainGw: `${P}gp`,
  ext: `${P}ext`,
};
const ADDR = {
  egwNode: "172.31.0.10",
  plainNode: "172.31.0.11",
  egwGw: "172.31.0.21",
  plainGw: "172.31.0.22",
  extUnderlay: "172.31.0.100",
  egwPod: "10.244.1.10",
  directPod: "10.244.1.20",
  plainPod: "10.244.2.10",
  egwEgress: "10.10.0.1",
  plainEgress: "10.10.0.2",
};

interface Path {
  name: "kernel" | "egw" | "direct";
  pod: string;
  /** The source address the external side must see on this path. */
  source: string;
}
const PATHS: Path[] = [
  { name: "kernel", pod: NS.plainPod, source: ADDR.plainEgress },
  { name: "egw", pod: NS.egwPod, source: ADDR.egwEgress },
  { name: "direct", pod: NS.directPod, source: ADDR.egwNode },
];

// ---- processes -------------------------------------------------------------------------------

const children: ChildProcess[] = [];

function sh(script: string, input?: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "sh",
      ["-ec", script],
      { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (e, out, err) =>
        e ? reject(new Error(`${script.split("\n")[0]}…: ${err || e.message}`)) : resolve(out),
    );
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input ?? "");
  });
}

/** Starts a long-running program in a netns; resolves once it printed `ready`. */
function background(ns: string, argv: string[], ready: string): Promise<void> {
  const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const guard = setTimeout(() => reject(new Error(`${argv[0]} in ${ns} did not start: ${out}`)), 10_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(ready)) {
        clearTimeout(guard);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", () => {
      clearTimeout(guard);
      reject(new Error(`${argv[0]} in ${ns} exited: ${out}`));
    });
  });
}

/** Synchronous, so it also works from a signal handler: kill our children, delete our netns. */
function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
}

// ---- topology --------------------------------------------------------------------------------

async function buildTopology(): Promise<void> {
  for (const ns of Object.values(NS)) await sh(`ip netns add ${ns}; ip -n ${ns} link set lo up`);
  for (const ns of Object.values(NS))
    await sh(
      `ip netns exec ${ns} sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0`,
    );
  await sh(`ip -n ${NS.ul} link add br0 type bridge; ip -n ${NS.ul} link set br0 up`);
  const underlay = (ns: string, port: string, addr: string): Promise<string> =>
    sh(`ip link add ${port} netns ${NS.ul} type veth peer name ul0 netns ${ns}
      ip -n ${NS.ul} link set ${port} master br0 up
      ip -n ${ns} link set ul0 up; ip -n ${ns} addr add ${addr}/24 dev ul0`);
  await underlay(NS.egwNode, "ul-ne", ADDR.egwNode);
  await underlay(NS.plainNode, "ul-np", ADDR.plainNode);
  await underlay(NS.egwGw, "ul-ge", ADDR.egwGw);
  await underlay(NS.plainGw, "ul-gp", ADDR.plainGw);
  await underlay(NS.ext, "ul-ext", ADDR.extUnderlay);

  const pod = (node: string, pod: string, hostIf: string, ip: string, gw: string): Promise<string> =>
    sh(`ip link add ${hostIf} netns ${node} type veth peer name eth0 netns ${pod}
      ip -n ${pod} link set eth0 mtu ${POD_MTU} up; ip -n ${pod} addr add ${ip}/24 dev eth0
      ip -n ${pod} route add default via ${gw}
      ip -n ${node} link set ${hostIf} mtu ${POD_MTU} up`);
  // Both egw-node pods share one /24 on the node (two veths, one gateway address, /32 routes).
  await pod(NS.egwNode, NS.egwPod, "ewpod1", ADDR.egwPod, "10.244.1.1");
  await pod(NS.egwNode, NS.directPod, "ewpod2", ADDR.directPod, "10.244.1.1");
  await sh(`ip -n ${NS.egwNode} addr add 10.244.1.1/32 dev ewpod1
    ip -n ${NS.egwNode} addr add 10.244.1.1/32 dev ewpod2
    ip -n ${NS.egwNode} route add ${ADDR.egwPod}/32 dev ewpod1
    ip -n ${NS.egwNode} route add ${ADDR.directPod}/32 dev ewpod2
    ip -n ${NS.egwNode} route add default via ${ADDR.extUnderlay}`);
  await pod(NS.plainNode, NS.plainPod, "ewpod1", ADDR.plainPod, "10.244.2.1");
  await sh(`ip -n ${NS.plainNode} addr add 10.244.2.1/24 dev ewpod1
    ip -n ${NS.plainNode} route add default via ${ADDR.extUnderlay}`);
  for (const ns of [NS.egwNode, NS.plainNode, NS.egwGw, NS.plainGw])
    await sh(`ip netns exec ${ns} sysctl -qw net.ipv4.ip_forward=1`);
  // Node SNAT for pods that use no gateway (the direct path), as a CNI's natOutgoing would do.
  await sh(
    `ip netns exec ${NS.egwNode} nft -f -`,
    `table ip bench_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.244.0.0/16 oifname "ul0" masquerade
  }
}
`,
  );

  // External side: the servers on a bridge the gateways' uplinks join; routes to the egress IPs
  // as the lab router would have.
  await sh(`ip -n ${NS.ext} link add br-ext type bridge; ip -n ${NS.ext} link set br-ext up
    ip -n ${NS.ext} addr add ${SERVER}/24 dev br-ext`);
  const uplink = (gw: string, port: string, addr: string, egress: string): Promise<string> =>
    sh(`ip link add ${port} netns ${NS.ext} type veth peer name ext0 netns ${gw}
      ip -n ${NS.ext} link set ${port} master br-ext up
      ip -n ${gw} link set ext0 up; ip -n ${gw} addr add ${addr}/24 dev ext0
      ip -n ${NS.ext} route add ${egress}/32 via ${addr}`);
  await uplink(NS.egwGw, "ext-ge", "198.18.0.1", ADDR.egwEgress);
  await uplink(NS.plainGw, "ext-gp", "198.18.0.2", ADDR.plainEgress);
}

/** Path (a): the kernel objects of the design and nothing else. */
async function buildKernelPath(): Promise<void> {
  const nodeMac = macForIp(ADDR.plainNode) ?? "";
  const gwMac = macForIp(ADDR.plainGw) ?? "";
  const vxlan = (local: string, mac: string): string =>
    `link add vx-bench type vxlan id 4097 dstport 4790 local ${local} nolearning
link set vx-bench address ${mac} mtu 1450 up`;
  await sh(
    `ip -n ${NS.plainNode} -batch -`,
    `${vxlan(ADDR.plainNode, nodeMac)}
neigh add ${ADDR.plainGw} lladdr ${gwMac} dev vx-bench nud permanent
route add default via ${ADDR.plainGw} dev vx-bench onlink table 100
rule add from 10.244.2.0/24 lookup 100 priority 100
`,
  );
  await sh(`ip netns exec ${NS.plainNode} bridge fdb append ${gwMac} dev vx-bench dst ${ADDR.plainGw}`);
  await sh(
    `ip -n ${NS.plainGw} -batch -`,
    `${vxlan(ADDR.plainGw, gwMac)}
neigh add ${ADDR.plainNode} lladdr ${nodeMac} dev vx-bench nud permanent
route add 10.244.2.0/24 via ${ADDR.plainNode} dev vx-bench onlink
address add ${ADDR.plainEgress}/32 dev ext0
`,
  );
  await sh(`ip netns exec ${NS.plainGw} bridge fdb append ${nodeMac} dev vx-bench dst ${ADDR.plainNode}`);
  await sh(
    `ip netns exec ${NS.plainGw} nft -f -`,
    `table ip bench_snat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "ext0" ip saddr 10.244.0.0/16 snat to ${ADDR.plainEgress}
  }
}
`,
  );
}

/** Path (b): what the agent and the gateway would program, through the real dataplane. */
async function buildEgwPath(): Promise<void> {
  const hop = {
    replica: "egress/bench-gw",
    ip: ADDR.egwGw,
    mac: macForIp(ADDR.egwGw) ?? "",
    vtep: ADDR.egwGw,
    egressIP: ADDR.egwEgress,
  };
  const plan: NodePlan = {
    node: "bench-node",
    nodeIP: ADDR.egwNode,
    workloadCidrs: ["10.244.0.0/16"],
    workloads: [
      { namespace: "bench", name: "egress", ip: ADDR.egwPod, hostInterface: "ewpod1", gatewaySet: "bench" },
      { namespace: "bench", name: "direct", ip: ADDR.directPod, hostInterface: "ewpod2" },
    ],
    gatewaySets: [
      {
        key: "bench",
        routes: [{ destination: "0.0.0.0/0", action: "gateways", hops: [hop] }],
      },
    ],
    tunnelPeers: [hop],
  };
  const gateway: GatewayReplicaPlan = {
    replica: hop.replica,
    podIP: ADDR.egwGw,
    egressIP: ADDR.egwEgress,
    uplink: "ext0",
    workloadCidrs: ["10.244.0.0/16"],
    nodes: [{ name: "bench-node", underlayIP: ADDR.egwNode, podCidrs: ["10.244.1.0/24"] }],
    healthPort: 8080,
  };
  const g = await new GatewayDataplane(netnsRunner(NS.egwGw)).reconcile(gateway);
  if (!g.ok) throw new Error(`gateway dataplane: ${g.error}`);
  const n = await new NodeDataplane(netnsRunner(NS.egwNode)).reconcile(plan);
  if (!n.ok) throw new Error(`node dataplane: ${n.error}`);
}

// ---- measurements ----------------------------------------------------------------------------

/** Accepts and closes at once; prints the peer address of the first connection of each probe. */
const ACCEPT_JS = `require("net").createServer((s) => { s.on("error", () => {}); s.end(); })
  .listen(${ACCEPT_PORT}, "${SERVER}", () => console.log("ready"));
require("net").createServer((s) => { s.on("error", () => {}); s.end(s.remoteAddress.replace(/^::ffff:/, "") + "\\n"); })
  .listen(${ACCEPT_PORT + 1}, "${SERVER}");`;

/** N sequential connect+close from the pod; prints {"ok":n,"failed":n,"seconds":s}. */
const CONNECT_JS = `const net = require("net"); const n = Number(process.argv[1]);
const one = () => new Promise((res) => { const s = net.connect(${ACCEPT_PORT}, "${SERVER}");
  s.on("connect", () => { s.destroy(); res(true); }); s.on("error", () => res(false)); });
(async () => { let ok = 0; const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (await one()) ok++;
  console.log(JSON.stringify({ ok, failed: n - ok, seconds: Number(process.hrtime.bigint() - t) / 1e9 })); })();`;

const WHOAMI_JS = `const s = require("net").connect(${ACCEPT_PORT + 1}, "${SERVER}"); let b = "";
s.setTimeout(2000, () => { console.log("timeout"); process.exit(1); });
s.on("data", (d) => (b += d)); s.on("end", () => console.log(b.trim())); s.on("error", (e) => console.log(e.code));`;

async function sourceSeen(path: Path): Promise<string> {
  return (await sh(`ip netns exec ${path.pod} timeout 5 node -e '${WHOAMI_JS}'`)).trim();
}

async function throughputGbps(path: Path): Promise<number> {
  const out = await sh(
    `ip netns exec ${path.pod} timeout ${IPERF_SECONDS + 10} iperf3 -J -c ${SERVER} -p ${IPERF_PORT} ` +
      `-t ${IPERF_SECONDS} --connect-timeout 2000 || true`,
  );
  const json = JSON.parse(out) as { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
  const bps = json.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error(`iperf3 over the ${path.name} path: ${json.error ?? "no result"}`);
  return bps / 1e9;
}

async function connectsPerSecond(path: Path): Promise<number> {
  const out = await sh(
    `ip netns exec ${path.pod} timeout 60 node -e '${CONNECT_JS}' ${CONNECTS}`,
    "",
    70_000,
  );
  const r = JSON.parse(out) as { ok: number; failed: number; seconds: number };
  if (r.failed > 0) throw new Error(`${r.failed} of ${CONNECTS} connects failed over the ${path.name} path`);
  return r.ok / r.seconds;
}

export async function benchDataplane(): Promise<void> {
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = Date.now();
  try {
    await buildTopology();
    await buildKernelPath();
    await buildEgwPath();
    await background(
      NS.ext,
      ["iperf3", "-s", "--forceflush", "-B", SERVER, "-p", String(IPERF_PORT)],
      "Server listening",
    );
    await background(NS.ext, ["node", "-e", ACCEPT_JS], "ready");
    for (const path of PATHS) {
      const seen = await sourceSeen(path);
      if (seen !== path.source)
        throw new Error(`the ${path.name} path leaves with ${seen}, expected ${path.source}`);
    }
    const gbps = new Map<string, number[]>(PATHS.map((p) => [p.name, []]));
    const rate = new Map<string, number[]>(PATHS.map((p) => [p.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of PATHS) {
        gbps.get(path.name)?.push(await throughputGbps(path));
        rate.get(path.name)?.push(await connectsPerSecond(path));
      }
    }
    const g = (name: string): number => median(gbps.get(name) ?? []);
    const r = (name: string): number => median(rate.get(name) ?? []);
    // Every round's value beside the median, so the spread on a shared machine is visible.
    const spread = (xs: number[] | undefined, digits: number): string =>
      (xs ?? []).map((x) => x.toFixed(digits)).join(" ");
    const rows = [
      ["path", "source seen", "TCP Gbit/s", "(rounds)", "conn/s", "(rounds)"],
      ...PATHS.map((p) => [
        p.name,
        p.source,
        g(p.name).toFixed(2),
        spread(gbps.get(p.name), 1),
        r(p.name).toFixed(0),
        spread(rate.get(p.name), 0),
      ]),
      ["egw / kernel", "", (g("egw") / g("kernel")).toFixed(2), "", (r("egw") / r("kernel")).toFixed(2), ""],
      ["egw / direct", "", (g("egw") / g("direct")).toFixed(2), "", (r("egw") / r("direct")).toFixed(2), ""],
    ];
    console.log(
      `medians of ${ROUNDS} interleaved rounds: iperf3 single stream ${IPERF_SECONDS} s; ` +
        `${CONNECTS} sequential connect+close from the pod`,
    );
    printTable(rows);
    console.log(`(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
