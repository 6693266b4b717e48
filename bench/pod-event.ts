// `npm run bench -- pod-event` (root): how long one pod event takes to reach a node's kernel, at
// 200 and 2,000 gateway-selected pods on the node, through both ways a reconcile can go: the
// full path (`reconcile(plan, { full: true })`: read the kernel back — routing, neighbours, FDB,
// nexthops, rules, the nft table — and replace the table) and the incremental path (the agent's
// event pass: routing left alone when unchanged, one nft transaction of element operations). A
// scratch network namespace plays the node; the real NodeDataplane programs it. Each event deletes
// or re-adds one pod (alternately), recomputes the NodePlan and reconciles it; rounds interleave
// the two paths. The node also carries a GlobalNetworkPolicy whose destination selector picks some
// of the node's own pods, so some events change an interval set too. The measuring process runs
// inside the namespace, as the agent does, so no command pays for `ip netns exec`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { syntheticCluster } from "../src/calc/fixtures.js";
import { computeNodePlan } from "../src/calc/node-plan.js";
import { ClusterIndex } from "../src/calc/snapshot.js";
import type { PodInput } from "../src/calc/inputs.js";
import { allow, globalNetworkPolicy } from "../src/calc/access/testing.js";
import { NodeDataplane } from "../src/dataplane/node-dataplane.js";
import { localRunner } from "../src/dataplane/runner.js";
import { deleteNetns, sh } from "../src/dataplane/testing/netns.js";
import { percentile, printTable } from "./report.js";

const SIZES = [200, 2_000];
/** Rounds per size; each round runs two events (a delete and a re-add) on each path. */
const ROUNDS = 20;
const NODE = "node-0";

type Path = "full" | "incremental";
type Kind = "remove" | "add";

interface Event {
  path: Path;
  kind: Kind;
  reconcileMs: number;
  planMs: number;
  changes: number;
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

async function measure(pods: number): Promise<Event[]> {
  const index = clusterIndex(pods);
  const dataplane = new NodeDataplane(localRunner(), { workloadInterfacePrefixes: ["egw"] });
  const first = await dataplane.reconcile(computeNodePlan(index, NODE));
  if (!first.ok) throw new Error(`first reconcile failed: ${first.error}`);
  const onNode = [...index.podsOnNode(NODE)].filter((p: PodInput) => p.metadata.name.startsWith("app-"));
  const events: Event[] = [];
  let n = 0;
  const event = async (path: Path, kind: Kind, pod: PodInput): Promise<void> => {
    const t0 = performance.now();
    if (kind === "remove") index.deletePod(pod.metadata.namespace ?? "default", pod.metadata.name);
    else index.upsertPod(pod);
    const plan = computeNodePlan(index, NODE);
    const t1 = performance.now();
    const r = await dataplane.reconcile(plan, { full: path === "full" });
    const t2 = performance.now();
    if (!r.ok) throw new Error(`${path} reconcile failed: ${r.error}`);
    events.push({ path, kind, reconcileMs: t2 - t1, planMs: t1 - t0, changes: r.value.changes });
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which path goes first, so neither always follows the other's kernel work.
    const order: Path[] = round % 2 === 0 ? ["full", "incremental"] : ["incremental", "full"];
    for (const path of order) {
      const pod = onNode[(n++ * 7919) % onNode.length]!;
      await event(path, "remove", pod);
      await event(path, "add", pod);
    }
  }
  dataplane.close();
  return events;
}

/** Runs `measure` in a child process inside `ns` and returns its events. */
function measureIn(ns: string, pods: number): Promise<Event[]> {
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
        : resolve(JSON.parse(out) as Event[]),
    ),
  );
}

const WORKER_FLAG = "--pod-event-worker";
if (process.argv[2] === WORKER_FLAG) {
  const events = await measure(Number(process.argv[3]));
  process.stdout.write(JSON.stringify(events));
}

export async function benchPodEvent(): Promise<void> {
  const prefix = `egwbe${randomBytes(3).toString("hex")}-`;
  const made: string[] = [];
  try {
    console.log(
      `${ROUNDS} interleaved rounds per size; each round deletes and re-adds one pod on each path ` +
        `(${2 * ROUNDS} events per path); reconcile wall times in ms`,
    );
    const rows: string[][] = [
      [
        "pods on node",
        "path",
        "p50",
        "p90",
        "p99",
        "max",
        "remove p50",
        "add p50",
        "full/incr p50",
        "plan p50",
        "changes p50",
      ],
    ];
    for (const pods of SIZES) {
      const ns = `${prefix}${pods}`;
      made.push(ns);
      await sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
      const events = await measureIn(ns, pods);
      const of = (path: Path, kind?: Kind): Event[] =>
        events.filter((e) => e.path === path && (kind === undefined || e.kind === kind));
      const p50 = (path: Path): number =>
        percentile(
          of(path).map((e) => e.reconcileMs),
          50,
        );
      for (const path of ["full", "incremental"] as const) {
        const ms = of(path).map((e) => e.reconcileMs);
        rows.push([
          String(pods),
          path,
          ...[50, 90, 99, 100].map((p) => fmt(percentile(ms, p))),
          fmt(
            percentile(
              of(path, "remove").map((e) => e.reconcileMs),
              50,
            ),
          ),
          fmt(
            percentile(
              of(path, "add").map((e) => e.reconcileMs),
              50,
            ),
          ),
          path === "incremental" ? `${(p50("full") / p50("incremental")).toFixed(1)}x` : "",
          fmt(
            percentile(
              of(path).map((e) => e.planMs),
              50,
            ),
          ),
          String(
            percentile(
              of(path).map((e) => e.changes),
              50,
            ),
          ),
        ]);
      }
    }
    printTable(rows);
  } finally {
    await deleteNetns(made);
  }
}
