// The client side of a failover measurement, run inside a pod's namespace:
//   node failover-client.js --url URL --echo HOST:PORT [--streams N] [--gap MIN-MAX] [--timeout MS]
// Opens a new HTTP connection to URL (the lab's whoami, which answers with the source IP it
// sees) every MIN-MAX ms, each on its own TCP connection, and holds N long-lived echo streams
// (echo-client.ts) open meanwhile. Reports JSON lines on stdout, times in epoch ms:
//   {"kind":"conn","start":T,"end":T,"ok":true,"ip":"10.10.0.1"} (ok false with "error")
//   {"kind":"stream","id":I,"at":T,"event":"connected","source":IP} and one final event per
//   stream ("done", or "error" with "message"; a stream that breaks reports at once).
// Commands on stdin, one a line: `close-streams IP` ends the streams whose source is IP cleanly
// (as a client finishing its work during a drain); `end` (or stdin closing) stops opening
// connections, waits for the open ones, ends every stream cleanly and prints {"kind":"end"}.
// It measures nothing itself: the caller compares these times with the fault's.
import { request } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openEchoConnection, type EchoConnection, type EchoEvent } from "./echo-client.js";

export interface ConnRecord {
  kind: "conn";
  start: number;
  end: number;
  ok: boolean;
  ip?: string;
  error?: string;
}

export type StreamRecord = { kind: "stream"; id: number; at: number } & Exclude<
  EchoEvent,
  { event: "progress" }
>;

export type FailoverClientRecord = ConnRecord | StreamRecord | { kind: "end" };

export interface FailoverClientOptions {
  url: string;
  echoHost: string;
  echoPort: number;
  streams: number;
  minGapMs: number;
  maxGapMs: number;
  timeoutMs: number;
  echoIntervalMs: number;
}

/** Parses the command line; undefined (with the usage printed by the caller) when it is wrong. */
export const parseFailoverClientArgs = (argv: readonly string[]): FailoverClientOptions | undefined => {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const echo = /^(\S+):(\d+)$/.exec(flag("echo") ?? "");
  const gap = /^(\d+)-(\d+)$/.exec(flag("gap") ?? "20-50");
  const o: FailoverClientOptions = {
    url: flag("url") ?? "",
    echoHost: echo?.[1] ?? "",
    echoPort: Number(echo?.[2]),
    streams: Number(flag("streams") ?? 6),
    minGapMs: Number(gap?.[1]),
    maxGapMs: Number(gap?.[2]),
    timeoutMs: Number(flag("timeout") ?? 2000),
    echoIntervalMs: Number(flag("echo-interval") ?? 100),
  };
  const valid =
    o.url.startsWith("http://") &&
    o.echoHost !== "" &&
    Number.isInteger(o.echoPort) &&
    Number.isInteger(o.streams) &&
    o.streams >= 0 &&
    o.minGapMs > 0 &&
    o.maxGapMs >= o.minGapMs &&
    o.timeoutMs > 0 &&
    o.echoIntervalMs > 0;
  return valid ? o : undefined;
};

const USAGE =
  "usage: failover-client --url URL --echo HOST:PORT [--streams N] [--gap MIN-MAX] [--timeout MS] [--echo-interval MS]\n";

/** One HTTP GET on a fresh connection; resolves with its record, never rejects. */
const oneConnection = (url: string, timeoutMs: number): Promise<ConnRecord> =>
  new Promise((resolve) => {
    const start = Date.now();
    let done = false;
    const settle = (r: { ok: true; ip: string } | { ok: false; error: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ kind: "conn", start, end: Date.now(), ...r });
    };
    const req = request(url, { agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () =>
        res.statusCode === 200 && body.trim() !== ""
          ? settle({ ok: true, ip: body.trim() })
          : settle({ ok: false, error: `HTTP ${res.statusCode}: ${body.trim()}` }),
      );
      res.on("error", (e) => settle({ ok: false, error: e.message }));
    });
    const timer = setTimeout(() => {
      settle({ ok: false, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on("error", (e) => settle({ ok: false, error: e.message }));
    req.end();
  });

const main = (o: FailoverClientOptions): void => {
  const report = (r: FailoverClientRecord): void => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  };
  const streams = new Map<number, { source?: string; connection: EchoConnection; ended: boolean }>();
  for (let id = 0; id < o.streams; id++) {
    const s = {
      ended: false,
      source: undefined as string | undefined,
      connection: openEchoConnection(o.echoHost, o.echoPort, o.echoIntervalMs, (e) => {
        if (e.event === "progress") return;
        if (e.event === "connected") s.source = e.source;
        else s.ended = true;
        report({ kind: "stream", id, at: Date.now(), ...e });
        maybeExit();
      }),
    };
    streams.set(id, s);
  }

  const pending = new Set<Promise<ConnRecord>>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    if (stopping) return;
    const p = oneConnection(o.url, o.timeoutMs);
    pending.add(p);
    void p.then((r) => {
      pending.delete(p);
      report(r);
      maybeExit();
    });
    timer = setTimeout(next, o.minGapMs + Math.random() * (o.maxGapMs - o.minGapMs));
  };
  next();

  const maybeExit = (): void => {
    if (!stopping || pending.size > 0 || [...streams.values()].some((s) => !s.ended)) return;
    report({ kind: "end" });
    process.exit(0);
  };
  const end = (): void => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    for (const s of streams.values()) s.connection.stop(2000);
    maybeExit();
  };
  createInterface({ input: process.stdin })
    .on("line", (line) => {
      const [cmd, arg] = line.trim().split(/\s+/);
      if (cmd === "end") end();
      else if (cmd === "close-streams")
        for (const s of streams.values()) if (s.source === arg) s.connection.stop(2000);
    })
    .on("close", end);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = parseFailoverClientArgs(process.argv.slice(2));
  if (o === undefined) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  main(o);
}
