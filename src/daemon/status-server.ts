// The daemons' small HTTP endpoint (health, readiness, metrics). Listens on a TCP address or on
// a Unix socket path (tests bridge a socket into a netns with socat).
import { createServer, type Server } from "node:http";
import { err, ok, type Result } from "../util/result.js";

export type Listen = { host: string; port: number } | { path: string };

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
}

/** Path → handler; handlers must not throw (a throw becomes a 500). */
export type Routes = Readonly<Record<string, () => Reply>>;

export interface StatusServer {
  /** Where it listens, for logs (`127.0.0.1:9099` or the socket path). */
  readonly address: string;
  /** The bound TCP port (useful with port 0), undefined for a socket. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

const describeListen = (l: Listen): string => ("path" in l ? l.path : `${l.host}:${l.port}`);

export async function startStatusServer(
  listen: Listen,
  routes: Routes,
): Promise<Result<StatusServer, string>> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const handler = req.method === "GET" || req.method === "HEAD" ? routes[path] : undefined;
    let reply: Reply;
    try {
      reply = handler
        ? handler()
        : { status: 404, body: `not found; try ${Object.keys(routes).join(", ")}\n` };
    } catch (e) {
      reply = { status: 500, body: `internal error: ${e instanceof Error ? e.message : String(e)}\n` };
    }
    res.writeHead(reply.status, { "content-type": reply.contentType ?? "text/plain; charset=utf-8" });
    res.end(req.method === "HEAD" ? undefined : reply.body);
  });
  // Polls are short: do not let idle keep-alive sockets hold close() up.
  server.keepAliveTimeout = 1000;
  return new Promise((resolve) => {
    const onError = (e: Error): void =>
      resolve(err(`cannot listen on ${describeListen(listen)}: ${e.message}`));
    server.once("error", onError);
    const onListening = (): void => {
      server.off("error", onError);
      const a = server.address();
      const port = typeof a === "object" && a !== null ? a.port : undefined;
      resolve(
        ok({
          address: "path" in listen ? listen.path : `${listen.host}:${port ?? listen.port}`,
          port,
          close: () =>
            new Promise<void>((r) => {
              server.close(() => r());
              server.closeAllConnections();
            }),
        }),
      );
    };
    if ("path" in listen) server.listen(listen.path, onListening);
    else server.listen(listen.port, listen.host, onListening);
  });
}
