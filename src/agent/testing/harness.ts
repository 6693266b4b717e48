// An Agent for node1 over the memory datastore, a fake dataplane and a fake clock, started and
// settled past its first debounce: the shared setup of the agent's unit tests.
import assert from "node:assert/strict";
import type { Resource } from "../../api/meta.js";
import type { NodePlan } from "../../calc/plan.js";
import type { HttpGetResult } from "../../daemon/http-get.js";
import { clientPod, gatewayPod, ipPool, namespace, node } from "../../daemon/testing/objects.js";
import { FakeNodeDataplane } from "../../dataplane/fake.js";
import type { TableGatewayGroup } from "../../dataplane/kernel-groups.js";
import { createMemoryDatastore, type MemoryDatastore } from "../../datastore/memory.js";
import type { Datastore } from "../../datastore/types.js";
import { memoryLogger } from "../../util/log.js";
import { Agent, type AgentOptions } from "../agent.js";
import { FakeClock } from "../../daemon/testing/fake-clock.js";

/** The cluster most agent tests use: two replicas of gateway egress/gw and one client on node1. */
export const GW_A = {
  namespace: "egress",
  name: "gw-a",
  node: "gwnode",
  ip: "10.244.2.10",
  gateway: "gw",
  egressIP: "10.10.0.1",
};
export const GW_B = {
  namespace: "egress",
  name: "gw-b",
  node: "gwnode",
  ip: "10.244.2.11",
  gateway: "gw",
  egressIP: "10.10.0.2",
};
export const CLIENT = {
  namespace: "default",
  name: "client",
  node: "node1",
  ip: "10.244.1.10",
  hostInterface: "ewclient",
  gateway: "gw",
  gatewayNamespace: "egress",
};

/** Stores `obj`, failing the test with the datastore's message when it cannot. */
export async function must(store: Datastore, obj: Resource): Promise<void> {
  const r = await store.create(obj);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
}

/** Options the tests vary; the rest are fixed (node1, 10 s resync, 50 ms debounce, 500 ms retry). */
export type HarnessOptions = Omit<AgentOptions, "store" | "node" | "dataplane" | "clock" | "log">;

export async function startAgentOn<D extends FakeNodeDataplane>(
  objects: readonly Resource[],
  dataplane: D,
  options: HarnessOptions & { wrapStore?: (store: Datastore) => Datastore },
) {
  const store: MemoryDatastore = createMemoryDatastore();
  for (const obj of objects) await must(store, obj);
  const clock = new FakeClock();
  const log = memoryLogger("agent");
  const { wrapStore, ...agentOptions } = options;
  const agent = new Agent({
    resyncMs: 10_000,
    debounceMs: 50,
    retryMs: 500,
    ...agentOptions,
    store: wrapStore === undefined ? store : wrapStore(store),
    node: "node1",
    dataplane,
    clock,
    log,
  });
  await agent.start();
  await clock.advance(50);
  return { store, clock, dataplane, log, agent };
}

export interface TwoReplicaOptions {
  /** gw-b's Pod, when a test needs it other than gatewayPod(GW_B). */
  podB?: Resource;
  /** What the fake kernel already steers workloads with (an agent restart). */
  kernelSlots?: Map<string, number>;
  /** The nexthop groups the fake kernel already holds (an agent restart). */
  kernelGroups?: TableGatewayGroup[];
  /** Gateway poll interval (default 1000 ms; two failures take a replica out). */
  intervalMs?: number;
}

/**
 * An agent for CLIENT on node1, routed through GW_A and GW_B on gwnode. Gateways answer 200 unless
 * `answers` holds another reply for their readiness URL; every plan the agent reconciles is kept
 * in `attempts`. The first polls come 500 ms after the first plan (the jitter is fixed at 0.5).
 */
export async function startTwoReplicaAgent(o: TwoReplicaOptions = {}) {
  const dataplane = new FakeNodeDataplane();
  if (o.kernelSlots) dataplane.kernelSlots = o.kernelSlots;
  if (o.kernelGroups) dataplane.kernelGroups = o.kernelGroups;
  const answers = new Map<string, HttpGetResult>();
  const attempts: NodePlan[] = [];
  const started = await startAgentOn(
    [
      node("node1", "172.30.0.1", "10.244.1.0/24"),
      node("gwnode", "172.30.0.2", "10.244.2.0/24"),
      namespace("default"),
      namespace("egress"),
      ipPool("pods", "10.244.0.0/16"),
      gatewayPod(GW_A),
      o.podB ?? gatewayPod(GW_B),
      clientPod(CLIENT),
    ],
    dataplane,
    {
      random: () => 0.5,
      poll: { intervalMs: o.intervalMs ?? 1000, failureThreshold: 2 },
      httpGet: async (url) => answers.get(url) ?? { status: 200 },
      onReconcile: (plan) => attempts.push(plan),
    },
  );
  return { ...started, answers, attempts };
}

/** The routes of the gateway set a workload (default: the client) uses in `plan`. */
export const routesOf = (plan: NodePlan | undefined, workload = CLIENT.name) => {
  const w = plan?.workloads.find((x) => x.name === workload);
  return plan?.gatewaySets.find((s) => s.key === w?.gatewaySet)?.routes;
};

/** The replicas the client's first route goes through in `plan` (none when it is not a gateway route). */
export const hopsOf = (plan: NodePlan | undefined): string[] => {
  const r = routesOf(plan)?.[0];
  return r?.action === "gateways" ? r.hops.map((h) => h.replica) : [];
};
