// The datastore contract: one node:test suite that every backend must pass.
// memory.test.ts runs it against the in-memory backend, etcd.e2e.test.ts against a real etcd.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Resource } from "../api/meta.js";
import type { Result } from "../util/result.js";
import { readModifyWrite } from "./read-modify-write.js";
import type { Datastore, DatastoreError, WatchEvent, WatchOptions } from "./types.js";

/** One isolated store for one test. */
export interface ContractEnv {
  /** The client under test; cut()/restore() affect only its connection. */
  ds: Datastore;
  /** A second, independent client of the same store (keeps working during cut()). */
  other: Datastore;
  /** Severs ds from the store (its watches stop receiving) until restore(). */
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Stops and restarts the whole backend, keeping its data. */
  restartBackend(): Promise<void>;
  /** Discards the event history up to the current revision. */
  compact(): Promise<void>;
  dispose(): Promise<void>;
}

export interface ContractBackend {
  name: string;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  newEnv(): Promise<ContractEnv>;
}

// ---- helpers -------------------------------------------------------------------------------

const gateway = (namespace: string, name: string, replicas = 1): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { namespace, name, labels: { app: name } },
  spec: { replicas },
});

const pool = (name: string, cidr = "10.10.0.0/24"): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name },
  spec: { cidr },
});

const pod = (namespace: string, name: string): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace, name },
  spec: {},
});

const must = <T>(r: Result<T, DatastoreError>, what = "operation"): T => {
  if (!r.ok) assert.fail(`${what} failed: ${r.error.code}: ${r.error.message}`);
  return r.value;
};

const mustFail = <T>(r: Result<T, DatastoreError>, code: DatastoreError["code"]): DatastoreError => {
  assert.equal(r.ok, false, `expected ${code}, got success`);
  if (r.ok) throw new Error("unreachable");
  assert.equal(r.error.code, code, r.error.message);
  return r.error;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Retries an operation while the backend is Unavailable (e.g. right after a restart). */
const retrying = async <T>(op: () => Promise<Result<T, DatastoreError>>): Promise<T> => {
  for (;;) {
    const r = await op();
    if (r.ok) return r.value;
    if (r.error.code !== "Unavailable") assert.fail(`${r.error.code}: ${r.error.message}`);
    await sleep(50);
  }
};

const label = (ev: WatchEvent): string =>
  ev.type === "RESYNC"
    ? `RESYNC ${ev.items.map((o) => o.metadata.name).join(",")}`
    : `${ev.type} ${ev.object.metadata.namespace ? `${ev.object.metadata.namespace}/` : ""}${ev.object.metadata.name}`;

/** Records a watch's events; until() resolves once the recorded events satisfy a predicate. */
class Recorder {
  readonly events: WatchEvent[] = [];
  private waiters: { done: (evs: WatchEvent[]) => boolean; resolve: () => void }[] = [];

  readonly push = (ev: WatchEvent): void => {
    this.events.push(ev);
    this.waiters = this.waiters.filter((w) => (w.done(this.events) ? (w.resolve(), false) : true));
  };

  until(done: (evs: WatchEvent[]) => boolean): Promise<void> {
    if (done(this.events)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  /** Waits for an event whose label is `l`. */
  seen(l: string): Promise<void> {
    return this.until((evs) => evs.some((e) => label(e) === l));
  }

  labels(): string[] {
    return this.events.map(label);
  }
}

const watchInto = (ds: Datastore, opts: WatchOptions): { rec: Recorder; stop: () => Promise<void> } => {
  const rec = new Recorder();
  const handle = ds.watch(opts, rec.push);
  return { rec, stop: () => handle.stop() };
};

// Generous guard against a hung test; nothing asserts on time.
const TEST_OPTS = { timeout: 60_000 };

// ---- the suite -----------------------------------------------------------------------------

export const registerDatastoreContract = (backend: ContractBackend): void => {
  describe(`datastore contract: ${backend.name}`, () => {
    before(async () => backend.setup?.());
    after(async () => backend.teardown?.());

    /** Runs body with a fresh env, disposing it afterwards even on failure. */
    const it = (name: string, body: (env: ContractEnv) => Promise<void>): void => {
      test(name, TEST_OPTS, async () => {
        const env = await backend.newEnv();
        try {
          await body(env);
        } finally {
          await env.dispose();
        }
      });
    };

    it("create, get, update, delete round-trip with store-owned metadata", async ({ ds }) => {
      const created = must(await ds.create(gateway("payments", "gw")), "create");
      assert.match(created.metadata.resourceVersion ?? "", /^\d+$/);
      assert.match(created.metadata.uid ?? "", /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(created.metadata.creationTimestamp ?? "")));
      assert.deepEqual(created.spec, { replicas: 1 });

      const got = must(await ds.get({ kind: "EgressGateway", namespace: "payments", name: "gw" }), "get");
      assert.deepEqual(got, created);

      const changed = { ...got, spec: { replicas: 3 } };
      const updated = must(await ds.update(changed), "update");
      assert.ok(
        BigInt(updated.metadata.resourceVersion ?? "0") > BigInt(created.metadata.resourceVersion ?? "0"),
      );
      assert.equal(updated.metadata.uid, created.metadata.uid);
      assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
      assert.deepEqual(
        must(await ds.get({ kind: "EgressGateway", namespace: "payments", name: "gw" })),
        updated,
      );

      const deleted = must(
        await ds.delete({ kind: "EgressGateway", namespace: "payments", name: "gw" }),
        "delete",
      );
      assert.deepEqual(deleted.spec, { replicas: 3 });
      mustFail(await ds.get({ kind: "EgressGateway", namespace: "payments", name: "gw" }), "NotFound");
    });

    it("a client cannot set uid, creationTimestamp or resourceVersion on create", async ({ ds }) => {
      const obj = gateway("a", "gw");
      obj.metadata = {
        ...obj.metadata,
        uid: "mine",
        creationTimestamp: "1970-01-01T00:00:00Z",
        resourceVersion: "7",
      };
      const created = must(await ds.create(obj));
      assert.notEqual(created.metadata.uid, "mine");
      assert.notEqual(created.metadata.creationTimestamp, "1970-01-01T00:00:00Z");
      // The stored value never contains resourceVersion: it always reflects the current revision.
      const again = must(
        await ds.update({ ...created, metadata: { ...created.metadata, resourceVersion: undefined } }),
      );
      assert.equal(
        must(await ds.get({ kind: "EgressGateway", namespace: "a", name: "gw" })).metadata.resourceVersion,
        again.metadata.resourceVersion,
      );
    });

    it("AlreadyExists, NotFound, Conflict and Invalid errors", async ({ ds }) => {
      const ref = { kind: "IPPool", name: "p1" };
      const v1 = must(await ds.create(pool("p1")));
      const e = mustFail(await ds.create(pool("p1", "10.0.0.0/8")), "AlreadyExists");
      assert.match(e.message, /IPPool p1/);

      mustFail(await ds.get({ kind: "IPPool", name: "nope" }), "NotFound");
      mustFail(await ds.update(pool("nope")), "NotFound");
      mustFail(await ds.delete({ kind: "IPPool", name: "nope" }), "NotFound");

      const v2 = must(await ds.update({ ...v1, spec: { cidr: "10.20.0.0/24" } }));
      const stale = mustFail(await ds.update({ ...v1, spec: { cidr: "10.30.0.0/24" } }), "Conflict");
      assert.match(stale.message, /IPPool p1.*resourceVersion/);
      mustFail(await ds.delete(ref, { resourceVersion: v1.metadata.resourceVersion ?? "" }), "Conflict");
      assert.deepEqual(
        must(await ds.get(ref)).spec,
        { cidr: "10.20.0.0/24" },
        "stale writes changed nothing",
      );
      must(await ds.delete(ref, { resourceVersion: v2.metadata.resourceVersion ?? "" }));
      mustFail(await ds.update(v2), "NotFound");

      assert.match(
        mustFail(await ds.create({ ...pool("x"), kind: "Bogus" }), "Invalid").message,
        /unknown kind "Bogus"/,
      );
      assert.match(
        mustFail(await ds.create({ ...gateway("x", "gw"), metadata: { name: "gw" } }), "Invalid").message,
        /metadata\.namespace/,
      );
      mustFail(await ds.create({ ...pool("x"), metadata: { name: "a/b" } }), "Invalid");
      mustFail(await ds.list("Bogus"), "Invalid");
    });

    it("update without resourceVersion is unconditional", async ({ ds }) => {
      must(await ds.create(pool("p")));
      must(await ds.update(pool("p", "10.1.0.0/16")));
      must(await ds.update(pool("p", "10.2.0.0/16")));
      assert.deepEqual(must(await ds.get({ kind: "IPPool", name: "p" })).spec, { cidr: "10.2.0.0/16" });
    });

    it("lists by kind and by namespace; namespaces are isolated", async ({ ds }) => {
      must(await ds.create(gateway("a", "gw", 1)));
      must(await ds.create(gateway("b", "gw", 2)));
      must(await ds.create(gateway("a", "gw2")));
      must(await ds.create(pod("a", "gw")));
      must(await ds.create(pool("p1")));

      const all = must(await ds.list("EgressGateway"));
      assert.deepEqual(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort(), [
        "a/gw",
        "a/gw2",
        "b/gw",
      ]);
      assert.match(all.revision, /^\d+$/);
      const inA = must(await ds.list("EgressGateway", { namespace: "a" }));
      assert.deepEqual(inA.items.map((o) => o.metadata.name).sort(), ["gw", "gw2"]);
      assert.deepEqual(must(await ds.list("EgressGateway", { namespace: "c" })).items, []);
      assert.deepEqual(
        must(await ds.list("Pod")).items.map((o) => o.metadata.name),
        ["gw"],
      );
      // A namespace on a cluster-scoped kind is ignored, as kubectl does.
      assert.deepEqual(
        must(await ds.list("IPPool", { namespace: "a" })).items.map((o) => o.metadata.name),
        ["p1"],
      );

      // Same name in two namespaces: two objects.
      assert.deepEqual(must(await ds.get({ kind: "EgressGateway", namespace: "b", name: "gw" })).spec, {
        replicas: 2,
      });
      must(await ds.delete({ kind: "EgressGateway", namespace: "a", name: "gw" }));
      assert.deepEqual(must(await ds.get({ kind: "EgressGateway", namespace: "b", name: "gw" })).spec, {
        replicas: 2,
      });
      mustFail(await ds.get({ kind: "EgressGateway", namespace: "a", name: "gw" }), "NotFound");
    });

    it("watch after a list revision sees exactly the later events, in order", async ({ ds }) => {
      must(await ds.create(gateway("a", "early")));
      must(await ds.create(gateway("a", "b")));
      const listed = must(await ds.list("EgressGateway"));
      const early = must(await ds.get({ kind: "EgressGateway", namespace: "a", name: "early" }));
      must(await ds.update({ ...early, spec: { replicas: 5 } }));
      must(await ds.create(gateway("a", "c")));
      must(await ds.delete({ kind: "EgressGateway", namespace: "a", name: "b" }));

      const { rec, stop } = watchInto(ds, { kind: "EgressGateway", afterRevision: listed.revision });
      try {
        await rec.seen("DELETED a/b");
        must(await ds.create(gateway("a", "d")));
        await rec.seen("ADDED a/d");
        assert.deepEqual(rec.labels(), ["MODIFIED a/early", "ADDED a/c", "DELETED a/b", "ADDED a/d"]);
        const revs = rec.events.map((e) => BigInt(e.revision));
        assert.ok(
          revs.every((r, i) => i === 0 || r > (revs[i - 1] as bigint)),
          "revisions increase",
        );
        assert.ok((revs[0] as bigint) > BigInt(listed.revision));
        const modified = rec.events[0];
        assert.ok(modified && modified.type === "MODIFIED");
        assert.deepEqual(modified.object.spec, { replicas: 5 });
        assert.equal(modified.object.metadata.resourceVersion, modified.revision);
        const deleted = rec.events[2];
        assert.ok(deleted && deleted.type === "DELETED");
        assert.deepEqual(deleted.object.metadata.labels, { app: "b" }, "DELETED carries the last state");
      } finally {
        await stop();
      }
    });

    it("watch filters by kind and namespace", async ({ ds }) => {
      const start = must(await ds.list("EgressGateway")).revision;
      const kindNs = watchInto(ds, { kind: "EgressGateway", namespace: "a", afterRevision: start });
      const anyKindNs = watchInto(ds, { namespace: "a", afterRevision: start });
      const clusterKind = watchInto(ds, { kind: "IPPool", afterRevision: start });
      try {
        must(await ds.create(gateway("b", "gw")));
        must(await ds.create(pod("a", "p")));
        must(await ds.create(pool("p1")));
        must(await ds.create(gateway("a", "gw")));
        must(await ds.create(pool("p2")));
        await kindNs.rec.seen("ADDED a/gw");
        await anyKindNs.rec.seen("ADDED a/gw");
        await clusterKind.rec.seen("ADDED p2");
        assert.deepEqual(kindNs.rec.labels(), ["ADDED a/gw"]);
        assert.deepEqual(anyKindNs.rec.labels(), ["ADDED a/p", "ADDED a/gw"]);
        assert.deepEqual(clusterKind.rec.labels(), ["ADDED p1", "ADDED p2"]);
      } finally {
        await Promise.all([kindNs.stop(), anyKindNs.stop(), clusterKind.stop()]);
      }
    });

    it("a stopped watch delivers nothing more", async ({ ds }) => {
      const start = must(await ds.list("IPPool")).revision;
      const w1 = watchInto(ds, { kind: "IPPool", afterRevision: start });
      const w2 = watchInto(ds, { kind: "IPPool", afterRevision: start });
      must(await ds.create(pool("p1")));
      await w1.rec.seen("ADDED p1");
      await w1.stop();
      must(await ds.create(pool("p2")));
      await w2.rec.seen("ADDED p2");
      await w2.stop();
      assert.deepEqual(w1.rec.labels(), ["ADDED p1"]);
    });

    it("watch resumes after the connection drops: events written meanwhile arrive exactly once", async (env) => {
      const { ds, other } = env;
      const start = must(await ds.list("EgressGateway")).revision;
      const { rec, stop } = watchInto(ds, { kind: "EgressGateway", afterRevision: start });
      try {
        must(await other.create(gateway("a", "one")));
        await rec.seen("ADDED a/one");
        await env.cut();
        const two = must(await other.create(gateway("a", "two")));
        must(await other.update({ ...two, spec: { replicas: 2 } }));
        mustFail(await ds.get({ kind: "EgressGateway", namespace: "a", name: "two" }), "Unavailable");
        await env.restore();
        must(await other.create(gateway("a", "three")));
        await rec.seen("ADDED a/three");
        assert.deepEqual(rec.labels(), ["ADDED a/one", "ADDED a/two", "MODIFIED a/two", "ADDED a/three"]);
        // The client itself works again too.
        const two2 = await retrying(() => ds.get({ kind: "EgressGateway", namespace: "a", name: "two" }));
        assert.deepEqual(two2.spec, { replicas: 2 });
      } finally {
        await stop();
      }
    });

    it("watch resumes after the backend restarts, without losing or repeating events", async (env) => {
      const { ds, other } = env;
      const start = must(await ds.list("Pod")).revision;
      const { rec, stop } = watchInto(ds, { kind: "Pod", afterRevision: start });
      try {
        must(await other.create(pod("a", "before")));
        await rec.seen("ADDED a/before");
        await env.restartBackend();
        await retrying(() => other.create(pod("a", "after1")));
        must(await other.create(pod("a", "after2")));
        await retrying(() => ds.create(pod("a", "after3")));
        await rec.seen("ADDED a/after3");
        assert.deepEqual(rec.labels(), [
          "ADDED a/before",
          "ADDED a/after1",
          "ADDED a/after2",
          "ADDED a/after3",
        ]);
      } finally {
        await stop();
      }
    });

    it("watch from a compacted revision delivers a RESYNC with the full current list, then continues", async (env) => {
      const { ds } = env;
      const old = must(await ds.list("IPPool")).revision;
      must(await ds.create(pool("p1")));
      must(await ds.create(pool("p2")));
      must(await ds.delete({ kind: "IPPool", name: "p1" }));
      must(await ds.create(pool("p3")));
      await env.compact();
      const { rec, stop } = watchInto(ds, { kind: "IPPool", afterRevision: old });
      try {
        await rec.until((evs) => evs.length >= 1);
        const first = rec.events[0];
        assert.ok(first && first.type === "RESYNC", `expected RESYNC, got ${rec.labels().join(" | ")}`);
        const current = must(await ds.list("IPPool"));
        assert.deepEqual(first.items, current.items);
        assert.equal(first.revision, current.revision);
        must(await ds.create(pool("p4")));
        await rec.seen("ADDED p4");
        assert.deepEqual(rec.labels(), ["RESYNC p2,p3", "ADDED p4"]);
      } finally {
        await stop();
      }
    });

    it("a live watch whose resume point was compacted during an outage resyncs", async (env) => {
      const { ds, other } = env;
      const start = must(await ds.list("IPPool")).revision;
      const { rec, stop } = watchInto(ds, { kind: "IPPool", afterRevision: start });
      try {
        must(await other.create(pool("p1")));
        await rec.seen("ADDED p1");
        await env.cut();
        must(await other.create(pool("p2")));
        must(await other.delete({ kind: "IPPool", name: "p1" }));
        await env.compact();
        await env.restore();
        await rec.until((evs) => evs.some((e) => e.type === "RESYNC"));
        must(await other.create(pool("p3")));
        await rec.seen("ADDED p3");
        assert.deepEqual(rec.labels(), ["ADDED p1", "RESYNC p2", "ADDED p3"]);
      } finally {
        await stop();
      }
    });

    it("concurrent compare-and-swap updates: exactly one of N wins", async ({ ds, other }) => {
      const base = must(await ds.create(pool("cas")));
      const n = 8;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 === 0 ? ds : other).update({ ...base, spec: { cidr: `10.${i}.0.0/16` } }),
        ),
      );
      const winners = results.filter((r) => r.ok);
      assert.equal(winners.length, 1, "exactly one update wins");
      for (const r of results) if (!r.ok) assert.equal(r.error.code, "Conflict");
      const winner = winners[0];
      assert.ok(winner?.ok);
      assert.deepEqual(must(await ds.get({ kind: "IPPool", name: "cas" })).spec, winner.value.spec);
    });

    it("readModifyWrite: concurrent increments from two clients lose none", async ({ ds, other }) => {
      must(await ds.create({ ...pool("counter"), spec: { count: 0 } }));
      const ref = { kind: "IPPool", name: "counter" };
      const increment = async (client: Datastore): Promise<void> => {
        const r = must(
          await readModifyWrite(
            client,
            ref,
            (cur) => ({ ...cur, spec: { count: (cur.spec as { count: number }).count + 1 } }),
            { attempts: 1000 },
          ),
        );
        assert.equal(r.kind, "written");
      };
      const workers = 6;
      const each = 5;
      await Promise.all(
        Array.from({ length: workers }, async (_, i) => {
          for (let k = 0; k < each; k++) await increment(i % 2 ? ds : other);
        }),
      );
      assert.deepEqual(must(await ds.get(ref)).spec, { count: workers * each });
    });

    it("readModifyWrite: absent, unchanged, and a writer that keeps winning", async ({ ds, other }) => {
      const ref = { kind: "IPPool", name: "p" };
      assert.deepEqual(must(await readModifyWrite(ds, ref, (cur) => cur)), { kind: "absent" });
      const created = must(await ds.create(pool("p")));
      const same = must(await readModifyWrite(ds, ref, () => undefined));
      assert.equal(same.kind, "unchanged");
      assert.equal(must(await ds.get(ref)).metadata.resourceVersion, created.metadata.resourceVersion);

      // The caller's own read is the first attempt; a stale one is retried from a fresh read.
      must(await other.update({ ...created, spec: { cidr: "10.1.0.0/24" } }));
      const seen: string[] = [];
      const written = must(
        await readModifyWrite(
          ds,
          ref,
          (cur) => {
            seen.push(String((cur.spec as { cidr: string }).cidr));
            return { ...cur, spec: { ...(cur.spec as object), natOutgoing: true } };
          },
          { current: created },
        ),
      );
      assert.equal(written.kind, "written");
      assert.deepEqual(seen, ["10.10.0.0/24", "10.1.0.0/24"]);
      assert.deepEqual(must(await ds.get(ref)).spec, { cidr: "10.1.0.0/24", natOutgoing: true });

      // Another client writes between every read and write: give up with Conflict, naming the object.
      let bumps = 0;
      const racing: Datastore = {
        get: (r) => ds.get(r),
        list: (kind, o) => ds.list(kind, o),
        create: (obj) => ds.create(obj),
        update: async (obj) => {
          const cur = must(await other.get(ref));
          must(
            await other.update({ ...cur, metadata: { ...cur.metadata, labels: { bump: String(++bumps) } } }),
          );
          return ds.update(obj);
        },
        delete: (r, o) => ds.delete(r, o),
        watch: (o, on) => ds.watch(o, on),
        close: async () => undefined,
      };
      const lost = mustFail(
        await readModifyWrite(racing, ref, (cur) => ({ ...cur, spec: { cidr: "10.9.0.0/24" } }), {
          attempts: 3,
        }),
        "Conflict",
      );
      assert.equal(bumps, 3);
      assert.match(lost.message, /IPPool p kept changing .*3 conflicting writes/);
      assert.deepEqual(must(await ds.get(ref)).spec, { cidr: "10.1.0.0/24", natOutgoing: true });

      // Deleted between the read and the write: absent, nothing recreated.
      const vanishing: Datastore = {
        ...racing,
        update: async (obj) => {
          must(await other.delete(ref));
          return ds.update(obj);
        },
      };
      assert.deepEqual(must(await readModifyWrite(vanishing, ref, (cur) => cur)), { kind: "absent" });
      mustFail(await ds.get(ref), "NotFound");
    });
  });
};
