// One fetch against a loopback HTTP server: every way it can end maps to a FeedAnswer.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { fetchFeed } from "./feed-fetch.js";
import { redactFeedUrl } from "./firewall-feeds.js";

let base = "";
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  "/ok": (req, res) => {
    if (req.headers["if-none-match"] === '"v1"') return res.writeHead(304).end();
    res.writeHead(200, { etag: '"v1"' }).end("10.0.0.1\n");
  },
  "/auth": (req, res) => {
    const want = `Basic ${Buffer.from("fw:s3cret").toString("base64")}`;
    if (req.headers.authorization !== want) return res.writeHead(401).end("who are you\n");
    res.writeHead(200).end("10.0.0.2\n");
  },
  "/down": (_req, res) => res.writeHead(503, { "retry-after": "5" }).end("datastore not synced\nmore\n"),
  "/slow": () => undefined,
};
const server = createServer((req, res) =>
  (routes[req.url ?? ""] ?? ((_q, r) => r.writeHead(404).end()))(req, res),
);

before(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe("feed fetch", () => {
  it("returns the body with its ETag, and not-modified for the same ETag", async () => {
    assert.deepEqual(await fetchFeed(`${base}/ok`, undefined), {
      kind: "body",
      status: 200,
      body: "10.0.0.1\n",
      etag: '"v1"',
    });
    assert.deepEqual(await fetchFeed(`${base}/ok`, '"v1"'), { kind: "not-modified", status: 304 });
  });

  it("sends credentials in the URL as basic auth (and never shows the password)", async () => {
    const url = `${base.replace("http://", "http://fw:s3cret@")}/auth`;
    assert.equal((await fetchFeed(url, undefined)).kind, "body");
    assert.deepEqual(await fetchFeed(`${base}/auth`, undefined), {
      kind: "failed",
      status: 401,
      message: "HTTP 401: who are you",
    });
    assert.equal(redactFeedUrl(url), `${base.replace("http://", "http://fw:***@")}/auth`);
  });

  it("fails on 5xx, 404, a timeout and a refused connection", async () => {
    assert.deepEqual(await fetchFeed(`${base}/down`, '"v1"'), {
      kind: "failed",
      status: 503,
      message: "HTTP 503: datastore not synced",
    });
    assert.equal((await fetchFeed(`${base}/nope`, undefined)).kind, "failed");
    const slow = await fetchFeed(`${base}/slow`, undefined, 200);
    assert.deepEqual(slow, { kind: "failed", message: `cannot fetch ${base.slice(7)}: no answer in time` });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await fetchFeed(`http://127.0.0.1:${port}/x`, undefined);
    assert.equal(refused.kind, "failed");
    if (refused.kind === "failed") assert.match(refused.message, /ECONNREFUSED/);
  });
});
