// The EgwAgentReady condition on a Node: other conditions and fields are kept, the transition
// time only moves when the status flips, long messages are cut.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { agentConditionOf, MAX_CONDITION_MESSAGE, withAgentCondition } from "./node-status.js";

const node: Resource = {
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "node-1" },
  status: {
    addresses: [{ type: "InternalIP", address: "172.30.0.11" }],
    conditions: [{ type: "Ready", status: "True" }],
  },
};
const t0 = new Date("2026-01-01T00:00:00.000Z");
const t1 = new Date("2026-01-01T00:01:00.000Z");

describe("withAgentCondition", () => {
  it("adds the condition and keeps the rest of the status", () => {
    const n = withAgentCondition(node, { ready: true, reason: "Programmed", message: "ok" }, t0);
    const status = n.status as { addresses: unknown; conditions: { type: string }[] };
    assert.deepEqual(status.addresses, [{ type: "InternalIP", address: "172.30.0.11" }]);
    assert.deepEqual(
      status.conditions.map((c) => c.type),
      ["Ready", "EgwAgentReady"],
    );
    assert.deepEqual(agentConditionOf(n), {
      type: "EgwAgentReady",
      status: "True",
      reason: "Programmed",
      message: "ok",
      lastTransitionTime: t0.toISOString(),
    });
  });

  it("moves lastTransitionTime only when the status flips, and cuts long messages", () => {
    const ready = withAgentCondition(node, { ready: true, reason: "Programmed", message: "ok" }, t0);
    const again = withAgentCondition(ready, { ready: true, reason: "Programmed", message: "still ok" }, t1);
    assert.equal(agentConditionOf(again)?.lastTransitionTime, t0.toISOString());
    const failed = withAgentCondition(
      again,
      { ready: false, reason: "ReconcileFailed", message: "x".repeat(5000) },
      t1,
    );
    const c = agentConditionOf(failed);
    assert.equal(c?.status, "False");
    assert.equal(c?.lastTransitionTime, t1.toISOString());
    assert.equal(c?.message?.length, MAX_CONDITION_MESSAGE);
    assert.equal((failed.status as { conditions: unknown[] }).conditions.length, 2, "replaced, not added");
  });
});
