import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/meta.js";
import { deepEqual, planApply, withNamespace } from "./apply-plan.js";

const stored: Resource = {
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: {
    name: "gw",
    namespace: "payments",
    labels: { a: "1" },
    resourceVersion: "10",
    uid: "u-1",
    creationTimestamp: "2025-01-01T00:00:00Z",
  },
  spec: { replicas: 2, ipPools: [{ name: "p" }] },
  status: { ready: 2 },
};
const desired = (spec: unknown, extra: Partial<Resource["metadata"]> = {}): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name: "gw", namespace: "payments", labels: { a: "1" }, ...extra },
  spec,
});

describe("planApply", () => {
  it("creates without server-owned fields", () => {
    const step = planApply(
      { ...desired({ replicas: 1 }, { resourceVersion: "3", uid: "x" }), status: { ready: 9 } },
      undefined,
    );
    assert.equal(step.action, "create");
    assert.ok(step.action === "create");
    assert.equal(step.object.metadata.resourceVersion, undefined);
    assert.equal(step.object.metadata.uid, undefined);
    assert.equal(step.object.status, undefined);
  });

  it("is unchanged when spec, labels and annotations are equal in any key order", () => {
    assert.deepEqual(planApply(desired({ ipPools: [{ name: "p" }], replicas: 2 }), stored), {
      action: "unchanged",
    });
    assert.deepEqual(
      planApply(desired({ replicas: 2, ipPools: [{ name: "p" }] }, { annotations: {} }), stored),
      {
        action: "unchanged",
      },
    );
  });

  it("updates with the stored resourceVersion and keeps status, uid and creation time", () => {
    const step = planApply(desired({ replicas: 3, ipPools: [{ name: "p" }] }), stored);
    assert.ok(step.action === "update");
    assert.equal(step.object.metadata.resourceVersion, "10");
    assert.equal(step.object.metadata.uid, "u-1");
    assert.equal(step.object.metadata.creationTimestamp, "2025-01-01T00:00:00Z");
    assert.deepEqual(step.object.status, { ready: 2 });
    assert.deepEqual(step.object.spec, { replicas: 3, ipPools: [{ name: "p" }] });
  });

  it("keeps a resourceVersion the file pins, so a stale edit conflicts", () => {
    const step = planApply(desired({ replicas: 3 }, { resourceVersion: "4" }), stored);
    assert.ok(step.action === "update");
    assert.equal(step.object.metadata.resourceVersion, "4");
  });

  it("treats label changes as changes", () => {
    assert.equal(planApply(desired(stored.spec, { labels: { a: "2" } }), stored).action, "update");
  });

  it("compares a Secret's payload, which is beside metadata instead of in spec", () => {
    const secret = (data: Record<string, string>): Resource =>
      ({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "s", namespace: "egw-system" },
        type: "Opaque",
        data,
      }) as Resource;
    assert.equal(planApply(secret({ pw: "YQ==" }), secret({ pw: "YQ==" })).action, "unchanged");
    const step = planApply(secret({ pw: "Yg==" }), secret({ pw: "YQ==" }));
    assert.ok(step.action === "update");
    assert.deepEqual((step.object as unknown as { data: unknown }).data, { pw: "Yg==" });
  });
});

describe("withNamespace", () => {
  const doc = { apiVersion: "egw.dev/v1", kind: "EgressGateway", metadata: { name: "gw" } };

  it("fills the namespace of namespaced kinds only", () => {
    assert.deepEqual(withNamespace(doc, "shop", false), {
      ok: true,
      value: { ...doc, metadata: { name: "gw", namespace: "shop" } },
    });
    const pool = { kind: "IPPool", metadata: { name: "p" } };
    assert.deepEqual(withNamespace(pool, "shop", false), { ok: true, value: pool });
  });

  it("rejects a namespace that contradicts an explicit -n", () => {
    const inOther = { ...doc, metadata: { name: "gw", namespace: "a" } };
    assert.ok(withNamespace(inOther, "a", true).ok);
    assert.ok(withNamespace(inOther, "b", false).ok);
    const r = withNamespace(inOther, "b", true);
    assert.ok(!r.ok);
    assert.match(r.error, /metadata\.namespace "a" does not match -n "b"/);
  });
});

describe("deepEqual", () => {
  it("ignores key order and undefined members, not array order", () => {
    assert.ok(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }));
    assert.ok(!deepEqual([1, 2], [2, 1]));
    assert.ok(!deepEqual({ a: 1 }, { a: "1" }));
    assert.ok(!deepEqual(null, {}));
  });
});
