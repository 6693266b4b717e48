import assert from "node:assert/strict";
import { test } from "node:test";
import type { Resource } from "../api/meta.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import { DatastoreError, type Datastore } from "../datastore/types.js";
import { err } from "../util/result.js";
import { memoryLogger } from "../util/log.js";
import { FeedService } from "./service.js";
import { firewallFeed, gateway, ns, pool, replica } from "./testing/objects.js";

/** A datastore whose reads fail while `down` is set (an etcd that stopped answering). */
const breakable = (store: Datastore): { store: Datastore; down: { value: boolean } } => {
  const down = { value: false };
  const unavailable = () =>
    Promise.resolve(err(new DatastoreError("Unavailable", "etcd: connection refused")));
  return {
    down,
    store: new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== "function") return v;
        if (prop === "get" || prop === "list")
          return (...a: unknown[]) =>
            down.value ? unavailable() : (v as (...x: unknown[]) => unknown).apply(target, a);
        return (v as (...x: unknown[]) => unknown).bind(target);
      },
    }),
  };
};

const setup = async (objects: Resource[]) => {
  const mem = createMemoryDatastore();
  for (const o of objects) assert.ok((await mem.create(o)).ok, `create ${o.kind} ${o.metadata.name}`);
  const clock = new FakeClock(Date.parse("2026-11-28T13:00:00Z"));
  const b = breakable(mem);
  const service = new FeedService({
    store: b.store,
    advertiseUrl: "http://172.30.0.2:8080",
    clock,
    log: memoryLogger("feeds"),
  });
  const get = (url: string, headers: { authorization?: string; ifNoneMatch?: string } = {}) =>
    service.handle({ method: "GET", url, headers });
  return { mem, clock, down: b.down, service, get };
};

const base = [
  pool("egress-a", "10.10.0.0/24"),
  ns("shop", { team: "shop" }),
  ns("egw-system"),
  gateway("shop", "gw", { "egw.dev/team": "shop" }),
  replica("shop", "gw", 0, "10.10.0.4"),
];

test("503 before the first sync, then the feed; If-None-Match → 304 until the entries change", async () => {
  const { mem, clock, service, get } = await setup(base);
  assert.equal(get("/feeds/pool/egress-a").status, 503);
  assert.equal(get("/feeds/pool/nothing").status, 503, "unknown groups are 503 too until synced");
  assert.equal(get("/readyz").status, 503);
  await service.start();
  const first = get("/feeds/pool/egress-a.fortigate.txt");
  assert.equal(first.status, 200);
  assert.match(first.body, /^10\.10\.0\.4\/32$/m);
  const etag = first.headers.etag ?? "";
  assert.equal(get("/feeds/pool/egress-a.fortigate.txt", { ifNoneMatch: etag }).status, 304);
  assert.equal(get("/feeds/pool/nothing").status, 404);

  assert.ok((await mem.create(replica("shop", "gw", 1, "10.10.0.2"))).ok);
  await clock.advance(200);
  const second = get("/feeds/pool/egress-a.fortigate.txt", { ifNoneMatch: etag });
  assert.equal(second.status, 200);
  assert.deepEqual(
    second.body.split("\n").filter((l) => /^\d/.test(l)),
    ["10.10.0.2/32", "10.10.0.4/32"],
  );
  assert.equal(second.headers["x-egw-feed-last-change"], "2026-11-28T13:00:00.100Z");
  assert.equal(service.metrics.get("egw_feeds_entries", { group: "pool/egress-a" }), 2);
  assert.equal(service.metrics.get("egw_feeds_requests_total", { code: "304" }), 1);
  await service.stop();
});

test("while the datastore does not answer every feed is 503 (never an empty or stale 200); back: 200 again", async () => {
  const { clock, down, service, get } = await setup(base);
  await service.start();
  await clock.advance(1000);
  assert.equal(get("/feeds/gateway/shop/gw").status, 200);
  down.value = true;
  await clock.advance(5000);
  const r = get("/feeds/gateway/shop/gw");
  assert.equal(r.status, 503);
  assert.equal(r.headers["retry-after"], "5");
  assert.match(r.body, /datastore has not answered/);
  assert.equal(get("/feeds").status, 503);
  assert.equal(get("/healthz").status, 200, "the process itself is alive");
  down.value = false;
  await clock.advance(1100);
  assert.equal(get("/feeds/gateway/shop/gw").status, 200);
  await service.stop();
});

test("FirewallFeed status: url, entries and lastChange written once, updated when entries change", async () => {
  const { mem, clock, service } = await setup([
    ...base,
    firewallFeed("shop-db", { selector: "egw.dev/team == 'shop'" }),
  ]);
  await service.start();
  await clock.advance(1000);
  const status = async () =>
    ((await mem.get({ kind: "FirewallFeed", name: "shop-db" })) as { ok: true; value: Resource }).value
      .status;
  const pod = await mem.get({ kind: "Pod", namespace: "shop", name: "gw-0" });
  assert.ok(pod.ok);
  // First seen: the entries changed last when the newest listed pod was created.
  assert.deepEqual(await status(), {
    url: "http://172.30.0.2:8080/feeds/custom/shop-db",
    entries: 1,
    lastChange: pod.value.metadata.creationTimestamp,
  });
  const writes = service.metrics.get("egw_feeds_status_writes_total", { result: "written" });
  await clock.advance(2000);
  assert.equal(
    service.metrics.get("egw_feeds_status_writes_total", { result: "written" }),
    writes,
    "no rewrite without a change",
  );
  assert.ok((await mem.delete({ kind: "Pod", namespace: "shop", name: "gw-0" })).ok);
  await clock.advance(1000);
  const after = (await status()) as { entries: number; lastChange: string };
  assert.equal(after.entries, 0);
  assert.equal(
    after.lastChange,
    "2026-11-28T13:00:03.100Z",
    "the recompute after the delete (debounced 100 ms)",
  );
  await service.stop();
});

test("a FirewallFeed with spec.auth needs the token from its Secret; others stay public", async () => {
  const secret: Resource = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "feed-token", namespace: "egw-system" },
    stringData: { token: "t0ken" },
  } as Resource;
  const { clock, service, get } = await setup([
    ...base,
    secret,
    firewallFeed("locked", {
      selector: "all()",
      auth: { bearerTokenSecretRef: { name: "feed-token", key: "token" } },
    }),
    firewallFeed("missing", { selector: "all()", auth: { basic: { secretRef: { name: "nope" } } } }),
  ]);
  await service.start();
  await clock.advance(500);
  assert.equal(get("/feeds/custom/locked").status, 401);
  assert.equal(get("/feeds/custom/locked").headers["www-authenticate"], 'Bearer realm="egw-feeds"');
  assert.equal(get("/feeds/custom/locked", { authorization: "Bearer wrong" }).status, 401);
  assert.equal(get("/feeds/custom/locked", { authorization: "Bearer t0ken" }).status, 200);
  assert.equal(get("/feeds/custom/missing").status, 503, "a credential the server cannot read is its fault");
  assert.equal(get("/feeds/pool/egress-a").status, 200);
  await service.stop();
});

test("--token-file: every feed without its own auth needs a server token", async () => {
  const mem = createMemoryDatastore();
  for (const o of base) await mem.create(o);
  const service = new FeedService({
    store: mem,
    advertiseUrl: "http://x",
    serverTokens: ["abc"],
    clock: new FakeClock(),
    log: memoryLogger("feeds"),
  });
  await service.start();
  const get = (authorization?: string) =>
    service.handle({
      method: "GET",
      url: "/feeds/pool/egress-a",
      headers: authorization ? { authorization } : {},
    }).status;
  assert.equal(get(), 401);
  assert.equal(get("Bearer abc"), 200);
  assert.equal(service.handle({ method: "GET", url: "/feeds", headers: {} }).status, 401);
  assert.equal(service.handle({ method: "POST", url: "/feeds/pool/egress-a", headers: {} }).status, 405);
  await service.stop();
});
