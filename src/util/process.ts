// The one way egw runs external programs: a command to completion (optional stdin, network
// namespace and timeout; stdout, stderr and how it ended captured), an interactive command with
// the caller's terminal, or a long-running child the caller keeps a handle on. Never throws:
// how a run ended is a value whose kind says whether the program could not start, was stopped
// after its timeout, was killed by a signal, or exited (with which code). What an exit code or
// an error text means for a particular program is the caller's business, not this module's.
// Processes that must outlive their starter are in background-process.ts.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { constants } from "node:os";

export interface ProcessOptions {
  /** Run inside this named network namespace (`ip netns exec NETNS …`). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunOptions extends ProcessOptions {
  /** Written to the program's stdin, which is then closed (empty when omitted). */
  input?: string;
  /** SIGTERM after this long; the result is then `TimedOut`. Omitted: no limit. */
  timeoutMs?: number;
}

/** How a run ended. */
export type ProcessEnd =
  /** The program ran and exited by itself; code 0 is success. */
  | { kind: "Exited"; code: number }
  /** A signal ended it (other than the timeout's). */
  | { kind: "Signalled"; signal: NodeJS.Signals }
  /** It was still running after `timeoutMs` and was sent SIGTERM. */
  | { kind: "TimedOut"; timeoutMs: number }
  /** It never ran: `missing` when the program does not exist (ENOENT). */
  | { kind: "NotStarted"; missing: boolean; message: string };

export type ProcessEndKind = ProcessEnd["kind"];

export type ProcessResult = ProcessEnd & { stdout: string; stderr: string };

/** The argv that runs `argv` inside `netns` (unchanged without one). */
export const netnsArgv = (argv: readonly string[], netns?: string): string[] =>
  netns === undefined ? [...argv] : ["ip", "netns", "exec", netns, ...argv];

/** True when the run exited with code 0. */
export const succeeded = (r: ProcessEnd): boolean => r.kind === "Exited" && r.code === 0;

/**
 * The end as a shell reports it: the exit code, 128 + n for signal n (a timeout is SIGTERM's),
 * 127 for a program that could not be started.
 */
export const shellStatus = (r: ProcessEnd): number => {
  switch (r.kind) {
    case "Exited":
      return r.code;
    case "Signalled":
      return 128 + (constants.signals[r.signal] ?? 0);
    case "TimedOut":
      return 128 + constants.signals.SIGTERM;
    case "NotStarted":
      return 127;
  }
};

/** What went wrong, in words (`exit code 2`, `timed out after 30000 ms`, …); "" on success. */
export const describeEnd = (r: ProcessEnd): string => {
  switch (r.kind) {
    case "Exited":
      return r.code === 0 ? "" : `exit code ${r.code}`;
    case "Signalled":
      return `killed by ${r.signal}`;
    case "TimedOut":
      return `timed out after ${r.timeoutMs} ms`;
    case "NotStarted":
      return r.missing ? "command not found" : `cannot start: ${r.message}`;
  }
};

const endOf = (
  code: number | null,
  signal: NodeJS.Signals | null,
  timedOut: number | undefined,
): ProcessEnd => {
  if (timedOut !== undefined) return { kind: "TimedOut", timeoutMs: timedOut };
  if (code !== null) return { kind: "Exited", code };
  return { kind: "Signalled", signal: signal ?? "SIGKILL" };
};

const notStarted = (e: Error): ProcessEnd => ({
  kind: "NotStarted",
  missing: (e as NodeJS.ErrnoException).code === "ENOENT",
  message: e.message,
});

const spawnOptions = (o: ProcessOptions): { env?: NodeJS.ProcessEnv; cwd?: string } => ({
  ...(o.env === undefined ? {} : { env: o.env }),
  ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
});

/** Runs argv[0] with the rest as arguments to its end and collects its output. */
export function runProcess(argv: readonly string[], o: RunOptions = {}): Promise<ProcessResult> {
  const [cmd, ...args] = netnsArgv(argv, o.netns);
  if (cmd === undefined || argv.length === 0)
    return Promise.resolve({
      kind: "NotStarted",
      missing: true,
      message: "empty command",
      stdout: "",
      stderr: "",
    });
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...spawnOptions(o) });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => errOut.push(b));
    let timedOut: number | undefined;
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = o.timeoutMs;
            child.kill("SIGTERM");
          }, o.timeoutMs);
    let settled = false;
    const finish = (end: ProcessEnd): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      resolve({
        ...end,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(errOut).toString("utf8"),
      });
    };
    child.on("error", (e) => finish(notStarted(e)));
    child.on("close", (code, signal) => finish(endOf(code, signal, timedOut)));
    // A child that exits before reading its stdin raises EPIPE on the pipe; its end tells all.
    child.stdin.on("error", () => undefined);
    child.stdin.end(o.input ?? "");
  });
}

/** Runs argv with the caller's stdin, stdout and stderr (an interactive command); resolves when it ends. */
export function runInteractive(argv: readonly string[], o: ProcessOptions = {}): Promise<ProcessEnd> {
  const [cmd, ...args] = netnsArgv(argv, o.netns);
  if (cmd === undefined || argv.length === 0)
    return Promise.resolve({ kind: "NotStarted", missing: true, message: "empty command" });
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "inherit", ...spawnOptions(o) });
    let settled = false;
    const finish = (end: ProcessEnd): void => {
      if (!settled) resolve(end);
      settled = true;
    };
    child.on("error", (e) => finish(notStarted(e)));
    child.on("close", (code, signal) => finish(endOf(code, signal, undefined)));
  });
}

/** A long-running child with pipes to its stdin, stdout and stderr. */
export interface ChildHandle {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once the child has ended (its output streams closed). */
  readonly ended: Promise<ProcessEnd>;
  /** True until it ended. */
  running(): boolean;
  /** Sends `signal` (default SIGTERM) if it still runs. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts argv as a child of this process with piped stdio. The caller reads or drains stdout
 * and stderr (an unread pipe that fills up blocks the child); `ended` says how it ended.
 */
export function startProcess(argv: readonly string[], o: ProcessOptions = {}): ChildHandle {
  const full = netnsArgv(argv, o.netns);
  const child = spawn(full[0] ?? "false", full.slice(1), {
    stdio: ["pipe", "pipe", "pipe"],
    ...spawnOptions(o),
  });
  child.stdin.on("error", () => undefined);
  let done = false;
  const ended = new Promise<ProcessEnd>((resolve) => {
    const finish = (end: ProcessEnd): void => {
      if (!done) resolve(end);
      done = true;
    };
    child.on("error", (e) => finish(notStarted(e)));
    child.on("close", (code, signal) => finish(endOf(code, signal, undefined)));
  });
  return {
    child,
    ended,
    running: () => !done && isRunning(child),
    kill: (signal = "SIGTERM") => {
      if (!done && isRunning(child)) child.kill(signal);
    },
  };
}

const isRunning = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
