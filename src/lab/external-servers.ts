// The lab's external hosts, run inside the external namespace:
//   whoami — HTTP; the body is the source IP the request came from (plain text);
//   db     — TCP; writes "db: hello <source ip>\n" and closes.
// Started by `egw up` as: node external-servers.js --whoami IP:PORT --db IP:PORT --state-dir DIR
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

const parseHostPort = (s: string | undefined): { host: string; port: number } | undefined => {
  const m = /^([0-9.]+):(\d+)$/.exec(s ?? "");
  return m && m[1] && m[2] ? { host: m[1], port: Number(m[2]) } : undefined;
};

const main = async (argv: string[]): Promise<void> => {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const whoami = parseHostPort(opt("--whoami"));
  const db = parseHostPort(opt("--db"));
  if (!whoami || !db) {
    process.stderr.write("usage: external-servers --whoami IP:PORT --db IP:PORT [--state-dir DIR]\n");
    process.exit(2);
  }
  try {
    await startWhoami(whoami.host, whoami.port);
    await startDb(db.host, db.port);
  } catch (e) {
    log(`cannot listen: ${(e as Error).message}`);
    process.exit(1);
  }
  log(`ready: whoami on ${whoami.host}:${whoami.port}, db on ${db.host}:${db.port}`);
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => process.exit(0));
};

if (process.argv[1] === fileURLToPath(import.meta.url)) void main(process.argv.slice(2));
