// The rendered node ruleset does what calc says, checked without root: random clusters (pods with
// and without gateway annotations, gateways, EgressGatewayPolicies, tiers, policies, network
// sets) go through computeNodePlan and renderNode, the table is loaded into the nft fake, and
// random packets are traced through it. Each packet's verdict, gateway-set mark, counted rules
// and NFLOG prefixes must equal what evaluateEgress and the NodePlan say. A second test deletes
// each rule of the ruleset in turn and requires some packet to notice.
//
// Seeded and reproducible: EGW_RULESET_SEED=<n> picks another base seed; a failure names the
// seed of the cluster that failed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateEgress, type Verdict } from "../calc/access/evaluate.js";
import type { AccessRuleInput, NetworkPolicyInput, TierInput } from "../calc/access/inputs.js";
import { globalNetworkPolicy, globalNetworkSet, networkPolicy, tier } from "../calc/access/testing.js";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makePolicy,
  makeWorkload,
  makeWorkloadPool,
  policyAnnotations,
  seededRandom,
  selectorAnnotations,
} from "../calc/fixtures.js";
import type { PodInput, PolicyRuleInput } from "../calc/inputs.js";
import { computeNodePlan } from "../calc/node-plan.js";
import type { NodePlan, WorkloadPlan } from "../calc/plan.js";
import { ClusterIndex } from "../calc/snapshot.js";
import { LABEL_GATEWAY, LABEL_NAMESPACE_NAME } from "../api/well-known.js";
import { MARK_MASK, VXLAN_DEVICE } from "./config.js";
import { FakeNft } from "./nft/fake.js";
import type { Chain, CtState, Table } from "./nft/objects.js";
import { Tracer, type Packet, type Trace } from "./nft/trace.js";
import { Transaction } from "./nft/transaction.js";
import { renderNode } from "./render-node.js";
import { nflogPrefix, ruleComment, tierDefaultComment } from "./render-policy.js";

const BASE_SEED = Number(process.env.EGW_RULESET_SEED ?? 20_251_128);
const CLUSTERS = 40;
const PACKETS_PER_CLUSTER = 150;
const NODE = "node-0";

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const chance = (rand: Rand, p: number): boolean => rand() < p;
const some = <T>(rand: Rand, xs: readonly T[], p: number): T[] => xs.filter(() => chance(rand, p));

/** Destination nets rules and sets draw from, and addresses inside and around them. */
const NETS = [
  "198.18.0.0/16",
  "198.18.5.0/24",
  "198.18.5.7/32",
  "203.0.113.0/24",
  "10.244.2.0/24",
  "0.0.0.0/0",
  "8.8.8.8",
  "198.19.0.0/16",
  "2001:db8::/32",
];
const EXTERNAL = [
  "198.18.0.1",
  "198.18.5.7",
  "198.18.5.8",
  "198.18.200.1",
  "203.0.113.9",
  "8.8.8.8",
  "8.8.4.4",
];
const EXTERNAL_MORE = ["198.19.3.3", "1.1.1.1", "10.96.0.10", "10.245.0.1"];
const PORTS = [53, 80, 443, 999, 1000, 1500, 2000, 2001, 8080];
const SELECTORS = ["all()", "app == 'web'", "has(app)", "app in {'web', 'db'}", "app != 'db'"];

interface Cluster {
  seed: number;
  index: ClusterIndex;
  plan: NodePlan;
  clusterCidrs: string[];
}

function randomRule(rand: Rand): AccessRuleInput {
  const destination: Record<string, unknown> = {};
  if (chance(rand, 0.4)) destination.nets = some(rand, NETS, 0.3);
  if (chance(rand, 0.15)) destination.notNets = some(rand, NETS, 0.3);
  if (chance(rand, 0.2)) destination.selector = pick(rand, ["app == 'db'", "kind == 'ext'", "all()"]);
  if (chance(rand, 0.1)) destination.namespaceSelector = pick(rand, ["team == 'y'", "global()", "all()"]);
  const ports = chance(rand, 0.3);
  if (ports) destination.ports = some(rand, [80, 443, "1000:2000", 53], 0.5);
  if (chance(rand, 0.15)) destination.notPorts = some(rand, [53, "1500:2500"], 0.6);
  if (chance(rand, 0.03)) destination.domains = ["example.com"];
  if (chance(rand, 0.03)) destination.ports = ["70000"]; // invalid: the rule denies everything
  const rule: Record<string, unknown> = {
    action: pick(rand, ["Allow", "Deny", "Log", "Pass", "Allow", "Deny"]),
  };
  if (chance(rand, 0.45)) rule.protocol = pick(rand, ["TCP", "UDP", "ICMP", 17, "SCTP", "UDPLite"]);
  if (chance(rand, 0.1)) rule.notProtocol = pick(rand, ["TCP", "UDP", 1]);
  if (chance(rand, 0.08)) rule.ipVersion = pick(rand, [4, 6]);
  if (Object.keys(destination).length > 0) rule.destination = destination;
  return rule as unknown as AccessRuleInput;
}

function randomPolicySpec(rand: Rand, tiers: readonly string[], global: boolean) {
  return {
    ...(chance(rand, 0.8) ? { tier: pick(rand, [...tiers, "default", "default", "no-such-tier"]) } : {}),
    ...(chance(rand, 0.6) ? { order: Math.floor(rand() * 5) * 10 } : {}),
    selector: pick(rand, SELECTORS),
    ...(global && chance(rand, 0.3) ? { namespaceSelector: pick(rand, ["team == 'x'", "team == 'y'"]) } : {}),
    ...(chance(rand, 0.2) ? { types: ["Egress"] } : {}),
    egress: Array.from({ length: Math.floor(rand() * 6) }, () => randomRule(rand)),
  };
}

const GATEWAY_SELECTOR = (gw: string) => ({
  selector: `${LABEL_GATEWAY} == '${gw}'`,
  namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'egress'`,
});

function egressAnnotations(rand: Rand): Record<string, string> | undefined {
  switch (Math.floor(rand() * 7)) {
    case 0:
      return selectorAnnotations(`${LABEL_GATEWAY} == 'gw-1'`, {
        namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'egress'`,
        ...(chance(rand, 0.3) ? { maxNextHops: 1 } : {}),
      });
    case 1:
      return selectorAnnotations(`${LABEL_GATEWAY} == '${pick(rand, ["gw-2", "gw-3"])}'`, {
        namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'egress'`,
      });
    case 2:
      return policyAnnotations(pick(rand, ["egp-1", "egp-2", "egp-missing"]));
    case 3:
      return selectorAnnotations(pick(rand, ["(((", `${LABEL_GATEWAY} == 'gw-1'`])); // bad, or own namespace
    default:
      return undefined;
  }
}

function randomCluster(seed: number): Cluster {
  const rand = seededRandom(seed);
  const namespaces = ["a", "b", "c"].map((n) =>
    makeNamespace(n, {
      labels: { team: pick(rand, ["x", "y"]) },
      ...(chance(rand, 0.6) ? { annotations: egressAnnotations(rand) ?? {} } : {}),
    }),
  );
  namespaces.push(makeNamespace("egress"));
  const pods: PodInput[] = [];
  let gatewayIP = 1;
  for (const [gw, replicas] of [
    ["gw-1", 2],
    ["gw-2", 1],
    ["gw-3", 1],
  ] as const)
    for (let r = 0; r < replicas; r++) {
      const n = gatewayIP++;
      pods.push(
        makeGatewayPod("egress", `${gw}-${r}`, {
          node: pick(rand, ["node-0", "node-1"]),
          ip: `10.244.200.${n}`,
          egressIP: `10.10.0.${n}`,
          gateway: gw,
        }),
      );
    }
  const workloads = 3 + Math.floor(rand() * 8);
  for (let i = 0; i < workloads; i++) {
    const annotations = chance(rand, 0.25) ? egressAnnotations(rand) : undefined;
    pods.push(
      makeWorkload(pick(rand, ["a", "b", "c"]), `p${i}`, {
        node: NODE,
        ip: `10.244.1.${10 + i}`,
        hostInterface: `ew${i}`,
        labels: { app: pick(rand, ["web", "db", "batch"]) },
        ...(annotations ? { annotations } : {}),
      }),
    );
  }
  for (let i = 0; i < 4; i++)
    pods.push(
      makeWorkload(pick(rand, ["a", "b", "c"]), `remote${i}`, {
        node: "node-1",
        ip: `10.244.2.${10 + i}`,
        labels: { app: pick(rand, ["web", "db"]) },
      }),
    );
  const egpRules = (): PolicyRuleInput[] =>
    some(
      rand,
      [
        { destination: { cidr: "198.18.0.0/16" }, gateway: GATEWAY_SELECTOR("gw-1") },
        { destination: { cidr: "198.18.5.0/24" } },
        { gateway: GATEWAY_SELECTOR(pick(rand, ["gw-2", "gw-3"])) },
        { destination: { cidr: "203.0.113.0/24" }, gateway: GATEWAY_SELECTOR("gw-3") },
      ],
      0.6,
    );
  const tiers: TierInput[] = some(
    rand,
    [tier("security", 100, pick(rand, ["Deny", "Pass"])), tier("app", chance(rand, 0.5) ? 200 : undefined)],
    0.5,
  );
  const tierNames = tiers.map((t) => t.metadata.name);
  const gnps: NetworkPolicyInput[] = Array.from({ length: Math.floor(rand() * 4) }, (_, i) =>
    globalNetworkPolicy(`g${i}`, randomPolicySpec(rand, tierNames, true)),
  );
  const nps: NetworkPolicyInput[] = Array.from({ length: Math.floor(rand() * 3) }, (_, i) =>
    networkPolicy(pick(rand, ["a", "b", "c"]), `n${i}`, randomPolicySpec(rand, tierNames, false)),
  );
  const index = ClusterIndex.fromSnapshot({
    nodes: [makeNode("node-0", "172.30.0.1"), makeNode("node-1", "172.30.0.2")],
    namespaces,
    pods,
    egressGatewayPolicies: [makePolicy("egp-1", egpRules()), makePolicy("egp-2", egpRules())],
    ipPools: [
      makeWorkloadPool("pods", "10.244.0.0/16"),
      ...(chance(rand, 0.3) ? [makeWorkloadPool("more", "10.245.0.0/16")] : []),
    ],
    gatewayHealth: new Map(chance(rand, 0.5) ? [["egress/gw-3-0", false]] : []),
    tiers,
    networkPolicies: nps,
    globalNetworkPolicies: gnps,
    globalNetworkSets: some(
      rand,
      [
        globalNetworkSet("ext", { kind: "ext" }, some(rand, NETS, 0.3)),
        globalNetworkSet("dns", { kind: "dns" }, ["8.8.8.8", "8.8.4.4/32"]),
      ],
      0.6,
    ),
  });
  const plan = computeNodePlan(index, NODE);
  // A workload may send from more addresses than its pod IP (a gateway replica's egress IP).
  for (const w of plan.workloads as (WorkloadPlan & { extraSourceIPs?: string[] })[])
    if (chance(rand, 0.15)) w.extraSourceIPs = [`10.10.9.${Math.floor(rand() * 200) + 1}`];
  return { seed, index, plan, clusterCidrs: chance(rand, 0.4) ? ["10.96.0.0/12"] : [] };
}

type Workload = WorkloadPlan & { extraSourceIPs?: string[] };

interface Expected {
  verdict: "accept" | "drop";
  /** The gateway set the packet's mark names afterwards, or "none". */
  set: string;
  /** Comments of the counted rules it passes, sorted. */
  counted: string[];
  /** NFLOG prefixes it produces, sorted. */
  logged: string[];
}

/** What the plan and the policy evaluator say happens to a packet. */
class Oracle {
  private readonly byIface: Map<string, Workload>;
  private readonly byMark = new Map<number, string>();
  private readonly setMark = new Map<string, number>();
  private readonly blocked: Set<string>;
  private readonly steered = new Map<string, string>();
  private readonly cluster: (readonly [number, number])[];
  private readonly verdicts = new Map<string, Verdict>();

  constructor(private readonly c: Cluster) {
    const workloads = c.plan.workloads as Workload[];
    this.byIface = new Map(workloads.map((w) => [w.hostInterface, w]));
    for (const s of c.plan.gatewaySets) {
      this.byMark.set(s.mark, s.key);
      this.setMark.set(s.key, s.mark);
    }
    this.blocked = new Set(workloads.filter((w) => w.blocked).map((w) => w.ip));
    for (const w of workloads)
      if (!w.blocked && w.gatewaySet !== undefined) this.steered.set(w.ip, w.gatewaySet);
    this.cluster = [...c.plan.workloadCidrs, ...c.clusterCidrs].map(range);
  }

  markOf(set: string): number {
    return this.setMark.get(set) ?? 0;
  }

  setOf(mark: number): string {
    return this.byMark.get((mark & MARK_MASK) >>> 0) ?? ((mark & MARK_MASK) === 0 ? "none" : "unknown");
  }

  expect(p: Packet): Expected {
    const drop = (comment: string): Expected => ({
      verdict: "drop",
      set: this.setOf(p.mark),
      counted: [comment],
      logged: [],
    });
    const fromWorkload = p.iif.startsWith("ew");
    const original = p.ct.direction === "original";
    let set = this.setOf(p.mark);
    if (p.iif === VXLAN_DEVICE && this.byMark.has((p.ct.mark & MARK_MASK) >>> 0)) set = this.setOf(p.ct.mark);
    if (fromWorkload && (p.ct.state === "established" || p.ct.state === "related")) {
      const ctSet = (p.ct.mark & MARK_MASK) >>> 0;
      if (this.byMark.has(ctSet)) set = this.setOf(ctSet);
      else if (ctSet !== 0) return drop("gateway set gone: fail closed");
      if (this.blocked.has(p.saddr) && original) return { ...drop("egress blocked"), set };
      return { verdict: "accept", set, counted: [], logged: [] };
    }
    const w = this.byIface.get(p.iif);
    if (fromWorkload) {
      if (w === undefined) return drop("unknown workload interface");
      if (p.saddr !== w.ip && !(w.extraSourceIPs ?? []).includes(p.saddr)) return drop("spoofed source");
      const steered = this.steered.get(p.saddr);
      if (p.ct.state === "new" && steered !== undefined && !this.inCluster(p.daddr)) set = steered;
    }
    if (this.blocked.has(p.saddr) && original) return { ...drop("egress blocked"), set };
    if (p.ct.state === "established" || p.ct.state === "related" || w === undefined)
      return { verdict: "accept", set, counted: [], logged: [] };
    return { ...this.policy(w, p), set };
  }

  private inCluster(ip: string): boolean {
    const n = ipNumber(ip);
    return this.cluster.some(([lo, hi]) => n >= lo && n <= hi);
  }

  private policy(w: Workload, p: Packet): Omit<Expected, "set"> {
    const key = `${w.namespace}/${w.name} ${p.daddr} ${p.l4proto} ${p.dport ?? 0}`;
    let v = this.verdicts.get(key);
    if (v === undefined) {
      const r = evaluateEgress(this.c.index, w.namespace, w.name, {
        ip: p.daddr,
        protocol: p.l4proto,
        ...(p.dport !== undefined ? { port: p.dport } : {}),
      });
      assert.ok(r.ok, r.ok ? "" : r.error);
      this.verdicts.set(key, (v = r.value));
    }
    const counted: string[] = [];
    const logged: string[] = [];
    for (const l of v.logged) {
      counted.push(ruleComment(l.policy, l.rule));
      logged.push(nflogPrefix("Log", l.tier, l.policy, l.rule));
    }
    for (const x of v.passed)
      counted.push(x.rule === "default" ? tierDefaultComment(x.tier) : ruleComment(x.policy, x.rule));
    const d = v.decision;
    if (d.kind === "rule") {
      counted.push(ruleComment(d.ref.policy, d.ref.rule));
      if (d.ref.action === "Deny") logged.push(nflogPrefix("Deny", d.ref.tier, d.ref.policy, d.ref.rule));
    } else if (d.kind === "tier-default") {
      counted.push(tierDefaultComment(d.tier));
      logged.push(nflogPrefix("Deny", d.tier, "", "default"));
    }
    return {
      verdict: v.verdict === "Allow" ? "accept" : "drop",
      counted: counted.sort(),
      logged: logged.sort(),
    };
  }
}

function ipNumber(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function range(cidr: string): readonly [number, number] {
  const [addr = "", len = "32"] = cidr.split("/");
  const size = 2 ** (32 - Number(len));
  const first = ipNumber(addr) - (ipNumber(addr) % size);
  return [first, first + size - 1];
}

function randomPacket(rand: Rand, c: Cluster, oracle: Oracle): Packet {
  const workloads = c.plan.workloads as Workload[];
  const w = pick(rand, workloads);
  const someIP = (): string =>
    pick(rand, [...workloads.map((x) => x.ip), "10.244.2.10", "198.18.0.1", "10.10.0.1", "172.30.0.9"]);
  const l4proto = pick(rand, [6, 6, 6, 17, 17, 1, 132, 136, 47]);
  const ports = [6, 17, 132, 136].includes(l4proto);
  const outside = pick(rand, [0, 0, 0x1, 0xa0000001]);
  const sets = c.plan.gatewaySets.map((s) => s.key);
  const ctMark = (): number =>
    (pick(rand, [0, 0, 0x0fff0000, ...sets.map((s) => oracle.markOf(s))]) | pick(rand, [0, 0x2])) >>> 0;
  const packet: Packet = {
    iif: w.hostInterface,
    saddr: w.ip,
    daddr: pick(
      rand,
      chance(rand, 0.8) ? EXTERNAL : [...EXTERNAL_MORE, ...workloads.map((x) => x.ip), "10.244.2.11"],
    ),
    l4proto,
    ...(ports ? { dport: pick(rand, PORTS) } : {}),
    ct: { state: "new" as CtState, direction: "original", mark: (outside & 0xa0000000) >>> 0 },
    mark: outside,
  };
  const kind = rand();
  if (kind < 0.06)
    packet.saddr = someIP(); // spoofed (or, by chance, its own)
  else if (kind < 0.1 && w.extraSourceIPs !== undefined) packet.saddr = w.extraSourceIPs[0] ?? w.ip;
  else if (kind < 0.16) packet.iif = `ewzz${Math.floor(rand() * 3)}`;
  else if (kind < 0.2) {
    packet.iif = "eth0";
    packet.saddr = someIP();
  } else if (kind < 0.33) {
    packet.ct = {
      state: pick(rand, ["established", "related"]),
      direction: pick(rand, ["original", "reply"]),
      mark: ctMark(),
    };
    if (chance(rand, 0.3)) packet.iif = pick(rand, ["ewzz1", w.hostInterface]);
    if (chance(rand, 0.3)) packet.saddr = someIP();
  } else if (kind < 0.43) {
    packet.iif = VXLAN_DEVICE;
    packet.saddr = pick(rand, EXTERNAL);
    packet.daddr = w.ip;
    packet.ct = chance(rand, 0.8)
      ? { state: "established", direction: "reply", mark: ctMark() }
      : { state: "new", direction: "original", mark: 0 };
  }
  return packet;
}

const loaded = (c: Cluster): Table => {
  const r = renderNode(c.plan, { clusterCidrs: c.clusterCidrs });
  assert.ok(r.ok, r.ok ? "" : r.error.join("\n"));
  const fake = new FakeNft();
  const run = fake.run(new Transaction().replaceTable(r.value.table));
  assert.ok(run.ok, run.ok ? "" : run.error);
  const table = fake.table(r.value.table.name);
  assert.ok(table !== undefined);
  return table;
};

const observed = (t: Trace, oracle: Oracle): Expected => ({
  verdict: t.verdict,
  set: oracle.setOf(t.mark),
  counted: t.hits.flatMap((h) => (h.counted && h.comment !== undefined ? [h.comment] : [])).sort(),
  logged: t.hits.flatMap((h) => (h.log ? [h.log.prefix] : [])).sort(),
});

const canonical = (e: Expected): string => JSON.stringify([e.verdict, e.set, e.counted, e.logged]);

/** Runs the packets of one cluster; returns the first disagreement, or undefined. */
function firstMismatch(
  c: Cluster,
  table: Table,
  packets: readonly Packet[],
  oracle: Oracle,
): string | undefined {
  const tracer = new Tracer([table]);
  for (const p of packets) {
    const t = tracer.trace(p);
    if (!t.ok) return `tracer error for ${JSON.stringify(p)}: ${t.error}`;
    const want = oracle.expect(p);
    const got = observed(t.value, oracle);
    const outsideKept = ((t.value.mark ^ p.mark) & ~MARK_MASK) === 0;
    if (canonical(got) !== canonical(want) || !outsideKept)
      return [
        `packet ${JSON.stringify(p)}`,
        `  want ${canonical(want)}`,
        `  got  ${canonical(got)} mark ${t.value.mark.toString(16)}`,
        `  path ${t.value.hits.map((h) => `${h.chain}#${h.rule}`).join(" ")}`,
      ].join("\n");
  }
  return undefined;
}

describe("rendered node ruleset against calc (randomized, no root)", () => {
  it("gives every traced packet calc's verdict, gateway set, counters and logs", (t) => {
    let cases = 0;
    const started = performance.now();
    for (let k = 0; k < CLUSTERS; k++) {
      const seed = BASE_SEED + k;
      const c = randomCluster(seed);
      const oracle = new Oracle(c);
      const rand = seededRandom(seed ^ 0x5eed);
      const packets = Array.from({ length: PACKETS_PER_CLUSTER }, () => randomPacket(rand, c, oracle));
      const problem = firstMismatch(c, loaded(c), packets, oracle);
      assert.equal(
        problem,
        undefined,
        `cluster seed ${seed} (EGW_RULESET_SEED=${BASE_SEED}, cluster ${k}):\n${problem}`,
      );
      cases += packets.length;
    }
    t.diagnostic(
      `${cases} packets in ${CLUSTERS} clusters (base seed ${BASE_SEED}) in ${Math.round(performance.now() - started)} ms`,
    );
  });

  it("notices any single rule deleted from the ruleset", (t) => {
    // Cheap exits that change no outcome: dropping them only costs lookups.
    const redundant = new Set(["egw_policy#0"]);
    let mutants = 0;
    let clusters = 0;
    // Clusters with gateway sets and policy: without them, the rules for marks and established
    // traffic have nothing to tell apart.
    for (let seed = BASE_SEED + 1000; clusters < 6; seed++) {
      const c = randomCluster(seed);
      if (c.plan.gatewaySets.length === 0 || (c.plan.access?.tiers.length ?? 0) === 0) continue;
      clusters++;
      const oracle = new Oracle(c);
      const rand = seededRandom(seed ^ 0x5eed);
      const packets = Array.from({ length: 400 }, () => randomPacket(rand, c, oracle));
      const table = loaded(c);
      assert.equal(firstMismatch(c, table, packets, oracle), undefined, `cluster seed ${seed}`);
      const tracer = new Tracer([table]);
      // Rules that did something for some packet: counted, logged, marked or decided.
      const effective = new Set(
        packets.flatMap((p) => {
          const tr = tracer.trace(p);
          assert.ok(tr.ok);
          return tr.value.hits.flatMap((h) => {
            const c = table.objects.find((o): o is Chain => o.kind === "chain" && o.name === h.chain);
            const did = h.verdict !== undefined || (c?.rules[h.rule]?.statements.length ?? 0) > 0;
            return did ? [`${h.chain}#${h.rule}`] : [];
          });
        }),
      );
      for (const o of table.objects) {
        if (o.kind !== "chain" || o.name === "egw_version") continue;
        for (let i = 0; i < o.rules.length; i++) {
          const id = `${o.name}#${i}`;
          if (!effective.has(id) || redundant.has(id)) continue;
          const mutant: Table = {
            ...table,
            objects: table.objects.map((x) =>
              x === o ? { ...o, rules: o.rules.filter((_, j) => j !== i) } : x,
            ),
          };
          mutants++;
          assert.notEqual(
            firstMismatch(c, mutant, packets, oracle),
            undefined,
            `cluster seed ${seed}: deleting ${id} (${JSON.stringify(o.rules[i])}) changed no traced outcome`,
          );
        }
      }
    }
    t.diagnostic(`${mutants} single-rule deletions in ${clusters} clusters, each noticed`);
  });
});
