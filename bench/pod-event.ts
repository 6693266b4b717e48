// `npm run bench -- pod-event` (root): how long one pod event takes to reach a node's kernel, at
// 200 and 2,000 gateway-selected pods on the node. A scratch network namespace plays the node; the
// real NodeDataplane programs it. Each event deletes or re-adds one pod (alternately), recomputes
// the NodePlan and reconciles it; the table reports the reconcile's wall time (plan computation is
// shown apart). The node also carries a GlobalNetworkPolicy whose destination selector picks some
// of the node's own pods, so a pod event changes policy sets too. The measuring process runs
// inside the namespace, as the agent does, so no command pays for `ip netns exec`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { syntheticCluster } from "../src/calc/fixtures.js";
import { computeNodePlan } from "../src/calc/node-plan.js";
import type { NodePlan } from "../src/calc/plan.js";
import { ClusterIndex } from "../src/calc/snapshot.js";
import type { PodInput } from "../src/calc/inputs.js";
import { allow, globalNetworkPolicy } from "../src/calc/access/testing.js";
import { NodeDataplane } from "../src/dataplane/node-dataplane.js";
import { localRunner } from "../src/dataplane/runner.js";
import { deleteNetns, sh } from "../src/dataplane/testing/netns.js";
import { percentile } from "./report.js";

const SIZES = [200, 2_000];
const EVENTS = 40;
const NODE = "node-0";

interface Sample {
  reconcileMs: number[];
  planMs: number[];
  changes: number[];
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** A cluster whose node-0 carries `pods` gateway-selected workloads, plus one selector policy. */
function clusterIndex(pods: number): ClusterIndex {
  const snapshot = syntheticCluster({
    nodes: 4,
    pods: pods + 100 + 20,
    gateways: 50,
    replicasPerGateway: 2,
    policies: 5,
    podsOnBigNode: pods,
    seed: 7,
  });
  return ClusterIndex.fromSnapshot({
    ...snapshot,
    globalNetworkPolicies: [
      globalNetworkPolicy("allow-some-pods", {
        selector: "all()",
        egress: [allow({ selector: "app in {'a1', 'a2', 'a3'}" }), allow()],
      }),
    ],
  });
}

async function measure(pods: number): Promise<Sample> {
  const index = clusterIndex(pods);
  const dataplane = new NodeDataplane(localRunner(), { workloadInterfacePrefixes: ["egw"] });
  let plan: NodePlan = computeNodePlan(index, NODE);
  const first = await dataplane.reconcile(plan);
  if (!first.ok) throw new Error(`first reconcile failed: ${first.error}`);
  const onNode = [...index.podsOnNode(NODE)].filter((p: PodInput) => p.metadata.name.startsWith("app-"));
  const sample: Sample = { reconcileMs: [], planMs: [], changes: [] };
  let removed: PodInput | undefined;
  for (let i = 0; i < EVENTS; i++) {
    const t0 = performance.now();
    if (removed === undefined) {
      const pod = onNode[(i * 7919) % onNode.length]!;
      index.deletePod(pod.metadata.namespace ?? "default", pod.metadata.name);
      removed = pod;
    } else {
      index.upsertPod(removed);
      removed = undefined;
    }
    plan = computeNodePlan(index, NODE);
    const t1 = performance.now();
    const r = await dataplane.reconcile(plan);
    const t2 = performance.now();
    if (!r.ok) throw new Error(`reconcile failed: ${r.error}`);
    sample.planMs.push(t1 - t0);
    sample.reconcileMs.push(t2 - t1);
    sample.changes.push(r.value.changes);
  }
  return sample;
}

/** Runs `measure` in a child process inside `ns` and returns its sample. */
function measureIn(ns: string, pods: number): Promise<Sample> {
  const argv = [
    "netns",
    "exec",
    ns,
    process.execPath,
    fileURLToPath(import.meta.url),
    WORKER_FLAG,
    String(pods),
  ];
  return new Promise((resolve, reject) =>
    execFile("ip", argv, { maxBuffer: 16 << 20 }, (e, out, err) =>
      e
        ? reject(new Error(`pod-event worker (${pods} pods): ${err || e.message}`))
        : resolve(JSON.parse(out) as Sample),
    ),
  );
}

const WORKER_FLAG = "--pod-event-worker";
if (process.argv[2] === WORKER_FLAG) {
  const sample = await measure(Number(process.argv[3]));
  process.stdout.write(JSON.stringify(sample));
}

export async function benchPodEvent(): Promise<void> {
  const prefix = `egwbe${randomBytes(3).toString("hex")}-`;
  const made: string[] = [];
  try {
    console.log(`${EVENTS} pod events per size (delete / re-add alternately); wall times in ms`);
    console.log(
      ["pods on node", "reconcile p50", "p90", "p99", "max", "plan p50", "kernel changes p50"]
        .map((h, i) => (i === 0 ? h.padEnd(14) : h.padStart(i === 6 ? 20 : 14)))
        .join(""),
    );
    for (const pods of SIZES) {
      const ns = `${prefix}${pods}`;
      made.push(ns);
      await sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
      const s = await measureIn(ns, pods);
      console.log(
        [
          String(pods).padEnd(14),
          ...[50, 90, 99, 100].map((p) => fmt(percentile(s.reconcileMs, p)).padStart(14)),
          fmt(percentile(s.planMs, 50)).padStart(14),
          String(percentile(s.changes, 50)).padStart(20),
        ].join(""),
      );
    }
  } finally {
    await deleteNetns(made);
  }
}
