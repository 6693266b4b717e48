// The lab's external hosts, run inside the external namespace:
//   whoami — HTTP; the body is the source IP the request came from (plain text);
//   db     — TCP; writes "db: hello <source ip>\n" and closes.
//   echo   — TCP; writes "echo: hello <source ip>\n", then echoes everything back until the
//            client closes (long-lived connections for restart and failover tests).
// Started by `egw up` as: node external-servers.js --whoami IP:PORT… --db IP:PORT… --echo IP:PORT…
// --state-dir DIR (each option may be repeated: one server per address).
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { fileURLToPath } from "node:url";

const plainIp = (addr: string | undefined): string => (addr ?? "unknown").replace(/^::ffff:/, "");

const log = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
};

const listen = (server: HttpServer | TcpServer, host: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

export const startWhoami = async (host: string, port: number): Promise<HttpServer> => {
  const server = createHttpServer((req, res) => {
    const ip = plainIp(req.socket.remoteAddress);
    log(`whoami ${req.method ?? "?"} ${req.url ?? ""} from ${ip}`);
    res.writeHead(200, { "content-type": "text/plain", connection: "close" });
    res.end(`${ip}\n`);
  });
  await listen(server, host, port);
  return server;
};

export const startDb = async (host: string, port: number): Promise<TcpServer> => {
  const server = createTcpServer((socket) => {
    const ip = plainIp(socket.remoteAddress);
    log(`db connection from ${ip}`);
    socket.on("error", () => socket.destroy());
    socket.end(`db: hello ${ip}\n`);
  });
  await listen(server, host, port);
  return server;
};

export const startEcho = async (host: string, port: number): Promise<TcpServer> => {
  const server = createTcpServer((socket) => {
    const ip = plainIp(socket.remoteAddress);
    const from = `${ip}:${socket.remotePort ?? "?"}`;
    log(`echo connection from ${from}`);
    socket.on("error", (e) => {
      log(`echo connection from ${from}: ${e.message}`);
      socket.destroy();
    });
    socket.on("close", () => log(`echo connection from ${from} closed`));
    socket.write(`echo: hello ${ip}\n`);
    socket.pipe(socket);
  });
  await listen(server, host, port);
  return server;
};

const parseHostPort = (s: string | undefined): { host: string; port: number } | undefined => {
  const m = /^([0-9.]+):(\d+)$/.exec(s ?? "");
  return m && m[1] && m[2] ? { host: m[1], port: Number(m[2]) } : undefined;
};

/** Every value of a repeated option (`--whoami A --whoami B`). */
const values = (argv: readonly string[], name: string): string[] =>
  argv.flatMap((a, i) => (a === name && argv[i + 1] !== undefined ? [argv[i + 1] as string] : []));

const main = async (argv: string[]): Promise<void> => {
  const whoami = values(argv, "--whoami").map(parseHostPort);
  const db = values(argv, "--db").map(parseHostPort);
  const echo = values(argv, "--echo").map(parseHostPort);
  const all = [...whoami, ...db, ...echo];
  if (all.length === 0 || all.some((x) => x === undefined)) {
    process.stderr.write(
      "usage: external-servers --whoami IP:PORT… --db IP:PORT… --echo IP:PORT… [--state-dir DIR]\n",
    );
    process.exit(2);
  }
  const listening: string[] = [];
  try {
    for (const w of whoami) {
      if (!w) continue;
      await startWhoami(w.host, w.port);
      listening.push(`whoami on ${w.host}:${w.port}`);
    }
    for (const d of db) {
      if (!d) continue;
      await startDb(d.host, d.port);
      listening.push(`db on ${d.host}:${d.port}`);
    }
    for (const e of echo) {
      if (!e) continue;
      await startEcho(e.host, e.port);
      listening.push(`echo on ${e.host}:${e.port}`);
    }
  } catch (e) {
    log(`cannot listen: ${(e as Error).message}`);
    process.exit(1);
  }
  log(`ready: ${listening.join(", ")}`);
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => process.exit(0));
};

if (process.argv[1] === fileURLToPath(import.meta.url)) void main(process.argv.slice(2));
