import assert from "node:assert/strict";
import { test } from "node:test";
import { registerDatastoreContract } from "./contract.js";
import { createMemoryDatastore, MemoryStore } from "./memory.js";
import type { WatchEvent } from "./types.js";

registerDatastoreContract({
  name: "memory",
  newEnv: async () => {
    const store = new MemoryStore();
    const ds = store.client();
    const other = store.client();
    return {
      ds,
      other,
      cut: async () => ds.disconnect(),
      restore: async () => ds.reconnect(),
      restartBackend: async () => {
        for (const c of [ds, other]) c.disconnect();
        for (const c of [ds, other]) c.reconnect();
      },
      compact: async () => store.compact(),
      dispose: async () => {
        await ds.close();
        await other.close();
      },
    };
  },
});

test("memory: a bounded history compacts itself, and a lagging watch resyncs", async () => {
  const ds = createMemoryDatastore({ historyLimit: 3 });
  const listed = await ds.list("IPPool");
  assert.ok(listed.ok);
  const start = listed.value.revision;
  for (const name of ["a", "b", "c", "d", "e"]) {
    const r = await ds.create({ apiVersion: "egw.dev/v1", kind: "IPPool", metadata: { name }, spec: {} });
    assert.ok(r.ok);
  }
  const events: WatchEvent[] = [];
  const done = new Promise<void>((resolve) => {
    const h = ds.watch({ kind: "IPPool", afterRevision: start }, (ev) => {
      events.push(ev);
      void h.stop().then(resolve);
    });
  });
  await done;
  const first = events[0];
  assert.ok(first && first.type === "RESYNC");
  assert.deepEqual(
    first.items.map((o) => o.metadata.name),
    ["a", "b", "c", "d", "e"],
  );
  await ds.close();
});
