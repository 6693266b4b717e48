// Runs failover-client.ts inside a pod's namespace and collects what it reports: the steady
// stream of new connections (start, outcome, egress IP) and the long-lived echo streams.
import { createInterface } from "node:readline";
import { startProcess } from "../../util/process.js";
import { labScriptArgv } from "../processes.js";
import type { ConnRecord, FailoverClientRecord, StreamRecord } from "./failover-client.js";

export interface FailoverLoadOptions {
  url: string;
  echo: { ip: string; port: number };
  streams: number;
  /** Time between two new connections, drawn uniformly from this range (ms). */
  gapMs: [number, number];
  /** A connection without an answer within this long counts as failed. */
  timeoutMs: number;
}

export interface FailoverLoad {
  /** Every connection that has ended so far, in the order they ended. */
  conns: () => readonly ConnRecord[];
  /** The stream events so far (connected, then done or error). */
  streamEvents: () => readonly StreamRecord[];
  /** Stream id → source IP, for the streams that are connected. */
  streamSources: () => ReadonlyMap<number, string>;
  /** Ends the streams whose source is `ip` cleanly (a client finishing its work). */
  closeStreams: (ip: string) => void;
  /** Stops the load and returns once the client has reported everything (or died). */
  end: () => Promise<void>;
  /** Kills the client (cleanup after a failure). */
  kill: () => void;
  /** What the client wrote on stderr (diagnostics). */
  stderr: () => string;
}

export const startFailoverLoad = (netns: string, o: FailoverLoadOptions): FailoverLoad => {
  const argv = labScriptArgv("testing/failover-client", [
    "--url",
    o.url,
    "--echo",
    `${o.echo.ip}:${o.echo.port}`,
    "--streams",
    String(o.streams),
    "--gap",
    `${o.gapMs[0]}-${o.gapMs[1]}`,
    "--timeout",
    String(o.timeoutMs),
  ]);
  const handle = startProcess(argv, { netns });
  const conns: ConnRecord[] = [];
  const streams: StreamRecord[] = [];
  let stderr = "";
  handle.child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: handle.child.stdout });
  const closed = new Promise<void>((resolve) => lines.on("close", resolve));
  lines.on("line", (line) => {
    let r: FailoverClientRecord;
    try {
      r = JSON.parse(line) as FailoverClientRecord;
    } catch {
      return;
    }
    if (r.kind === "conn") conns.push(r);
    else if (r.kind === "stream") streams.push(r);
  });
  return {
    conns: () => conns,
    streamEvents: () => streams,
    streamSources: () =>
      new Map(
        streams.flatMap((s) => (s.event === "connected" ? [[s.id, s.source] as [number, string]] : [])),
      ),
    closeStreams: (ip) => {
      handle.child.stdin.write(`close-streams ${ip}\n`);
    },
    end: async () => {
      handle.child.stdin.end("end\n");
      await Promise.all([handle.ended, closed]);
    },
    kill: () => handle.kill("SIGKILL"),
    stderr: () => stderr,
  };
};
