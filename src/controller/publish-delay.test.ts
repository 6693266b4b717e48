import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ANN_GATEWAY_USABLE_AFTER } from "../api/well-known.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import { memoryLogger } from "../util/log.js";
import { GatewayController } from "./controller.js";
import { usableAfterAnnotations } from "./publish-delay.js";
import { gatewayObj, must, nodeObj, poolObj, replicaPods, waitFor } from "./testing.js";

const running: GatewayController[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

const NOW = Date.parse("2026-11-28T13:00:00Z");

describe("publish before use", () => {
  it("no delay, no annotation; a delay counts from creation", () => {
    assert.deepEqual(usableAfterAnnotations(NOW, 0), {});
    assert.deepEqual(usableAfterAnnotations(NOW, 90), {
      [ANN_GATEWAY_USABLE_AFTER]: "2026-11-28T13:01:30.000Z",
    });
  });

  it("a new replica of a gateway covered by FirewallFeeds carries usableAfter = creation + the longest delay", async () => {
    const ds = createMemoryDatastore();
    await must(ds.create(nodeObj("node-1")));
    await must(ds.create(poolObj("egress", "10.10.1.0/29")));
    await must(
      ds.create({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "payments", labels: { tier: "pci" } },
      }),
    );
    for (const [name, selector, namespaceSelector, delay] of [
      ["slow", "team == 'payments'", "tier == 'pci'", 120],
      ["fast", "all()", undefined, 10],
      ["other-ns", "all()", "tier == 'dev'", 600],
    ] as const)
      await must(
        ds.create({
          apiVersion: "egw.dev/v1",
          kind: "FirewallFeed",
          metadata: { name },
          spec: { selector, ...(namespaceSelector ? { namespaceSelector } : {}), publishDelaySeconds: delay },
        }),
      );
    const c = new GatewayController({
      store: ds,
      log: memoryLogger("controller"),
      now: () => NOW,
      nodeLostMs: 0,
    });
    running.push(c);
    await c.start();
    const gw = gatewayObj("gw", "payments", { replicas: 1 });
    gw.metadata.labels = { team: "payments" };
    await must(ds.create(gw));
    await must(ds.create(gatewayObj("plain", "default", { replicas: 1 })));
    await waitFor(
      "both replicas",
      async () =>
        (await replicaPods(ds, "payments", "gw")).length === 1 &&
        (await replicaPods(ds, "default", "plain")).length === 1,
    );
    const [pod] = await replicaPods(ds, "payments", "gw");
    assert.equal(pod?.metadata.annotations?.[ANN_GATEWAY_USABLE_AFTER], "2026-11-28T13:02:00.000Z");
    const [plain] = await replicaPods(ds, "default", "plain");
    // Only the all() feed (10 s) covers it: the namespace default has no tier label.
    assert.equal(plain?.metadata.annotations?.[ANN_GATEWAY_USABLE_AFTER], "2026-11-28T13:00:10.000Z");
  });
});
