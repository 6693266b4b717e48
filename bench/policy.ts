// `npm run bench -- policy` (root): the cost of egress access policy, side by side in one run of
// scratch network namespaces (a node with one pod, an external listener):
//   - new-connection rate from the pod with no policy, 10 rules, 100,000 CIDRs in one rule, and
//     10,000 rules + 100,000 CIDRs (the matching rule last, so every rule is evaluated);
//   - time to compile (calc plan + nft render) and apply (NodeDataplane reconcile) each ruleset;
//   - time from a policy change (computeNodePlan + NodeDataplane.reconcile call) to the change
//     being enforced, observed by a prober in the pod that connects continuously (p50/p99).
// Rounds interleave the rulesets; the table reports medians and ratios to the 10-rule case.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { AccessRuleInput, NetworkPolicyInput } from "../src/calc/access/inputs.js";
import { allow, deny, globalNetworkPolicy } from "../src/calc/access/testing.js";
import { makeNamespace, makeNode, makeWorkload, makeWorkloadPool } from "../src/calc/fixtures.js";
import { computeNodePlan } from "../src/calc/node-plan.js";
import { ClusterIndex } from "../src/calc/snapshot.js";
import { withFreshSlots } from "../src/dataplane/kernel-plan.js";
import { NodeDataplane } from "../src/dataplane/node-dataplane.js";
import { renderNode } from "../src/dataplane/render-node.js";
import { netnsRunner } from "../src/dataplane/runner.js";
import { deleteNetns, lineFrom, run } from "../src/dataplane/testing/netns.js";
import { addNetns, addPod, linkNodeToExternal } from "../src/dataplane/testing/topology.js";
import { fmtMs, median, percentile, printTable } from "./report.js";

const ROUNDS = 3;
const CONNECTS = 1_500;
const CHANGES = 20;
const LISTENER = "198.18.0.10";
const PORT = 7000;
const NODE_IP = "172.31.8.10";
const POD_IP = "10.244.1.10";

const P = `egwbp${randomBytes(3).toString("hex")}-`;
const NS = { node: `${P}node`, pod: `${P}pod`, ext: `${P}ext` };

const LISTEN_JS = `require("net").createServer((s) => { s.on("error", () => {}); s.destroy(); })
  .listen(${PORT}, "${LISTENER}", () => console.log("listening"));`;

/** N sequential connect+close (bounded by a deadline); prints {"ok","failed","seconds"}. */
const CONNECT_JS = `
const net = require("net"); const n = Number(process.argv[1]); const deadline = Date.now() + 20000;
const one = () => new Promise((res) => { const s = net.connect(${PORT}, "${LISTENER}");
  const t = setTimeout(() => { s.destroy(); res(false); }, 1000);
  s.on("connect", () => { clearTimeout(t); s.destroy(); res(true); }); s.on("error", () => { clearTimeout(t); res(false); }); });
(async () => { let ok = 0, failed = 0; const t0 = process.hrtime.bigint();
  for (let i = 0; i < n && Date.now() < deadline; i++) (await one()) ? ok++ : failed++;
  console.log(JSON.stringify({ ok, failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9 })); })();`;

/** Connects continuously (20 ms timeout); prints "<reached|blocked> <hrtime ns>" whenever the outcome changes. */
const PROBER_JS = `
const net = require("net"); let last = "";
const one = () => new Promise((res) => { const s = net.connect(${PORT}, "${LISTENER}");
  const t = setTimeout(() => { s.destroy(); res("blocked"); }, 20);
  s.on("connect", () => { clearTimeout(t); s.destroy(); res("reached"); }); s.on("error", () => { clearTimeout(t); res("blocked"); }); });
(async () => { for (;;) { const r = await one(); if (r !== last) { last = r; console.log(r + " " + process.hrtime.bigint()); } } })();`;

async function buildTopology(): Promise<ChildProcess> {
  await addNetns(Object.values(NS));
  await linkNodeToExternal({ node: NS.node, ext: NS.ext, nodeIP: NODE_IP, externalIPs: [LISTENER] });
  await addPod(NS.node, NS.pod, { hostInterface: "ewpod", ip: POD_IP, gateway: "10.244.1.1" });
  const listener = spawn("ip", ["netns", "exec", NS.ext, "node", "-e", LISTEN_JS]);
  await lineFrom(listener, (l) => l === "listening", 10_000);
  return listener;
}

const baseIndex = (): ClusterIndex =>
  ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", NODE_IP)],
    namespaces: [makeNamespace("app")],
    pods: [
      makeWorkload("app", "client", {
        node: "n1",
        ip: POD_IP,
        labels: { app: "client" },
        hostInterface: "ewpod",
      }),
    ],
    egressGatewayPolicies: [],
    ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
    gatewayHealth: new Map(),
  });

/** 100,000 distinct, non-adjacent /32s (nft cannot merge them) plus the listener. */
const bigCidrs = (): string[] => {
  const out = Array.from({ length: 100_000 }, (_, i) => {
    const n = i * 3;
    return `100.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}/32`;
  });
  out.push(`${LISTENER}/32`);
  return out;
};

/** `rules - 1` rules that do not match the listener, then the one that allows it. */
function policyWith(rules: number, lastNets: string[]): NetworkPolicyInput {
  const egress: AccessRuleInput[] = Array.from({ length: rules - 1 }, (_, i) =>
    allow({ ports: [20_000 + i] }, "TCP"),
  );
  egress.push(allow({ nets: lastNets, ports: [PORT] }, "TCP"));
  return globalNetworkPolicy("bench", { selector: "app == 'client'", types: ["Egress"], egress });
}

interface Scenario {
  name: string;
  policy?: NetworkPolicyInput;
}

async function connectsPerSecond(): Promise<number> {
  const r = await run(["ip", "netns", "exec", NS.pod, "node", "-e", CONNECT_JS, String(CONNECTS)]);
  if (r.code !== 0) throw new Error(`connect loop failed: ${r.err}`);
  const x = JSON.parse(r.out) as { ok: number; failed: number; seconds: number };
  if (x.failed > 0) throw new Error(`${x.failed} connects failed`);
  return x.ok / x.seconds;
}

/**
 * Measures compile (plan + render) and apply (reconcile) of one scenario. The kernel is first put
 * back to the no-policy table (not measured), so every apply starts from the same small ruleset.
 */
async function apply(dp: NodeDataplane, s: Scenario): Promise<{ compileMs: number; applyMs: number }> {
  const reset = await dp.reconcile(computeNodePlan(baseIndex(), "n1"));
  if (!reset.ok) throw new Error(`reset: ${reset.error}`);
  const index = baseIndex();
  const t0 = performance.now();
  if (s.policy) index.upsertGlobalNetworkPolicy(s.policy);
  const plan = computeNodePlan(index, "n1");
  const rendered = renderNode(withFreshSlots(plan));
  const compileMs = performance.now() - t0;
  if (!rendered.ok) throw new Error(rendered.error.join("; "));
  const t1 = performance.now();
  const r = await dp.reconcile(plan);
  const applyMs = performance.now() - t1;
  if (!r.ok) throw new Error(`${s.name}: ${r.error}`);
  return { compileMs, applyMs };
}

/** Toggles the policy between allow and deny of the listener; returns change→enforced latencies. */
async function changeLatencies(dp: NodeDataplane): Promise<{ enforce: number[]; call: number[] }> {
  const prober = spawn("ip", ["netns", "exec", NS.pod, "node", "-e", PROBER_JS]);
  const events: { state: string; at: bigint }[] = [];
  let buf = "";
  prober.stdout.on("data", (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      const [state = "", at = "0"] = l.split(" ");
      events.push({ state, at: BigInt(at) });
    }
  });
  const index = baseIndex();
  const enforce: number[] = [];
  const call: number[] = [];
  const waitFor = async (state: string, after: bigint): Promise<bigint> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const e = events.find((x) => x.state === state && x.at >= after);
      if (e) return e.at;
      if (Date.now() > deadline) throw new Error(`prober never saw "${state}"`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    const rules = (action: "allow" | "deny"): NetworkPolicyInput =>
      globalNetworkPolicy("toggle", {
        selector: "app == 'client'",
        egress: [
          ...Array.from({ length: 9 }, (_, i) => allow({ ports: [20_000 + i] }, "TCP")),
          action === "allow"
            ? allow({ nets: [`${LISTENER}/32`] }, "TCP")
            : deny({ nets: [`${LISTENER}/32`] }, "TCP"),
        ],
      });
    index.upsertGlobalNetworkPolicy(rules("allow"));
    const first = await dp.reconcile(computeNodePlan(index, "n1"));
    if (!first.ok) throw new Error(first.error);
    await waitFor("reached", 0n);
    for (let i = 0; i < CHANGES; i++) {
      const want = i % 2 === 0 ? "blocked" : "reached";
      const t0 = process.hrtime.bigint();
      index.upsertGlobalNetworkPolicy(rules(want === "blocked" ? "deny" : "allow"));
      const r = await dp.reconcile(computeNodePlan(index, "n1"));
      const t1 = process.hrtime.bigint();
      if (!r.ok) throw new Error(r.error);
      const seen = await waitFor(want, t0);
      enforce.push(Number(seen - t0) / 1e6);
      call.push(Number(t1 - t0) / 1e6);
    }
  } finally {
    prober.kill("SIGKILL");
  }
  return { enforce, call };
}

export async function benchPolicy(): Promise<void> {
  let listener: ChildProcess | undefined;
  try {
    listener = await buildTopology();
    const dp = new NodeDataplane(netnsRunner(NS.node));
    const cidrs = bigCidrs();
    const scenarios: Scenario[] = [
      { name: "no policy" },
      { name: "10 rules", policy: policyWith(10, [`${LISTENER}/32`]) },
      { name: "10 rules, 100,000 CIDRs", policy: policyWith(10, cidrs) },
      { name: "10,000 rules, 100,000 CIDRs", policy: policyWith(10_000, cidrs) },
    ];
    const rate = new Map<string, number[]>();
    const compile = new Map<string, number[]>();
    const applyMs = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of scenarios) {
        const t = await apply(dp, s);
        compile.set(s.name, [...(compile.get(s.name) ?? []), t.compileMs]);
        applyMs.set(s.name, [...(applyMs.get(s.name) ?? []), t.applyMs]);
        rate.set(s.name, [...(rate.get(s.name) ?? []), await connectsPerSecond()]);
      }
    }
    const change = await changeLatencies(dp);

    const ref = median(rate.get("10 rules") ?? []);
    const refCompile = median(compile.get("10 rules") ?? []);
    const refApply = median(applyMs.get("10 rules") ?? []);
    console.log(
      `${ROUNDS} interleaved rounds; ${CONNECTS} sequential connect+close from the pod per measurement; ` +
        `the allowing rule is last, so every rule is evaluated`,
    );
    printTable([
      ["ruleset", "conn/s", "vs 10 rules", "compile", "vs 10 rules", "apply (from no policy)", "vs 10 rules"],
      ...scenarios.map((s) => {
        const r = median(rate.get(s.name) ?? []);
        const c = median(compile.get(s.name) ?? []);
        const a = median(applyMs.get(s.name) ?? []);
        return [
          s.name,
          r.toFixed(0),
          `${(r / ref).toFixed(2)}x`,
          fmtMs(c),
          `${(c / refCompile).toFixed(1)}x`,
          fmtMs(a),
          `${(a / refApply).toFixed(1)}x`,
        ];
      }),
    ]);
    console.log("");
    printTable([
      [`policy change → enforced (${CHANGES} allow/deny toggles, 10 rules)`, "p50", "p99"],
      [
        "reconcile call (plan + render + nft load)",
        fmtMs(median(change.call)),
        fmtMs(percentile(change.call, 99)),
      ],
      [
        "change → first connection with the new verdict",
        fmtMs(median(change.enforce)),
        fmtMs(percentile(change.enforce, 99)),
      ],
    ]);
    console.log("(the prober's connect timeout is 20 ms, so allow→deny is observed up to 20 ms late)");
  } finally {
    listener?.kill("SIGKILL");
    await deleteNetns(Object.values(NS));
  }
}

// Run directly: `npx tsx bench/policy.ts`.
if (process.argv[1]?.endsWith("policy.ts") || process.argv[1]?.endsWith("policy.js")) await benchPolicy();
