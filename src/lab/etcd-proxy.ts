// A TCP → unix-socket forwarder in the root namespace: the lab's etcd runs in the control
// namespace and also listens on a unix socket in the state dir; this proxy exposes that socket
// on 127.0.0.1:<free port> for the CLI and the runtime, without any address or route in the root
// namespace. Started by `egw up` as:
//   node etcd-proxy.js --socket PATH --port-file FILE --state-dir DIR
import { renameSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";

/** Listens on 127.0.0.1:port (0 = any free port) and pipes each connection to the socket. */
export const startProxy = (socketPath: string, port = 0): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer((client) => {
      const upstream = createConnection({ path: socketPath });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

const main = async (argv: string[]): Promise<void> => {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const socket = opt("--socket");
  const portFile = opt("--port-file");
  if (!socket || !portFile) {
    process.stderr.write("usage: etcd-proxy --socket PATH --port-file FILE [--port N] [--state-dir DIR]\n");
    process.exit(2);
  }
  let server: Server;
  try {
    server = await startProxy(socket, Number(opt("--port") ?? 0));
  } catch (e) {
    process.stderr.write(`etcd-proxy: cannot listen: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  writeFileSync(`${portFile}.tmp`, `${port}\n`);
  renameSync(`${portFile}.tmp`, portFile);
  process.stdout.write(`${new Date().toISOString()} ready: 127.0.0.1:${port} -> ${socket}\n`);
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => process.exit(0));
};

if (process.argv[1] === fileURLToPath(import.meta.url)) void main(process.argv.slice(2));
