// The datastore contract against a real etcd (spawned on free loopback ports, removed afterwards).
// The client under test reaches etcd through a TCP proxy so a test can cut its connection alone.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import type { Resource } from "../api/meta.js";
import { registerDatastoreContract } from "./contract.js";
import { openDatastore } from "./connect.js";
import { EtcdDatastore } from "./etcd.js";
import { startEtcd, freePort, type EtcdServer } from "./testing/etcd-server.js";
import { startTcpProxy, type TcpProxy } from "./testing/tcp-proxy.js";

let etcd: EtcdServer | undefined;
let proxy: TcpProxy | undefined;
let envCount = 0;

registerDatastoreContract({
  name: "etcd",
  setup: async () => {
    etcd = await startEtcd();
    const port = Number(new URL(etcd.endpoints[0] ?? "").port);
    proxy = await startTcpProxy({ host: "127.0.0.1", port });
  },
  teardown: async () => {
    await proxy?.close();
    await etcd?.stop();
  },
  newEnv: async () => {
    const server = etcd;
    const p = proxy;
    if (!server || !p) throw new Error("etcd not started");
    // A fresh key root per test isolates tests sharing one etcd.
    const root = `/egw-test-${process.pid}-${++envCount}/v1`;
    const ds = new EtcdDatastore({ endpoints: [`http://127.0.0.1:${p.port}`], root, timeoutMs: 2000 });
    const other = new EtcdDatastore({ endpoints: server.endpoints, root, timeoutMs: 2000 });
    return {
      ds,
      other,
      cut: async () => p.cut(),
      restore: async () => p.restore(),
      restartBackend: () => server.restart(),
      compact: async () => {
        await server.compact();
      },
      dispose: async () => {
        p.restore();
        await ds.close();
        await other.close();
      },
    };
  },
});

test("etcd: an unreachable endpoint gives a bounded Unavailable error naming it", async () => {
  const port = await freePort(); // nothing listens there
  const opened = openDatastore({
    type: "etcd",
    etcdEndpoints: [`http://127.0.0.1:${port}`],
    timeoutMs: 1000,
  });
  assert.ok(opened.ok);
  const ds = opened.value;
  try {
    const r = await ds.list("IPPool");
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, "Unavailable");
    assert.match(r.error.message, new RegExp(`cannot reach etcd at http://127\\.0\\.0\\.1:${port}`));
  } finally {
    await ds.close();
  }
});

test(
  "etcd: a server that accepts but never answers gives Unavailable instead of hanging",
  { timeout: 30_000 },
  async () => {
    const held = new Set<Socket>();
    const silent = createServer((s) => {
      held.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const addr = silent.address();
    assert.ok(addr && typeof addr === "object");
    const ds = new EtcdDatastore({ endpoints: [`http://127.0.0.1:${addr.port}`], timeoutMs: 500 });
    try {
      const r = await ds.get({ kind: "IPPool", name: "p" });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.error.code, "Unavailable");
        assert.match(r.error.message, /cannot reach etcd at http:\/\/127\.0\.0\.1:\d+/);
      }
    } finally {
      await ds.close();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  },
);

test(
  "etcd: an object over etcd's request limit is Invalid (not Unavailable), naming it",
  { timeout: 60_000 },
  async () => {
    const server = await startEtcd();
    const ds = new EtcdDatastore({ endpoints: server.endpoints, root: `/egw-test-${process.pid}-big/v1` });
    try {
      // etcd's default limit is 1.5 MiB per request.
      const big: Resource = {
        apiVersion: "egw.dev/v1",
        kind: "IPPool",
        metadata: { name: "big", annotations: { filler: "x".repeat(1_600_000) } },
        spec: { cidr: "10.10.0.0/24" },
      };
      const r = await ds.create(big);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, "Invalid");
      assert.match(r.error.message, /IPPool big/);
      // The refusal does not make the store look down.
      assert.ok((await ds.list("IPPool")).ok);
    } finally {
      await ds.close();
      await server.stop();
    }
  },
);
