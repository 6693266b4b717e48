// Runs external commands (ip, nft, sysctl, …) and returns their outcome as a value, never throws.
import { execFile } from "node:child_process";
import { err, ok, type Result } from "../util/result.js";

export interface RunOptions {
  /** Written to the command's stdin (e.g. an `ip -batch -` or `nft -f -` script). */
  input?: string;
  timeoutMs?: number;
}

const describe = (cmd: string, args: readonly string[]): string => [cmd, ...args].join(" ");

/** Runs `cmd args`; ok(stdout) on exit status 0, otherwise err naming the command and its stderr. */
export const runCommand = (
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<Result<string, string>> =>
  new Promise((resolve) => {
    const child = execFile(
      cmd,
      [...args],
      { encoding: "utf8", timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(ok(stdout));
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return resolve(err(`${cmd}: command not found`));
        const detail = (stderr || error.message).trim();
        resolve(err(`${describe(cmd, args)} failed: ${detail}`));
      },
    );
    child.stdin?.on("error", () => {
      // the command may exit before reading all input; its exit status tells what went wrong
    });
    child.stdin?.end(opts.input ?? "");
  });

/** The argv that runs `cmd args` inside network namespace `netns`. */
export const inNetns = (netns: string, cmd: string, args: readonly string[] = []): string[] => [
  "ip",
  "netns",
  "exec",
  netns,
  cmd,
  ...args,
];

/** Runs a command inside a network namespace. */
export const runInNetns = (
  netns: string,
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<Result<string, string>> => {
  const [ip, ...rest] = inNetns(netns, cmd, args);
  return runCommand(ip ?? "ip", rest, opts);
};
