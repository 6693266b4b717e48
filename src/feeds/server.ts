// The feeds server's sockets (I/O): node:http, or node:https with a certificate and key, passing
// each request to a handler (handler.ts decides everything) and writing its reply. No framework:
// the server has a handful of GET paths and must answer every one the same careful way.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { err, ok, type Result } from "../util/result.js";
import type { FeedReply, FeedRequestIn } from "./handler.js";

export interface FeedServerOptions {
  host: string;
  port: number;
  /** PEM certificate chain and key: HTTPS when both are given. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  handle(req: FeedRequestIn): FeedReply;
  /** After each reply (metrics, access log). */
  onReply?(req: FeedRequestIn, reply: FeedReply): void;
}

export interface FeedServer {
  /** `https://10.0.0.1:8443`-style base URL of what it listens on. */
  readonly baseUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

const header = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v.join(", ") : v;

export const startFeedServer = async (o: FeedServerOptions): Promise<Result<FeedServer, string>> => {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const request: FeedRequestIn = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: {
        ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
        ...(req.headers["if-none-match"] === undefined
          ? {}
          : { ifNoneMatch: header(req.headers["if-none-match"]) ?? "" }),
      },
    };
    let reply: FeedReply;
    try {
      reply = o.handle(request);
    } catch (e) {
      // A bug must still look like an error to a firewall, never like a list.
      reply = {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: `internal error: ${e instanceof Error ? e.message : String(e)}\n`,
      };
    }
    const body = Buffer.from(reply.body, "utf8");
    res.writeHead(reply.status, {
      ...reply.headers,
      ...(reply.status === 304 ? {} : { "content-length": String(body.length) }),
    });
    res.end(request.method === "HEAD" || reply.status === 304 ? undefined : body);
    o.onReply?.(request, reply);
  };
  const server: Server = o.tls
    ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest)
    : createHttpServer(onRequest);
  server.keepAliveTimeout = 5000;
  const scheme = o.tls ? "https" : "http";
  return new Promise((resolve) => {
    const onError = (e: Error): void => resolve(err(`cannot listen on ${o.host}:${o.port}: ${e.message}`));
    server.once("error", onError);
    server.listen(o.port, o.host, () => {
      server.off("error", onError);
      const a = server.address();
      const port = typeof a === "object" && a !== null ? a.port : o.port;
      const host = o.host.includes(":") ? `[${o.host}]` : o.host;
      resolve(
        ok({
          baseUrl: `${scheme}://${host}:${port}`,
          port,
          close: () =>
            new Promise<void>((r) => {
              server.close(() => r());
              server.closeAllConnections();
            }),
        }),
      );
    });
  });
};
