// Node one-liners the dataplane's end-to-end tests run inside network namespaces (`node -e`): an
// echo server that greets with the source address it sees, a client making N connections in a
// row, and one long-lived connection. Shared so every test measures with the same tools.

/** Greets each connection with the peer address it sees, then echoes; prints "listening" once ready. */
export const echoServerScript = (address: string, port: number): string => `
const net = require("net");
net.createServer((s) => { s.on("error", () => {}); s.write(s.remoteAddress.replace(/^::ffff:/, "") + "\\n"); s.pipe(s); })
  .listen(${port}, "${address}", () => console.log("listening"));`;

/**
 * N sequential connections (argv[1]; argv[2]: optional local address); prints a JSON array of
 * what the server saw, or "error:<code>" per connection.
 */
export const connectionsScript = (address: string, port: number, timeoutMs: number): string => `
const net = require("net");
const [n, local] = [Number(process.argv[1]), process.argv[2]];
const one = () => new Promise((res) => {
  const s = net.connect({ host: "${address}", port: ${port}, localAddress: local || undefined });
  const t = setTimeout(() => { s.destroy(); res("error:timeout"); }, ${timeoutMs});
  let buf = "";
  s.on("data", (d) => { buf += d; if (buf.includes("\\n")) { clearTimeout(t); s.destroy(); res(buf.trim()); } });
  s.on("error", (e) => { clearTimeout(t); res("error:" + e.code); });
});
(async () => { const out = []; for (let i = 0; i < n; i++) out.push(await one()); console.log(JSON.stringify(out)); })();`;

/** One long-lived connection: prints what the server sends, sends each stdin line. */
export const streamScript = (address: string, port: number): string => `
const net = require("net");
const s = net.connect({ host: "${address}", port: ${port} });
s.setEncoding("utf8");
s.on("data", (d) => process.stdout.write(d));
s.on("error", (e) => { console.log("error:" + e.code); process.exit(1); });
process.stdin.on("data", (d) => s.write(d));`;
