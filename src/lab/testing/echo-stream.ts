// Runs echo-client.ts inside a network namespace (a pod's) as a long-lived connection to the lab's
// echo service, and follows what it reports.
import { createInterface } from "node:readline";
import { startProcess } from "../../util/process.js";
import { labScriptArgv } from "../processes.js";
import type { EchoCounters, EchoEvent } from "./echo-client.js";

export interface EchoStream {
  /** The source IP the echo service saw; rejects if the client ends before it is greeted. */
  connected: Promise<string>;
  /** The latest counters reported (progress, or the final ones). */
  counters: () => EchoCounters;
  /** The final event once the client has ended (done, or error with the reason). */
  ended: () => EchoEvent | undefined;
  /** Ends the stream cleanly (closes the client's stdin) and returns its final event. */
  stop: () => Promise<EchoEvent>;
  /** Kills the client (cleanup after a failure). */
  kill: () => void;
}

export const startEchoStream = (netns: string, host: string, port: number, intervalMs = 100): EchoStream => {
  const argv = labScriptArgv("testing/echo-client", [host, String(port), "--interval", String(intervalMs)]);
  const handle = startProcess(argv, { netns });
  const child = handle.child;
  let counters: EchoCounters = { sent: 0, echoed: 0, maxGapMs: 0 };
  let final: EchoEvent | undefined;
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));

  let onConnected: (ip: string) => void = () => undefined;
  let onFailed: (e: Error) => void = () => undefined;
  const connected = new Promise<string>((resolve, reject) => {
    onConnected = resolve;
    onFailed = reject;
  });
  connected.catch(() => undefined); // observed through ended() when nobody awaits it

  createInterface({ input: child.stdout }).on("line", (line) => {
    let e: EchoEvent;
    try {
      e = JSON.parse(line) as EchoEvent;
    } catch {
      return;
    }
    if (e.event === "connected") onConnected(e.source);
    else {
      const { sent, echoed, maxGapMs } = e;
      counters = { sent, echoed, maxGapMs };
      if (e.event !== "progress") final = e;
    }
  });
  const exited = new Promise<EchoEvent>((resolve) => {
    child.on("close", (code) => {
      final ??= {
        event: "error",
        message: `echo client exited (${code ?? "signal"}) without a result: ${stderr.trim()}`,
        ...counters,
      };
      onFailed(new Error(final.event === "error" ? final.message : "ended before it was greeted"));
      resolve(final);
    });
  });
  return {
    connected,
    counters: () => counters,
    ended: () => final,
    stop: () => {
      child.stdin.end();
      return exited;
    },
    kill: () => handle.kill("SIGKILL"),
  };
};
