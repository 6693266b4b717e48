import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateResource } from "../api/validate.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import { memoryLogger } from "../util/log.js";
import { NodeLease, renewedLease } from "./lease.js";

const REF = { kind: "Lease", namespace: "egw-system", name: "egw-agent-node-1" };

const renewTimeOf = async (store: ReturnType<typeof createMemoryDatastore>): Promise<string | undefined> => {
  const got = await store.get(REF);
  return got.ok ? (got.value.spec as { renewTime?: string }).renewTime : undefined;
};

describe("renewedLease", () => {
  it("creates a valid lease held by the node", () => {
    const lease = renewedLease(undefined, "node-1", new Date(1000), 10);
    assert.ok(validateResource(lease).ok);
    assert.deepEqual(lease.spec, {
      holderIdentity: "node-1",
      leaseDurationSeconds: 10,
      acquireTime: "1970-01-01T00:00:01.000Z",
      renewTime: "1970-01-01T00:00:01.000Z",
      leaseTransitions: 0,
    });
  });

  it("keeps acquireTime while the holder stays, counts a transition when it changes", () => {
    const first = renewedLease(undefined, "node-1", new Date(1000), 10);
    const again = renewedLease(first, "node-1", new Date(3000), 10);
    assert.equal((again.spec as { acquireTime: string }).acquireTime, "1970-01-01T00:00:01.000Z");
    assert.equal((again.spec as { renewTime: string }).renewTime, "1970-01-01T00:00:03.000Z");
    const taken = renewedLease(again, "node-2", new Date(5000), 10);
    assert.equal((taken.spec as { leaseTransitions: number }).leaseTransitions, 1);
    assert.equal((taken.spec as { acquireTime: string }).acquireTime, "1970-01-01T00:00:05.000Z");
  });
});

describe("NodeLease", () => {
  it("creates the lease, renews it every period and survives an unreachable datastore", async () => {
    const clock = new FakeClock(10_000);
    const store = createMemoryDatastore();
    const log = memoryLogger();
    const lease = new NodeLease({ store, node: "node-1", clock, log, renewMs: 2000 });
    lease.start();
    await clock.advance(0);
    assert.equal(await renewTimeOf(store), new Date(10_000).toISOString());
    await clock.advance(2000);
    assert.equal(await renewTimeOf(store), new Date(12_000).toISOString());

    store.disconnect();
    await clock.advance(6000);
    store.reconnect();
    const warnings = log.records.filter((r) => r.msg === "cannot renew the node lease; retrying");
    assert.equal(warnings.length, 1, "one warning per outage, not one per tick");
    assert.equal(await renewTimeOf(store), new Date(12_000).toISOString());

    await clock.advance(2000);
    assert.equal(await renewTimeOf(store), new Date(20_000).toISOString());
    assert.ok(log.records.some((r) => r.msg === "node lease renewed again"));
    await lease.stop();
    await clock.advance(10_000);
    assert.equal(await renewTimeOf(store), new Date(20_000).toISOString(), "no renewal after stop");
  });
});
