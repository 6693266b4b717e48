// A long-lived TCP client for end-to-end tests, run inside a pod's namespace:
//   node echo-client.js HOST PORT [--interval MS]
// Connects to the lab's echo service, reads its greeting ("echo: hello <source IP>"), then sends
// "seq N" every interval and checks that the echoes come back in order. It reports JSON lines on
// stdout: {"event":"connected","source":IP}, {"event":"progress",…} every second, and when its
// stdin closes it stops sending, waits for the outstanding echoes and prints {"event":"done",…}.
// A reset, a close or a wrong echo ends it at once with {"event":"error",…} and exit status 1.
// openEchoConnection is the same client as a function, for programs that hold several streams.
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

export interface EchoConnection {
  /** Stops sending; `done` once every echo came back, `error` if they do not within drainMs. */
  stop: (drainMs?: number) => void;
}

/**
 * One echo stream: `onEvent` hears connected, progress (every second), and exactly one final event
 * (done or error), after which the connection is closed and nothing more is reported.
 */
export const openEchoConnection = (
  host: string,
  port: number,
  intervalMs: number,
  onEvent: (e: EchoEvent) => void,
): EchoConnection => {
  const c: EchoCounters = { sent: 0, echoed: 0, maxGapMs: 0 };
  let lastEchoAt = Date.now();
  let greeted = false;
  let stopping = false;
  let ended = false;
  let buffered = "";
  const timers: NodeJS.Timeout[] = [];
  const finish = (e: EchoEvent): void => {
    if (ended) return;
    ended = true;
    timers.forEach((t) => clearTimeout(t));
    onEvent(e);
    socket.destroy();
  };
  const fail = (message: string): void => finish({ event: "error", message, ...c });

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
        onEvent({ event: "connected", source: m[1] });
        timers.push(setInterval(send, intervalMs));
        continue;
      }
      if (line !== `seq ${c.echoed + 1}`) return fail(`expected echo "seq ${c.echoed + 1}", got "${line}"`);
      const now = Date.now();
      if (c.echoed > 0) c.maxGapMs = Math.max(c.maxGapMs, now - lastEchoAt);
      lastEchoAt = now;
      c.echoed++;
      if (stopping && c.echoed === c.sent) finish({ event: "done", ...c });
    }
  });
  const send = (): void => {
    if (stopping) return;
    c.sent++;
    socket.write(`seq ${c.sent}\n`);
  };
  timers.push(setInterval(() => !ended && onEvent({ event: "progress", ...c }), 1000));

  return {
    stop: (drainMs = DRAIN_MS) => {
      if (stopping || ended) return;
      stopping = true;
      if (c.echoed === c.sent) return finish({ event: "done", ...c });
      timers.push(
        setTimeout(
          () => fail(`${c.sent - c.echoed} echo(es) still missing ${drainMs} ms after the end`),
          drainMs,
        ),
      );
    },
  };
};

const main = (argv: string[]): void => {
  const [host, portText] = argv;
  const i = argv.indexOf("--interval");
  const intervalMs = i >= 0 ? Number(argv[i + 1]) : 100;
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || !(intervalMs > 0)) {
    process.stderr.write("usage: echo-client HOST PORT [--interval MS]\n");
    process.exit(2);
  }
  const connection = openEchoConnection(host, port, intervalMs, (e) => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    if (e.event === "done" || e.event === "error") process.exit(e.event === "done" ? 0 : 1);
  });
  process.stdin.resume();
  process.stdin.on("end", () => connection.stop());
};

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
