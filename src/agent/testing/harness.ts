// An Agent for node1 over the memory datastore, a fake dataplane and a fake clock, started and
// settled past its first debounce: the shared setup of the agent's unit tests.
import assert from "node:assert/strict";
import type { Resource } from "../../api/meta.js";
import type { FakeNodeDataplane } from "../../dataplane/fake.js";
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
  options: HarnessOptions,
) {
  const store: MemoryDatastore = createMemoryDatastore();
  for (const obj of objects) await must(store, obj);
  const clock = new FakeClock();
  const log = memoryLogger("agent");
  const agent = new Agent({
    resyncMs: 10_000,
    debounceMs: 50,
    retryMs: 500,
    ...options,
    store,
    node: "node1",
    dataplane,
    clock,
    log,
  });
  await agent.start();
  await clock.advance(50);
  return { store, clock, dataplane, log, agent };
}
