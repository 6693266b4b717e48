// Background processes of a lab: start detached with output to a log file, check, stop.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { err, ok, type Result } from "../util/result.js";

/**
 * The argv that runs one of the lab's own Node entry points (`runtime-main`, …). From the build
 * output that is plain `node file.js`; from sources (tsx in development) it loads tsx first.
 */
export const labScriptArgv = (base: string, args: readonly string[]): string[] => {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    const file = fileURLToPath(new URL(`./${base}.ts`, here));
    return [process.execPath, "--import", import.meta.resolve("tsx"), file, ...args];
  }
  return [process.execPath, fileURLToPath(new URL(`./${base}.js`, here)), ...args];
};

/** Starts argv in its own session, detached from the caller, stdout+stderr appended to logFile. */
export const startDetached = (
  argv: readonly string[],
  opts: { logFile: string; cwd?: string },
): Result<number, string> => {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return err("nothing to start");
  let fd: number;
  try {
    fd = openSync(opts.logFile, "a");
  } catch (e) {
    return err(`cannot open log ${opts.logFile}: ${(e as Error).message}`);
  }
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], cwd: opts.cwd });
    child.on("error", () => {
      // reported below through the missing pid (or later through the health check)
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

/** A recorded pid is only ours if its command line still names our marker (pids get reused). */
export const isOurs = (pid: number, marker: string): boolean => commandLine(pid)?.includes(marker) ?? false;

/** True if pid runs (not a zombie) and is still the lab's process: its command line names stateDir. */
export const runsAsOurs = (pid: number, stateDir: string): boolean => isAlive(pid) && isOurs(pid, stateDir);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it succeeded. */
export const waitFor = async (
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
};

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
