// `npm run bench -- calc`: the pure calculation on a synthetic cluster of 1,000 nodes, 100,000
// pods (2,000 of them gateway replicas of 1,000 EgressGateways) and 100 EgressGatewayPolicies.
// One node ("node-0") carries 10,000 gateway-selected pods. Times compare side by side in one run.
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { MAX_GATEWAY_SETS } from "../src/dataplane/band.js";
import { makeWorkload, selectorAnnotations, syntheticCluster } from "../src/calc/fixtures.js";
import { computeNodePlan } from "../src/calc/node-plan.js";
import type { NodePlan } from "../src/calc/plan.js";
import { ClusterIndex } from "../src/calc/snapshot.js";
import { allow, globalNetworkPolicy, globalNetworkSet } from "../src/calc/access/testing.js";
import { fmtMs, printTable } from "./report.js";

const SHAPE = {
  nodes: 1_000,
  pods: 100_000,
  gateways: 1_000,
  replicasPerGateway: 2,
  policies: 100,
  podsOnBigNode: 10_000,
  seed: 42,
} as const;
const EVENTS = 1_000;
/** Access-policy events: fewer, since each one used to re-resolve every destination selector. */
const ACCESS_EVENTS = 100;
const ACCESS_GNPS = 20;
const TYPICAL_NODE = "node-1";
const BIG_NODE = "node-0";

/** A callable gc even without --expose-gc (the flag can be set at run time for new contexts). */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

const gc = findGc();
const heapMB = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** CPU time of this process (user + system) is the headline: the machine may be shared; wall time is kept too. */
const time = <T>(fn: () => T): { ms: number; wallMs: number; value: T } => {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const cpu = process.cpuUsage(cpuStart);
  return { ms: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - start, value };
};

const wall = (t: { wallMs: number }): string => `wall ${fmtMs(t.wallMs)}`;

const routeCount = (plan: NodePlan): number => plan.gatewaySets.reduce((n, s) => n + s.routes.length, 0);

export async function benchCalc(): Promise<void> {
  const generated = time(() => syntheticCluster(SHAPE));
  const snapshot = generated.value;
  const heapBefore = heapMB();

  const build = time(() => ClusterIndex.fromSnapshot(snapshot));
  const index = build.value;
  const counts = index.counts();

  // Cold: the first plan after a build also fills the shared caches (gateway matches, policies).
  const typicalCold = time(() => computeNodePlan(index, TYPICAL_NODE));
  const typicalWarm = time(() => computeNodePlan(index, TYPICAL_NODE));
  const nodes = index.nodeNames();
  const plans = new Map<string, NodePlan>();
  const all = time(() => {
    for (const node of nodes) plans.set(node, computeNodePlan(index, node));
  });
  const heapAfter = heapMB();

  const big = time(() => computeNodePlan(index, BIG_NODE));
  const bigPlan = big.value;
  const bigEgress = bigPlan.workloads.filter((w) => w.gatewaySet !== undefined).length;
  const bigBlocked = bigPlan.workloads.filter((w) => w.blocked !== undefined).length;

  // Pod add/delete events: alternately add a new gateway-selected pod and delete it again.
  const eventPod = (i: number, node: string) =>
    makeWorkload("tenant-1", `event-${i}`, {
      node,
      ip: `10.63.${(i >> 8) & 0xff}.${i & 0xff}`,
      annotations: selectorAnnotations("egw.dev/gateway == 'gw-1'"),
    });
  const indexOnly = time(() => {
    for (let i = 0; i < EVENTS; i++) {
      if (i % 2 === 0) index.upsertPod(eventPod(i, TYPICAL_NODE));
      else index.deletePod("tenant-1", `event-${i - 1}`);
    }
  });
  const withPlan = (node: string) =>
    time(() => {
      for (let i = 0; i < EVENTS; i++) {
        if (i % 2 === 0) index.upsertPod(eventPod(i, node));
        else index.deletePod("tenant-1", `event-${i - 1}`);
        computeNodePlan(index, node);
      }
    });
  const typicalEvents = withPlan(TYPICAL_NODE);
  const bigEvents = withPlan(BIG_NODE);
  // A gateway health change drops the shared caches: the next plan recomputes gateway matches.
  const healthFlip = time(() => {
    for (let i = 0; i < 20; i++) {
      index.setGatewayHealth("tenant-1/gw-1-0", i % 2 === 0 ? false : undefined);
      computeNodePlan(index, TYPICAL_NODE);
    }
  });
  const fullRebuild = time(() => computeNodePlan(ClusterIndex.fromSnapshot(snapshot), TYPICAL_NODE));
  // The same full computation again on a fresh index, now that the code is JIT-compiled.
  const second = time(() => {
    const fresh = ClusterIndex.fromSnapshot(snapshot);
    for (const node of nodes) computeNodePlan(fresh, node);
  });
  // Access policy: GNPs whose rules select destination pods by label (and GlobalNetworkSets).
  // Added last, so the rows above are measured without access policy.
  for (let k = 0; k < ACCESS_GNPS; k++) {
    index.upsertGlobalNetworkSet(globalNetworkSet(`set-${k}`, { app: `a${k}` }, [`198.51.${k}.0/24`]));
    index.upsertGlobalNetworkPolicy(
      globalNetworkPolicy(`gnp-${k}`, {
        order: k,
        selector: "all()",
        types: ["Egress"],
        egress: [allow({ selector: `app == 'a${k}'` }), allow({ nets: [`203.0.113.${k}/32`] })],
      }),
    );
  }
  const accessEventPod = (i: number) =>
    makeWorkload("tenant-1", `access-event-${i}`, {
      node: TYPICAL_NODE,
      ip: `10.62.${(i >> 8) & 0xff}.${i & 0xff}`,
      labels: { app: `a${(i >> 1) % ACCESS_GNPS}` },
    });
  let accessPlan = computeNodePlan(index, TYPICAL_NODE);
  const accessEvents = time(() => {
    for (let i = 0; i < ACCESS_EVENTS; i++) {
      if (i % 2 === 0) index.upsertPod(accessEventPod(i));
      else index.deletePod("tenant-1", `access-event-${i - 1}`);
      accessPlan = computeNodePlan(index, TYPICAL_NODE);
    }
  });
  // Reference work on the same input, to read the times as ratios: a structured deep copy of all pods.
  const reference = time(() => structuredClone(snapshot.pods).length);
  const fullComputation = build.ms + all.ms;

  const perEvent = (ms: number, n: number): number => ms / n;
  const eventMs = perEvent(typicalEvents.ms, EVENTS);
  console.log(
    `cluster: ${counts.nodes} nodes, ${counts.pods} pods (${counts.gatewayPods} gateway replicas of ${SHAPE.gateways} ` +
      `EgressGateways), ${counts.namespaces} namespaces, ${counts.policies} EgressGatewayPolicies; ` +
      `gc ${gc ? "available" : "NOT available (heap figures include garbage)"}`,
  );
  printTable(
    [
      ["measurement (CPU time unless noted)", "value", "note"],
      [
        "reference: structuredClone of all pods",
        fmtMs(reference.ms),
        `${wall(reference)}; not calc, for ratios`,
      ],
      ["generate synthetic snapshot", fmtMs(generated.ms), "not calc"],
      ["index build (fromSnapshot)", fmtMs(build.ms), wall(build)],
      [
        `NodePlan, one node (${TYPICAL_NODE}), cold`,
        fmtMs(typicalCold.ms),
        `${typicalCold.value.workloads.length} workloads; fills shared caches`,
      ],
      [`NodePlan, one node (${TYPICAL_NODE}), warm`, fmtMs(typicalWarm.ms), "per-pod results reused"],
      [
        `NodePlan, all ${nodes.length} nodes`,
        fmtMs(all.ms),
        `${wall(all)}; ${fmtMs(all.ms / nodes.length)} per node; every node computed`,
      ],
      [
        "full computation: build + all nodes",
        fmtMs(fullComputation),
        `first run, JIT warm-up included; ${(fullComputation / reference.ms).toFixed(1)}x the reference clone`,
      ],
      [
        "full computation, second run (fresh index)",
        fmtMs(second.ms),
        `${wall(second)}; ${(second.ms / reference.ms).toFixed(1)}x the reference clone`,
      ],
      [`NodePlan, ${BIG_NODE} (${bigPlan.workloads.length} pods), after a full pass`, fmtMs(big.ms)],
      ["heap used before index", `${heapBefore.toFixed(0)} MB`, "snapshot objects only"],
      [
        "heap used after index + all plans",
        `${heapAfter.toFixed(0)} MB`,
        `+${(heapAfter - heapBefore).toFixed(0)} MB`,
      ],
      [
        `pod add/delete, index update only`,
        fmtMs(perEvent(indexOnly.ms, EVENTS)),
        `per event, mean of ${EVENTS}`,
      ],
      [`pod add/delete + NodePlan (${TYPICAL_NODE})`, fmtMs(eventMs), `per event, mean of ${EVENTS}`],
      [
        `pod add/delete + NodePlan (${BIG_NODE})`,
        fmtMs(perEvent(bigEvents.ms, EVENTS)),
        `per event, mean of ${EVENTS}`,
      ],
      [
        `gateway health change + NodePlan (${TYPICAL_NODE})`,
        fmtMs(perEvent(healthFlip.ms, 20)),
        "per event, mean of 20; caches dropped",
      ],
      [
        `pod add/delete + NodePlan (${TYPICAL_NODE}) with ${ACCESS_GNPS} GlobalNetworkPolicies with destination selectors`,
        fmtMs(perEvent(accessEvents.ms, ACCESS_EVENTS)),
        `per event, mean of ${ACCESS_EVENTS}; ${accessPlan.access?.tiers.reduce((n, t) => n + t.policies.length, 0) ?? 0} policies in the plan`,
      ],
      [
        `full rebuild + NodePlan (${TYPICAL_NODE})`,
        fmtMs(fullRebuild.ms),
        "what an event would cost without incremental indexes",
      ],
      ["ratio full rebuild / incremental event", `${(fullRebuild.ms / eventMs).toFixed(0)}x`],
      [`${BIG_NODE}: pods selected for gateways`, String(bigEgress), `${bigBlocked} blocked`],
      [
        `${BIG_NODE}: ip rules = gateway sets = tables`,
        String(bigPlan.gatewaySets.length),
        `band holds ${MAX_GATEWAY_SETS}`,
      ],
      [`${BIG_NODE}: routes in those tables`, String(routeCount(bigPlan))],
      [`${BIG_NODE}: tunnel peers`, String(bigPlan.tunnelPeers.length)],
      [
        `ratio egress pods / tables on ${BIG_NODE}`,
        `${(bigEgress / Math.max(1, bigPlan.gatewaySets.length)).toFixed(1)}x`,
        "table-per-pod would need one per pod",
      ],
    ],
    { note: true },
  );
  await Promise.resolve();
}
