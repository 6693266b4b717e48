import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import {
  ANN_GATEWAY_DRAIN_STARTED,
  ANN_MAINTENANCE_FINISHED,
  ANN_MAINTENANCE_GATEWAY_IP,
  ANN_MAINTENANCE_STARTED,
} from "../api/well-known.js";
import type { PodInput } from "../calc/inputs.js";
import type { GatewayHop, GatewaySetPlan, NodePlan, RetainedHop } from "../calc/plan.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { pod } from "../daemon/testing/objects.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import { DatastoreError, type Datastore } from "../datastore/types.js";
import { memoryLogger } from "../util/log.js";
import { err } from "../util/result.js";
import { announces, MaintenanceAnnouncer, maintenanceWindows, withWindow } from "./maintenance.js";

const hop = (replica: string, egressIP: string): GatewayHop => ({
  replica,
  ip: "10.244.2.1",
  mac: "02:00:00:00:00:01",
  vtep: "10.244.2.1",
  egressIP,
});

const set = (key: string, retained: RetainedHop[]): GatewaySetPlan => ({ key, routes: [], retained });

const plan = (
  sets: GatewaySetPlan[],
  workloads: [string, string | undefined][],
): Pick<NodePlan, "workloads" | "gatewaySets"> => ({
  gatewaySets: sets,
  workloads: workloads.map(([name, gatewaySet]) => ({
    namespace: "app",
    name,
    ip: "10.244.1.9",
    hostInterface: "ew1",
    ...(gatewaySet === undefined ? {} : { gatewaySet }),
  })),
});

const START = "2030-01-01T00:00:00.000Z";

describe("maintenance windows (pure)", () => {
  it("announce the draining replica that finishes last; down replicas and other sets are not maintenance", () => {
    const windows = maintenanceWindows(
      plan(
        [
          set("a", [
            {
              ...hop("egress/gw-0", "10.10.0.1"),
              why: "draining",
              drainDeadline: "2030-01-01T00:00:08.000Z",
            },
            {
              ...hop("egress/gw-1", "10.10.0.2"),
              why: "draining",
              drainDeadline: "2030-01-01T00:00:30.000Z",
            },
            { ...hop("egress/gw-2", "10.10.0.3"), why: "down" },
          ]),
          set("b", [{ ...hop("egress/gw-2", "10.10.0.3"), why: "down" }]),
        ],
        [
          ["web", "a"],
          ["db", "b"],
          ["plain", undefined],
        ],
      ),
      () => START,
    );
    assert.deepEqual(Object.fromEntries(windows), {
      "app/web": { gatewayIP: "10.10.0.2", started: START, finished: "2030-01-01T00:00:30.000Z" },
      "app/db": undefined,
      "app/plain": undefined,
    });
  });

  it("withWindow sets and removes exactly the three annotations, and says when nothing changes", () => {
    const p = pod({
      namespace: "app",
      name: "web",
      node: "node-1",
      ip: "10.244.1.9",
      annotations: { keep: "me" },
    });
    const w = { gatewayIP: "10.10.0.2", started: START, finished: "2030-01-01T00:00:30.000Z" };
    const announced = withWindow(p, w);
    assert.deepEqual(announced?.metadata.annotations, {
      keep: "me",
      [ANN_MAINTENANCE_GATEWAY_IP]: "10.10.0.2",
      [ANN_MAINTENANCE_STARTED]: START,
      [ANN_MAINTENANCE_FINISHED]: "2030-01-01T00:00:30.000Z",
    });
    assert.equal(withWindow(announced as Resource, w), undefined);
    assert.ok(announces(announced?.metadata.annotations, w));
    assert.deepEqual(withWindow(announced as Resource, undefined)?.metadata.annotations, { keep: "me" });
    assert.equal(withWindow(p, undefined), undefined);
  });
});

describe("MaintenanceAnnouncer", () => {
  const setup = async (store: Datastore = createMemoryDatastore()) => {
    const clock = new FakeClock(Date.parse("2030-01-01T00:00:05.000Z"));
    const log = memoryLogger("agent");
    await store.create(pod({ namespace: "app", name: "web", node: "node-1", ip: "10.244.1.9" }));
    await store.create(
      pod({
        namespace: "egress",
        name: "gw-1",
        node: "node-2",
        ip: "10.244.2.1",
        annotations: { [ANN_GATEWAY_DRAIN_STARTED]: START },
      }),
    );
    // The agent's view of the pods: read back from the store (a watch would deliver the same).
    const seen = new Map<string, Resource>();
    const refresh = async () => {
      for (const [namespace, name] of [
        ["app", "web"],
        ["egress", "gw-1"],
      ] as const) {
        const got = await store.get({ kind: "Pod", namespace, name });
        if (got.ok) seen.set(`${namespace}/${name}`, got.value);
      }
    };
    await refresh();
    const announcer = new MaintenanceAnnouncer({
      store,
      pod: (namespace, name) => seen.get(`${namespace}/${name}`) as PodInput | undefined,
      clock,
      log,
    });
    const draining = plan(
      [
        set("a", [
          { ...hop("egress/gw-1", "10.10.0.2"), why: "draining", drainDeadline: "2030-01-01T00:00:30.000Z" },
        ]),
      ],
      [["web", "a"]],
    );
    const annotationsOf = async (s: Datastore) => {
      const got = await s.get({ kind: "Pod", namespace: "app", name: "web" });
      return got.ok ? got.value.metadata.annotations : undefined;
    };
    return { clock, log, announcer, draining, refresh, annotationsOf };
  };

  it("writes the window once the plan shows a drain (coalesced) and clears it when the drain is over", async () => {
    const store = createMemoryDatastore();
    const { clock, announcer, draining, refresh, annotationsOf } = await setup(store);
    announcer.follow(draining);
    announcer.follow(draining);
    assert.equal(
      (await annotationsOf(store))?.[ANN_MAINTENANCE_GATEWAY_IP],
      undefined,
      "not before the debounce",
    );
    await clock.advance(200);
    assert.deepEqual(await annotationsOf(store), {
      [ANN_MAINTENANCE_GATEWAY_IP]: "10.10.0.2",
      [ANN_MAINTENANCE_STARTED]: START,
      [ANN_MAINTENANCE_FINISHED]: "2030-01-01T00:00:30.000Z",
    });
    await refresh();
    announcer.follow(plan([set("a", [])], [["web", "a"]]));
    await clock.advance(200);
    assert.deepEqual(await annotationsOf(store), {});
    await announcer.stop();
  });

  it("a drain without a recorded start is announced from when this agent first saw it", async () => {
    const store = createMemoryDatastore();
    const { clock, announcer, annotationsOf } = await setup(store);
    announcer.follow(
      plan(
        [
          set("a", [
            {
              ...hop("egress/gw-9", "10.10.0.9"),
              why: "draining",
              drainDeadline: "2030-01-01T00:00:30.000Z",
            },
          ]),
        ],
        [["web", "a"]],
      ),
    );
    await clock.advance(200);
    assert.equal((await annotationsOf(store))?.[ANN_MAINTENANCE_STARTED], "2030-01-01T00:00:05.000Z");
    await announcer.stop();
  });

  it("a datastore error is logged and retried, never thrown", async () => {
    const inner = createMemoryDatastore();
    let down = true;
    const flaky: Datastore = {
      get: (ref) =>
        down ? Promise.resolve(err(new DatastoreError("Unavailable", "etcd is down"))) : inner.get(ref),
      update: (obj) => inner.update(obj),
      create: (obj) => inner.create(obj),
      list: (kind, opts) => inner.list(kind, opts),
      delete: (ref, opts) => inner.delete(ref, opts),
      watch: (o, cb) => inner.watch(o, cb),
      close: () => inner.close(),
    };
    const { clock, log, announcer, draining, annotationsOf } = await setup(flaky);
    announcer.follow(draining);
    await clock.advance(200);
    assert.ok(log.records.some((r) => r.msg === "cannot write maintenance annotations; retrying"));
    down = false;
    await clock.advance(1200); // the retry (1 s), then the debounce
    assert.equal((await annotationsOf(inner))?.[ANN_MAINTENANCE_GATEWAY_IP], "10.10.0.2");
    await announcer.stop();
  });
});
