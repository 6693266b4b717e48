// Egress access policy end to end (root): calc computes the node's AccessPlan from real policy
// objects, NodeDataplane compiles and loads it into a node netns with three pods, and real
// connections to an external netns (and to a pod) must agree with the pure evaluator — the same
// code `egw explain` runs. Everything is named with a random prefix and removed in after().
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { evaluateEgress, type Connection } from "../calc/access/evaluate.js";
import type { NetworkPolicyInput } from "../calc/access/inputs.js";
import { allow, deny, globalNetworkPolicy, networkPolicy, tier } from "../calc/access/testing.js";
import { makeNamespace, makeNode, makeWorkload, makeWorkloadPool } from "../calc/fixtures.js";
import type { PodInput } from "../calc/inputs.js";
import { computeNodePlan } from "../calc/node-plan.js";
import { ClusterIndex } from "../calc/snapshot.js";
import { NODE_NFT_TABLE } from "./config.js";
import { readNft } from "./kernel.js";
import { NodeDataplane } from "./node-dataplane.js";
import { countersOfPolicy, readPolicyCounters } from "./policy-counters.js";
import { netnsRunner } from "./runner.js";
import { deleteNetns, lineFrom, Processes, run, sh } from "./testing/netns.js";
import { nftLoadsRefused } from "./testing/nft-faults.js";
import { addNetns, addPod, linkNodeToExternal } from "./testing/topology.js";

const P = `egwpol${randomBytes(3).toString("hex")}-`;
const NS = { node: `${P}node`, ext: `${P}ext`, web: `${P}web`, db: `${P}db`, other: `${P}other` };
const NODE_IP = "172.31.9.10";
const EXT_A = "198.18.0.10";
const EXT_B = "198.18.0.11";
const FAR = "203.0.113.5";
const POD = {
  web: { ns: "shop", name: "web", ip: "10.244.1.10", iface: "ewweb", netns: NS.web, labels: { app: "web" } },
  db: { ns: "shop", name: "db", ip: "10.244.2.10", iface: "ewdb", netns: NS.db, labels: { app: "db" } },
  other: {
    ns: "other",
    name: "client",
    ip: "10.244.3.10",
    iface: "ewother",
    netns: NS.other,
    labels: { app: "other" },
  },
};
type PodName = keyof typeof POD;

const SERVERS_JS = `
const net = require("net"), dgram = require("dgram");
for (const port of JSON.parse(process.argv[1]).tcp) net.createServer((s) => { s.on("error", () => {}); s.end("hi\\n"); }).listen(port, "0.0.0.0");
// UDP per address: a wildcard socket would answer from the primary address, which the client ignores.
const cfg = JSON.parse(process.argv[1]);
for (const port of cfg.udp) for (const host of cfg.hosts) { const u = dgram.createSocket("udp4"); u.on("message", (m, r) => u.send(m, r.port, r.address)); u.bind(port, host); }
console.log("listening");`;

/** Tries every case at once; "reached" = an answer (data, RST or ICMP error), "blocked" = silence. */
const PROBE_JS = `
const net = require("net"), dgram = require("dgram"), { execFile } = require("child_process");
const T = 1500;
const tcp = (ip, port) => new Promise((res) => {
  const s = net.connect({ host: ip, port }); const t = setTimeout(() => { s.destroy(); res("blocked"); }, T);
  s.on("connect", () => { clearTimeout(t); s.destroy(); res("reached"); });
  s.on("error", (e) => { clearTimeout(t); res(e.code === "ECONNREFUSED" ? "reached" : "error:" + e.code); });
});
const udp = (ip, port) => new Promise((res) => {
  const s = dgram.createSocket("udp4"); const t = setTimeout(() => { s.close(); res("blocked"); }, T);
  s.on("message", () => { clearTimeout(t); s.close(); res("reached"); });
  s.on("error", (e) => { clearTimeout(t); s.close(); res(e.code === "ECONNREFUSED" ? "reached" : "error:" + e.code); });
  s.connect(port, ip, () => s.send("x"));
});
const icmp = (ip) => new Promise((res) => execFile("ping", ["-c1", "-W1", ip], (e) => res(e ? "blocked" : "reached")));
Promise.all(JSON.parse(process.argv[1]).map((c) => c.protocol === "tcp" ? tcp(c.ip, c.port) : c.protocol === "udp" ? udp(c.ip, c.port) : icmp(c.ip)))
  .then((r) => console.log(JSON.stringify(r)));`;

const processes = new Processes();
async function startServers(
  netns: string,
  ports: { tcp: number[]; udp: number[]; hosts: string[] },
): Promise<void> {
  const child = processes.start(netns, ["node", "-e", SERVERS_JS, JSON.stringify(ports)]);
  await lineFrom(child, (l) => l === "listening");
}

async function probe(pod: PodName, cases: Connection[]): Promise<string[]> {
  const r = await run(["ip", "netns", "exec", POD[pod].netns, "node", "-e", PROBE_JS, JSON.stringify(cases)]);
  if (r.code !== 0) throw new Error(`probe from ${pod} failed: ${r.err}`);
  return JSON.parse(r.out) as string[];
}

async function buildTopology(): Promise<void> {
  await addNetns(Object.values(NS));
  await linkNodeToExternal({
    node: NS.node,
    ext: NS.ext,
    nodeIP: NODE_IP,
    externalIPs: ["198.18.0.2", EXT_A, EXT_B],
  });
  await sh(`ip -n ${NS.node} route add 203.0.113.0/24 via 198.18.0.2
    ip -n ${NS.ext} addr add ${FAR}/32 dev lo`);
  let subnet = 1;
  for (const p of Object.values(POD)) {
    const gw = `10.244.${subnet++}.1`;
    await addPod(NS.node, p.netns, { hostInterface: p.iface, ip: p.ip, gateway: gw });
  }
  await startServers(NS.ext, { tcp: [80, 443, 8050, 8080], udp: [53, 5353], hosts: [EXT_A, EXT_B] });
  await startServers(NS.db, { tcp: [9000], udp: [], hosts: [] });
}

const podInput = (p: PodName, labels?: Record<string, string>): PodInput =>
  makeWorkload(POD[p].ns, POD[p].name, {
    node: "n1",
    ip: POD[p].ip,
    labels: labels ?? POD[p].labels,
    hostInterface: POD[p].iface,
  });

const POLICIES: { tiers: ReturnType<typeof tier>[]; nps: NetworkPolicyInput[]; gnps: NetworkPolicyInput[] } =
  {
    tiers: [tier("security", 10, "Pass")],
    gnps: [
      globalNetworkPolicy("security-baseline", {
        tier: "security",
        egress: [
          deny({ nets: [`${EXT_B}/32`], ports: [443] }, "TCP"),
          { action: "Pass", destination: { nets: ["203.0.113.0/24"] } },
          { action: "Log", protocol: "TCP", destination: { ports: [8080] } },
        ],
      }),
      globalNetworkPolicy("db-egress", {
        selector: "app == 'db'",
        namespaceSelector: "kubernetes.io/metadata.name == 'shop'",
        types: ["Egress"],
        egress: [allow({ ports: [80], notNets: [`${EXT_A}/32`] }, "TCP")],
      }),
    ],
    nps: [
      networkPolicy("shop", "web-egress", {
        selector: "app == 'web'",
        egress: [
          allow({ nets: [`${EXT_A}/32`], ports: [80, "8000:8100"] }, "TCP"),
          allow({ nets: ["198.18.0.0/24"], notPorts: [53] }, "UDP"),
          allow(undefined, "ICMP"),
          allow({ selector: "app == 'db'", ports: [9000] }, 6),
          deny({ nets: [`${FAR}/32`], ports: [80] }, "TCP"),
        ],
      }),
    ],
  };

const CASES: [PodName, Connection][] = [
  ["web", { ip: EXT_A, port: 80, protocol: "tcp" }],
  ["web", { ip: EXT_A, port: 81, protocol: "tcp" }],
  ["web", { ip: EXT_A, port: 8050, protocol: "tcp" }],
  ["web", { ip: EXT_A, port: 8101, protocol: "tcp" }],
  ["web", { ip: EXT_A, port: 8080, protocol: "tcp" }],
  ["web", { ip: EXT_B, port: 443, protocol: "tcp" }],
  ["web", { ip: EXT_B, port: 80, protocol: "tcp" }],
  ["web", { ip: EXT_A, port: 5353, protocol: "udp" }],
  ["web", { ip: EXT_A, port: 53, protocol: "udp" }],
  ["web", { ip: EXT_B, port: 5353, protocol: "udp" }],
  ["web", { ip: EXT_A, protocol: "icmp" }],
  ["web", { ip: POD.db.ip, port: 9000, protocol: "tcp" }],
  ["web", { ip: POD.db.ip, port: 9001, protocol: "tcp" }],
  ["web", { ip: FAR, port: 80, protocol: "tcp" }],
  ["web", { ip: FAR, port: 443, protocol: "tcp" }],
  ["db", { ip: EXT_A, port: 80, protocol: "tcp" }],
  ["db", { ip: EXT_B, port: 80, protocol: "tcp" }],
  ["db", { ip: EXT_B, port: 443, protocol: "tcp" }],
  ["db", { ip: FAR, port: 80, protocol: "tcp" }],
  ["db", { ip: EXT_B, port: 5353, protocol: "udp" }],
  ["db", { ip: EXT_B, protocol: "icmp" }],
  ["db", { ip: EXT_B, port: 81, protocol: "tcp" }],
  ["other", { ip: EXT_B, port: 443, protocol: "tcp" }],
  ["other", { ip: EXT_B, port: 80, protocol: "tcp" }],
  ["other", { ip: EXT_A, port: 53, protocol: "udp" }],
  ["other", { ip: FAR, port: 443, protocol: "tcp" }],
];

function makeIndex(): ClusterIndex {
  return ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", NODE_IP)],
    namespaces: [makeNamespace("shop"), makeNamespace("other")],
    pods: [podInput("web"), podInput("db"), podInput("other")],
    egressGatewayPolicies: [],
    ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
    gatewayHealth: new Map(),
    tiers: POLICIES.tiers,
    networkPolicies: POLICIES.nps,
    globalNetworkPolicies: POLICIES.gnps,
  });
}

const expected = (index: ClusterIndex, pod: PodName, c: Connection): string => {
  const v = evaluateEgress(index, POD[pod].ns, POD[pod].name, c);
  assert.ok(v.ok, v.ok ? "" : v.error);
  return v.value.verdict === "Allow" ? "reached" : "blocked";
};

/** Probes every case for real (one process per pod, cases in parallel) and pairs it with calc's verdict. */
async function compare(
  index: ClusterIndex,
  cases: [PodName, Connection][],
): Promise<{ want: string[]; got: string[] }> {
  const got = new Array<string>(cases.length);
  for (const pod of Object.keys(POD) as PodName[]) {
    const mine = cases.map((c, i) => [c, i] as const).filter(([c]) => c[0] === pod);
    if (mine.length === 0) continue;
    const results = await probe(
      pod,
      mine.map(([c]) => c[1]),
    );
    mine.forEach(([, i], k) => (got[i] = results[k] ?? "missing"));
  }
  return { want: cases.map(([pod, c]) => expected(index, pod, c)), got };
}
const label = (cases: [PodName, Connection][]): string[] =>
  cases.map(([pod, c]) => `${pod} -> ${c.ip}:${c.port ?? ""}/${String(c.protocol)}`);

const root = process.getuid?.() === 0;

describe("egress access policy in network namespaces", { skip: root ? false : "needs root" }, () => {
  const runner = netnsRunner(NS.node);
  const dataplane = new NodeDataplane(runner);
  let index: ClusterIndex;

  before(async () => {
    await buildTopology();
    index = makeIndex();
    const r = await dataplane.reconcile(computeNodePlan(index, "n1"));
    assert.ok(r.ok, r.ok ? "" : r.error);
  });

  after(async () => {
    dataplane.close();
    processes.killAll();
    await deleteNetns(Object.values(NS));
  });

  it("enforces exactly what the evaluator (egw explain) says, on real connections", async () => {
    const { want, got } = await compare(index, CASES);
    assert.deepEqual(
      label(CASES).map((l, i) => `${l} ${got[i]}`),
      label(CASES).map((l, i) => `${l} ${want[i]}`),
    );
    // The cases exercise both outcomes, Pass, Log and the tier default.
    assert.ok(want.includes("reached") && want.includes("blocked"));
    assert.equal(expected(index, "web", { ip: FAR, port: 80, protocol: "tcp" }), "blocked");
    assert.equal(expected(index, "db", { ip: FAR, port: 80, protocol: "tcp" }), "reached");
  });

  it("counts per rule and sends denies to NFLOG with a prefix naming tier, policy and rule", async () => {
    const counters = await readPolicyCounters(runner);
    assert.ok(counters.ok, counters.ok ? "" : counters.error);
    const security = countersOfPolicy(counters.value, "gnp:security-baseline");
    assert.ok((security.get(0)?.packets ?? 0) > 0, "the explicit deny counted packets");
    assert.ok((security.get(2)?.packets ?? 0) > 0, "the Log rule counted packets");
    const web = countersOfPolicy(counters.value, "np:shop/web-egress");
    assert.ok((web.get(4)?.packets ?? 0) > 0, "web's deny to FAR counted packets");
    const text = await run(["ip", "netns", "exec", NS.node, "nft", "list", "table", "inet", NODE_NFT_TABLE]);
    assert.match(text.out, /log prefix "egw\|D\|security\|gnp:security-baseline\|0" group 5 drop/);
    assert.match(text.out, /log prefix "egw\|D\|default\|\|default" group 5 drop/);
  });

  it("keeps rule counters across an element update (a new pod) and a whole-table replacement", async () => {
    const before = await readPolicyCounters(runner);
    assert.ok(before.ok, before.ok ? "" : before.error);
    const counted = before.value.filter((c) => c.packets > 0);
    assert.ok(counted.length >= 3, "the probes above counted packets on several rules");
    const kept = async (what: string): Promise<void> => {
      const after = await readPolicyCounters(runner);
      assert.ok(after.ok, after.ok ? "" : after.error);
      for (const c of counted) {
        const now = after.value.find((x) => x.ref === c.ref && x.rule === c.rule);
        assert.ok(
          now !== undefined && now.packets >= c.packets && now.bytes >= c.bytes,
          `${c.ref} ${c.rule}: kept across ${what}`,
        );
      }
    };
    index.upsertPod(
      makeWorkload("shop", "newcomer", {
        node: "n1",
        ip: "10.244.1.77",
        labels: {},
        hostInterface: "ewnewcomer",
      }),
    );
    const r = await dataplane.reconcile(computeNodePlan(index, "n1"));
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.ok(
      r.value.actions.some((a) => a.startsWith("nft elements of table")),
      "the new pod is an element update",
    );
    await kept("an element update");
    // A table that is not the one egw loaded (its version marker gone) is replaced whole on a
    // full reconcile; the replacement starts every counter where the kernel's stood.
    await run([
      "ip",
      "netns",
      "exec",
      NS.node,
      "nft",
      "flush",
      "chain",
      "inet",
      NODE_NFT_TABLE,
      "egw_version",
    ]);
    const replaced = await dataplane.reconcile(computeNodePlan(index, "n1"), { full: true });
    assert.ok(replaced.ok, replaced.ok ? "" : replaced.error);
    assert.ok(replaced.value.actions.some((a) => a.startsWith("nft -f (replace table")));
    await kept("a table replacement");
    const again = await dataplane.reconcile(computeNodePlan(index, "n1"), { full: true });
    assert.ok(again.ok && again.value.changes === 0, "carried counter values do not cause a reload");
    index.deletePod("shop", "newcomer");
    const back = await dataplane.reconcile(computeNodePlan(index, "n1"));
    assert.ok(back.ok, back.ok ? "" : back.error);
  });

  it("follows destination pods: relabelling the target pod changes what the selector admits", async () => {
    const toDb: [PodName, Connection][] = [["web", { ip: POD.db.ip, port: 9000, protocol: "tcp" }]];
    index.upsertPod(podInput("db", { app: "cache" }));
    const r = await dataplane.reconcile(computeNodePlan(index, "n1"));
    assert.ok(r.ok, r.ok ? "" : r.error);
    let { want, got } = await compare(index, toDb);
    assert.deepEqual([got, want], [["blocked"], ["blocked"]]);
    index.upsertPod(podInput("db"));
    const back = await dataplane.reconcile(computeNodePlan(index, "n1"));
    assert.ok(back.ok, back.ok ? "" : back.error);
    ({ want, got } = await compare(index, toDb));
    assert.deepEqual([got, want], [["reached"], ["reached"]]);
  });

  it("keeps the old ruleset in force when a new one fails to load", async () => {
    const before = await readNft(runner, NODE_NFT_TABLE);
    assert.ok(before.ok);
    // A plan that needs a new table (one more workload), loaded through a runner the kernel refuses.
    const changed = computeNodePlan(index, "n1");
    changed.workloads.push({ namespace: "other", name: "new", ip: "10.244.1.99", hostInterface: "ewnew" });
    const broken = await new NodeDataplane(nftLoadsRefused(runner)).reconcile(changed);
    assert.equal(broken.ok, false);
    assert.match(broken.ok ? "" : broken.error, /nft -f/);
    const afterLoad = await readNft(runner, NODE_NFT_TABLE);
    assert.ok(afterLoad.ok);
    assert.equal(afterLoad.value.hash, before.value.hash);
    const sample = CASES.slice(0, 4);
    const { want, got } = await compare(index, sample);
    assert.deepEqual(got, want);
  });

  it("loads a huge policy (10,000 rules, 100,000 CIDRs) atomically and enforces it", async () => {
    const cidrs = Array.from({ length: 100_000 }, (_, i) => {
      const n = i * 3;
      return `100.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}/32`;
    });
    cidrs.push(`${EXT_B}/32`);
    const rules = Array.from({ length: 9_999 }, (_, i) => allow({ ports: [20_000 + i] }, "TCP"));
    rules.push(allow({ nets: cidrs, ports: [80] }, "TCP"));
    index.upsertGlobalNetworkPolicy(
      globalNetworkPolicy("huge", { selector: "app == 'other'", order: 5, egress: rules }),
    );
    const r = await dataplane.reconcile(computeNodePlan(index, "n1"));
    assert.ok(r.ok, r.ok ? "" : r.error);
    const nft = await readNft(runner, NODE_NFT_TABLE);
    assert.ok(nft.ok);
    assert.ok(
      Object.values(nft.value.chains).some((n) => n === 10_002),
      "one chain holds the 10,000 rules",
    );
    const cases: [PodName, Connection][] = [
      ["other", { ip: EXT_B, port: 80, protocol: "tcp" }],
      ["other", { ip: EXT_A, port: 80, protocol: "tcp" }],
      ["other", { ip: EXT_B, port: 443, protocol: "tcp" }],
      ["web", { ip: EXT_A, port: 80, protocol: "tcp" }],
      ["web", { ip: EXT_A, port: 81, protocol: "tcp" }],
    ];
    const { want, got } = await compare(index, cases);
    assert.deepEqual(got, want);
    assert.deepEqual(want, ["reached", "blocked", "blocked", "reached", "blocked"]);
  });
});
