import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createMemoryDatastore } from "../datastore/memory.js";
import { memoryLogger } from "../util/log.js";
import { startFeedServer } from "./server.js";
import { FeedService } from "./service.js";
import { gateway, ns, pool, replica } from "./testing/objects.js";

const service = async (): Promise<FeedService> => {
  const mem = createMemoryDatastore();
  for (const o of [
    pool("egress-a", "10.10.0.0/24"),
    ns("shop"),
    gateway("shop", "gw"),
    replica("shop", "gw", 0, "10.10.0.4"),
  ])
    await mem.create(o);
  const s = new FeedService({
    store: mem,
    advertiseUrl: "http://x",
    log: memoryLogger("feeds"),
    writeStatus: false,
  });
  await s.start();
  return s;
};

test("over HTTP: body, ETag, 304 without a body, HEAD, a thrown handler is a 500", async () => {
  const s = await service();
  const server = await startFeedServer({ host: "127.0.0.1", port: 0, handle: (r) => s.handle(r) });
  assert.ok(server.ok);
  try {
    const url = `${server.value.baseUrl}/feeds/gateway/shop/gw.json`;
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    const doc = (await r.json()) as { entries: { ip: string }[] };
    assert.deepEqual(
      doc.entries.map((e) => e.ip),
      ["10.10.0.4/32"],
    );
    const etag = r.headers.get("etag") ?? "";
    const again = await fetch(url, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  } finally {
    await server.value.close();
    await s.stop();
  }
  const broken = await startFeedServer({
    host: "127.0.0.1",
    port: 0,
    handle: () => {
      throw new Error("bug");
    },
  });
  assert.ok(broken.ok);
  try {
    const r = await fetch(`${broken.value.baseUrl}/feeds/pool/egress-a`);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /internal error: bug/);
  } finally {
    await broken.value.close();
  }
});

test("over HTTPS with --tls-cert/--tls-key", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "egw-feeds-tls-"));
  try {
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
    } catch {
      t.skip("openssl is not installed");
      return;
    }
    const cert = readFileSync(join(dir, "cert.pem"));
    const s = await service();
    const server = await startFeedServer({
      host: "127.0.0.1",
      port: 0,
      tls: { cert, key: readFileSync(join(dir, "key.pem")) },
      handle: (r) => s.handle(r),
    });
    assert.ok(server.ok);
    assert.match(server.value.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${server.value.baseUrl}/feeds/pool/egress-a`, { ca: cert }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        });
        req.on("error", reject);
        req.end();
      });
      assert.equal(body, "200 10.10.0.4/32 shop/gw-0\n");
    } finally {
      await server.value.close();
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
