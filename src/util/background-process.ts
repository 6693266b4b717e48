// Processes that outlive the one that started them (the lab's etcd, agents, gateways): started
// detached in their own session with output appended to a log file, found again later by pid
// (checked against /proc, since pids are reused), and stopped with SIGTERM, then SIGKILL.
// Supervision (what to restart, where pids are recorded) is the caller's; running a command to
// its end is process.ts.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { err, ok, type Result } from "./result.js";
import { netnsArgv } from "./process.js";
import { waitFor } from "./wait.js";

export interface DetachedOptions {
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  /** Run inside this named network namespace. */
  netns?: string;
}

/** Starts argv in its own session, detached from the caller; returns its pid. */
export const startDetached = (argv: readonly string[], opts: DetachedOptions): Result<number, string> => {
  const [cmd, ...args] = netnsArgv(argv, opts.netns);
  if (cmd === undefined || argv.length === 0) return err("nothing to start");
  let fd: number;
  try {
    fd = openSync(opts.logFile, "a");
  } catch (e) {
    return err(`cannot open log ${opts.logFile}: ${(e as Error).message}`);
  }
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], cwd: opts.cwd });
    child.on("error", () => {
      // reported below through the missing pid (or later through the caller's liveness check)
    });
    child.unref();
    if (child.pid === undefined) return err(`cannot start ${argv.join(" ")}`);
    return ok(child.pid);
  } finally {
    closeSync(fd);
  }
};

/** True if pid runs and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
};

/** The command line of pid (NULs as spaces), or undefined if it is gone. */
export const commandLine = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return undefined;
  }
};

/** A recorded pid is only the process it was if its command line still names `marker`. */
export const isOurs = (pid: number, marker: string): boolean => commandLine(pid)?.includes(marker) ?? false;

/** SIGTERM, then SIGKILL for what is still alive after graceMs; returns pids that survived. */
export const stopProcesses = async (pids: readonly number[], graceMs = 3000): Promise<number[]> => {
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  const targets = [...new Set(pids)].filter((p) => p > 1 && p !== process.pid);
  targets.forEach((p) => signal(p, "SIGTERM"));
  await waitFor(() => targets.every((p) => !isAlive(p)), graceMs);
  const stubborn = targets.filter(isAlive);
  stubborn.forEach((p) => signal(p, "SIGKILL"));
  await waitFor(() => stubborn.every((p) => !isAlive(p)), 2000);
  return stubborn.filter(isAlive);
};
