// The rendered node ruleset does what calc says, checked without root: random clusters (pods with
// and without gateway annotations, gateways, EgressGatewayPolicies, tiers, policies, network
// sets) go through computeNodePlan and renderNode, the table is loaded into the nft fake, and
// random packets are traced through it. Each packet's verdict, gateway-set mark, counted rules,
// NFLOG prefixes and the pin its connection carries afterwards (the replica routing chose, for a
// new connection let through the tunnel) must equal what evaluateEgress and the NodePlan say. A second test deletes
// each rule of the ruleset in turn and requires some packet to notice. A third applies random pod
// events the way the node dataplane does between full reconciles — element transactions run in
// the fake (which merges interval elements as the kernel does), a whole-table replacement when
// more changed — and requires the result to trace like a fresh full render and like calc.
//
// Seeded and reproducible: EGW_RULESET_SEED=<n> picks another base seed for the first test; a
// failure names the seed of the cluster that failed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateEgress, type Verdict } from "../calc/access/evaluate.js";
import { seededRandom } from "../util/random.js";
import { DEFAULT_OPTIONS, MARK_MASK, VXLAN_DEVICE } from "./config.js";
import { FakeNft } from "./nft/fake.js";
import type { Chain, Table } from "./nft/objects.js";
import { Tracer, type Packet, type Trace } from "./nft/trace.js";
import { Transaction } from "./nft/transaction.js";
import { renderNode } from "./render-node.js";
import { nflogPrefix, ruleComment, tierDefaultComment } from "./render-policy.js";
import type { WorkloadPlan as Workload } from "../calc/plan.js";
import { randomCluster, randomPacket, NODE, type Cluster, type Rand } from "./testing/random-cluster.js";
import { computeNodePlan } from "../calc/node-plan.js";
import { makeWorkload } from "../calc/fixtures.js";
import type { PodInput } from "../calc/inputs.js";
import { kernelPlanOf, type KernelNodePlan } from "./kernel-plan.js";
import { assignSlots } from "./slots.js";
import { elementUpdate } from "./nft/elements.js";

const BASE_SEED = Number(process.env.EGW_RULESET_SEED ?? 20_251_128);
const CLUSTERS = 60;
const PACKETS_PER_CLUSTER = 200;
/**
 * The clusters of the rule-deletion test are fixed: in some clusters a rule is legitimately dead
 * (a policy with no rules, a tier that selects only blocked pods), and deleting it changes nothing.
 */
const MUTATION_SEED = 20_252_128;

interface Expected {
  verdict: "accept" | "drop";
  /** The gateway set the packet's mark names afterwards, or "none". */
  set: string;
  /** Comments of the counted rules it passes, sorted. */
  counted: string[];
  /** NFLOG prefixes it produces, sorted. */
  logged: string[];
  /** The replica whose pin the connection's ct mark names afterwards, or "-". */
  pinned: string;
}

/** What the plan and the policy evaluator say happens to a packet. */
class Oracle {
  private readonly byIface: Map<string, Workload>;
  private readonly byMark = new Map<number, string>();
  private readonly blocked: Set<string>;
  private readonly steered = new Map<string, string>();
  private readonly cluster: (readonly [number, number])[];
  private readonly verdicts = new Map<string, Verdict>();

  private readonly pinOfMark = new Map<number, string>();
  private readonly pinOfIp = new Map<string, number>();

  constructor(private readonly c: Cluster) {
    const workloads = c.plan.workloads;
    this.byIface = new Map(workloads.map((w) => [w.hostInterface, w]));
    for (const s of c.plan.gatewaySets) this.byMark.set(s.mark, s.key);
    // A pin's mark is restored like a set's: it names the pin's table.
    for (const p of c.plan.pins) {
      this.byMark.set(p.mark, `pin ${p.ip}`);
      this.pinOfMark.set(p.mark, p.ip);
      this.pinOfIp.set(p.ip, p.mark);
    }
    this.blocked = new Set(workloads.filter((w) => w.blocked).map((w) => w.ip));
    for (const w of workloads)
      if (!w.blocked && w.gatewaySet !== undefined) this.steered.set(w.ip, w.gatewaySet);
    this.cluster = [...c.plan.workloadCidrs, ...c.clusterCidrs].map(range);
  }

  setOf(mark: number): string {
    return this.byMark.get((mark & MARK_MASK) >>> 0) ?? ((mark & MARK_MASK) === 0 ? "none" : "unknown");
  }

  pinOf(ctMark: number): string {
    return this.pinOfMark.get((ctMark & MARK_MASK) >>> 0) ?? "-";
  }

  expect(p: Packet): Expected {
    const e = this.expectMarks(p);
    // The ct mark after the hooks: the steering chain's set mark for a steered new connection,
    // then the pin of the replica routing chose for a new one let through the tunnel.
    let ct = e.ctSet ?? p.ct.mark;
    if (e.verdict === "accept" && p.ct.state === "new" && p.oif === VXLAN_DEVICE) {
      const pin = this.pinOfIp.get(p.nexthop ?? "");
      if (pin !== undefined) ct = pin;
    }
    const { ctSet: _ctSet, ...rest } = e;
    return { ...rest, pinned: this.pinOf(ct) };
  }

  private expectMarks(p: Packet): Omit<Expected, "pinned"> & { ctSet?: number } {
    const drop = (comment: string): Omit<Expected, "pinned"> => ({
      verdict: "drop",
      set: this.setOf(p.mark),
      counted: [comment],
      logged: [],
    });
    const fromWorkload = DEFAULT_OPTIONS.workloadInterfacePrefixes.some((x) => p.iif.startsWith(x));
    const original = p.ct.direction === "original";
    let set = this.setOf(p.mark);
    let ctSet: number | undefined;
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
      if (p.ct.state === "new" && steered !== undefined && !this.inCluster(p.daddr)) {
        set = steered;
        const mark = this.c.plan.gatewaySets.find((s) => s.key === steered)?.mark ?? 0;
        ctSet = ((p.ct.mark & ~MARK_MASK) | mark) >>> 0;
      }
    }
    const marks = ctSet === undefined ? {} : { ctSet };
    if (this.blocked.has(p.saddr) && original) return { ...drop("egress blocked"), set, ...marks };
    if (p.ct.state === "established" || p.ct.state === "related" || w === undefined)
      return { verdict: "accept", set, counted: [], logged: [], ...marks };
    return { ...this.policy(w, p), set, ...marks };
  }

  private inCluster(ip: string): boolean {
    const n = ipNumber(ip);
    return this.cluster.some(([lo, hi]) => n >= lo && n <= hi);
  }

  private policy(w: Workload, p: Packet): Omit<Expected, "set" | "pinned"> {
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

const rendered = (c: Pick<Cluster, "plan" | "clusterCidrs">) => {
  const r = renderNode(c.plan, { clusterCidrs: c.clusterCidrs });
  assert.ok(r.ok, r.ok ? "" : r.error.join("\n"));
  return r.value;
};

const loaded = (c: Cluster): Table => {
  const r = { value: rendered(c) };
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
  pinned: oracle.pinOf(t.ctMark),
});

const canonical = (e: Expected): string => JSON.stringify([e.verdict, e.set, e.counted, e.logged, e.pinned]);

/** Runs the packets of one cluster; returns the first disagreement, or undefined. */
function firstMismatch(table: Table, packets: readonly Packet[], oracle: Oracle): string | undefined {
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
      const packets = Array.from({ length: PACKETS_PER_CLUSTER }, () => randomPacket(rand, c));
      const problem = firstMismatch(loaded(c), packets, oracle);
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

  it("turns random pod events into element updates that trace like a fresh full render", (t) => {
    const CLUSTERS_WITH_EVENTS = 30;
    const EVENTS = 8;
    let elementUpdates = 0;
    let replacements = 0;
    let packetsTraced = 0;
    for (let k = 0; k < CLUSTERS_WITH_EVENTS; k++) {
      const seed = BASE_SEED + 1000 + k;
      const c = randomCluster(seed);
      const rand = seededRandom(seed ^ 0xe7e7);
      const fake = new FakeNft();
      let held = new Map<string, number>();
      let applied = rendered(c);
      assert.ok(fake.run(new Transaction().replaceTable(applied.table)).ok);
      let plan: KernelNodePlan = c.plan;
      for (let e = 0; e < EVENTS; e++) {
        podEvent(rand, c, e);
        const computed = computeNodePlan(c.index, NODE);
        const slots = assignSlots(
          computed.gatewaySets.map((g) => g.key),
          held,
        );
        held = slots.slots;
        plan = kernelPlanOf(computed, slots).plan;
        const next = rendered({ plan, clusterCidrs: c.clusterCidrs });
        const update =
          next.shape.hash === applied.shape.hash ? elementUpdate(applied.table, next.table) : undefined;
        const tx = update?.transaction ?? new Transaction().replaceTable(next.table);
        if (update !== undefined) elementUpdates++;
        else replacements++;
        const run = fake.run(tx);
        assert.ok(run.ok, `cluster seed ${seed}, event ${e}: ${run.ok ? "" : run.error}`);
        applied = next;
      }
      const incremental = fake.table(applied.table.name);
      assert.ok(incremental !== undefined);
      const fresh = new FakeNft();
      assert.ok(
        fresh.run(new Transaction().replaceTable(rendered({ plan, clusterCidrs: c.clusterCidrs }).table)).ok,
      );
      const now: Cluster = { seed, index: c.index, plan, clusterCidrs: c.clusterCidrs };
      const packets = Array.from({ length: PACKETS_PER_CLUSTER }, () => randomPacket(rand, now));
      const oracle = new Oracle(now);
      assert.equal(
        firstMismatch(incremental, packets, oracle),
        undefined,
        `cluster seed ${seed} after events`,
      );
      const a = new Tracer([incremental]);
      const b = new Tracer([fresh.table(applied.table.name) as Table]);
      for (const p of packets) {
        const x = a.trace(p);
        const y = b.trace(p);
        assert.ok(x.ok && y.ok);
        assert.equal(
          canonical(observed(x.value, oracle)),
          canonical(observed(y.value, oracle)),
          `seed ${seed}`,
        );
      }
      packetsTraced += packets.length;
    }
    assert.ok(
      elementUpdates > replacements,
      `${elementUpdates} element updates, ${replacements} replacements`,
    );
    t.diagnostic(
      `${CLUSTERS_WITH_EVENTS * EVENTS} pod events in ${CLUSTERS_WITH_EVENTS} clusters: ${elementUpdates} element ` +
        `updates, ${replacements} table replacements; ${packetsTraced} packets traced after them`,
    );
  });

  it("notices any single rule deleted from the ruleset", (t) => {
    // Cheap exits that change no outcome: dropping them only costs lookups.
    const redundant = new Set(["egw_policy#0"]);
    let mutants = 0;
    let clusters = 0;
    // Clusters with gateway sets and policy: without them, the rules for marks and established
    // traffic have nothing to tell apart.
    for (let seed = MUTATION_SEED; clusters < 6; seed++) {
      const c = randomCluster(seed);
      if (c.plan.gatewaySets.length === 0 || (c.plan.access?.tiers.length ?? 0) === 0) continue;
      clusters++;
      const oracle = new Oracle(c);
      const rand = seededRandom(seed ^ 0x5eed);
      const packets = Array.from({ length: 400 }, () => randomPacket(rand, c));
      const table = loaded(c);
      assert.equal(firstMismatch(table, packets, oracle), undefined, `cluster seed ${seed}`);
      const tracer = new Tracer([table]);
      // Rules that did something for some packet: counted, logged, marked or decided.
      const effective = new Set(
        packets.flatMap((p) => {
          const tr = tracer.trace(p);
          assert.ok(tr.ok);
          return tr.value.hits.flatMap((h) => {
            const chain = table.objects.find((o): o is Chain => o.kind === "chain" && o.name === h.chain);
            const did = h.verdict !== undefined || (chain?.rules[h.rule]?.statements.length ?? 0) > 0;
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
            firstMismatch(mutant, packets, oracle),
            undefined,
            `cluster seed ${seed}: deleting ${id} (${JSON.stringify(o.rules[i])}) changed no traced outcome`,
          );
        }
      }
    }
    t.diagnostic(`${mutants} single-rule deletions in ${clusters} clusters, each noticed`);
  });
});

/**
 * One random pod event on the cluster's node: a workload deleted, re-added with another address
 * or labels, relabelled, or a new one (labels decide destination selectors and which policies
 * apply; annotations which gateway set steers it).
 */
function podEvent(rand: Rand, c: Cluster, n: number): void {
  const onNode = [...c.index.podsOnNode(NODE)].filter(
    (p) => p.metadata.name.startsWith("p") || p.metadata.name.startsWith("q"),
  );
  const app = (): Record<string, string> => ({
    app: ["web", "db", "batch"][Math.floor(rand() * 3)] as string,
  });
  const kind = rand();
  const pod = onNode[Math.floor(rand() * onNode.length)];
  if (pod === undefined || kind < 0.3) {
    const ns = ["a", "b", "c"][Math.floor(rand() * 3)] as string;
    c.index.upsertPod(
      makeWorkload(ns, `q${n}`, {
        node: NODE,
        // Next to other pods' addresses, so destination-selector prefixes merge.
        ip: `10.244.1.${40 + n}`,
        hostInterface: `ewq${n}`,
        labels: app(),
      }),
    );
  } else if (kind < 0.55) c.index.deletePod(pod.metadata.namespace ?? "default", pod.metadata.name);
  else {
    const moved = kind < 0.8;
    const next: PodInput = {
      ...pod,
      metadata: { ...pod.metadata, labels: app() },
      status: { ...pod.status, ...(moved ? { podIP: `10.244.1.${100 + n}` } : {}) },
    };
    c.index.upsertPod(next);
  }
}
