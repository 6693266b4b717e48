// A long-lived TCP client for end-to-end tests, run inside a pod's namespace:
//   node echo-client.js HOST PORT [--interval MS]
// Connects to the lab's echo service, reads its greeting ("echo: hello <source IP>"), then sends
// "seq N" every interval and checks that the echoes come back in order. It reports JSON lines on
// stdout: {"event":"connected","source":IP}, {"event":"progress",…} every second, and when its
// stdin closes it stops sending, waits for the outstanding echoes and prints {"event":"done",…}.
// A reset, a close or a wrong echo ends it at once with {"event":"error",…} and exit status 1.
import { connect } from "node:net";
import { fileURLToPath } from "node:url";

export interface EchoCounters {
  sent: number;
  echoed: number;
  /** Longest time between two consecutive echoes (diagnostics only). */
  maxGapMs: number;
}

export type EchoEvent =
  | { event: "connected"; source: string }
  | ({ event: "progress" } & EchoCounters)
  | ({ event: "done" } & EchoCounters)
  | ({ event: "error"; message: string } & EchoCounters);

const GREETING = /^echo: hello (\S+)$/;
const DRAIN_MS = 10_000;

const main = (argv: string[]): void => {
  const [host, portText] = argv;
  const i = argv.indexOf("--interval");
  const intervalMs = i >= 0 ? Number(argv[i + 1]) : 100;
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || !(intervalMs > 0)) {
    process.stderr.write("usage: echo-client HOST PORT [--interval MS]\n");
    process.exit(2);
  }
  const report = (e: EchoEvent): void => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
  };
  const c: EchoCounters = { sent: 0, echoed: 0, maxGapMs: 0 };
  let lastEchoAt = Date.now();
  let greeted = false;
  let stopping = false;
  let buffered = "";
  const timers: NodeJS.Timeout[] = [];
  const finish = (e: EchoEvent, code: number): void => {
    timers.forEach(clearInterval);
    report(e);
    socket.destroy();
    process.exit(code);
  };
  const fail = (message: string): void => finish({ event: "error", message, ...c }, 1);

  const socket = connect({ host, port });
  socket.setNoDelay(true);
  socket.setEncoding("utf8");
  socket.on("error", (e) => fail(e.message));
  socket.on("close", () => {
    if (!stopping || c.echoed < c.sent) fail("the connection was closed");
  });
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl < 0) break;
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!greeted) {
        const m = GREETING.exec(line);
        if (!m?.[1]) return fail(`unexpected greeting: ${line}`);
        greeted = true;
        report({ event: "connected", source: m[1] });
        timers.push(setInterval(send, intervalMs));
        continue;
      }
      if (line !== `seq ${c.echoed + 1}`) return fail(`expected echo "seq ${c.echoed + 1}", got "${line}"`);
      const now = Date.now();
      if (c.echoed > 0) c.maxGapMs = Math.max(c.maxGapMs, now - lastEchoAt);
      lastEchoAt = now;
      c.echoed++;
      if (stopping && c.echoed === c.sent) finish({ event: "done", ...c }, 0);
    }
  });
  const send = (): void => {
    if (stopping) return;
    c.sent++;
    socket.write(`seq ${c.sent}\n`);
  };
  timers.push(setInterval(() => report({ event: "progress", ...c }), 1000));

  process.stdin.resume();
  process.stdin.on("end", () => {
    stopping = true;
    if (c.echoed === c.sent) return finish({ event: "done", ...c }, 0);
    setTimeout(
      () => fail(`${c.sent - c.echoed} echo(es) still missing ${DRAIN_MS} ms after the end`),
      DRAIN_MS,
    );
  });
};

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
