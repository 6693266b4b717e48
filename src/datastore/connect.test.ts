import assert from "node:assert/strict";
import { test } from "node:test";
import { openDatastore } from "./connect.js";

test("openDatastore: memory works, kubernetes is not available yet, bad etcd config is rejected", async () => {
  const mem = openDatastore({ type: "memory" });
  assert.ok(mem.ok);
  if (mem.ok) {
    const created = await mem.value.create({
      apiVersion: "egw.dev/v1",
      kind: "IPPool",
      metadata: { name: "p" },
    });
    assert.ok(created.ok);
    await mem.value.close();
  }

  const k8s = openDatastore({ type: "kubernetes" });
  assert.ok(!k8s.ok);
  if (!k8s.ok)
    assert.match(k8s.error.message, /"kubernetes" datastore is not available yet; use --datastore etcd/);

  const cases: [Parameters<typeof openDatastore>[0], RegExp][] = [
    [{ type: "etcd", etcdEndpoints: [] }, /at least one URL/],
    [
      { type: "etcd", etcdEndpoints: ["127.0.0.1:2379"] },
      /"127\.0\.0\.1:2379" is not a valid URL; expected http\(s\):\/\/HOST:PORT/,
    ],
    [{ type: "etcd", timeoutMs: 0 }, /timeoutMs 0 must be a positive/],
    [
      { type: "zookeeper" as "etcd" },
      /unknown datastore type "zookeeper"; valid types: etcd, kubernetes, memory/,
    ],
  ];
  for (const [cfg, want] of cases) {
    const r = openDatastore(cfg);
    assert.ok(!r.ok, JSON.stringify(cfg));
    if (!r.ok) {
      assert.equal(r.error.code, "Invalid");
      assert.match(r.error.message, want);
    }
  }

  const etcd = openDatastore({ type: "etcd", etcdEndpoints: ["http://127.0.0.1:2379"] });
  assert.ok(etcd.ok, "opening is lazy: no connection is made yet");
  if (etcd.ok) await etcd.value.close();
});
