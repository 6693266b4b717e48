// The lab's commands (ip, nft, sysctl, …) as a Result: ok(stdout) when the command exits 0,
// otherwise err naming the command and what it said. A thin use of util/process.
import { describeEnd, netnsArgv, runProcess, succeeded } from "../util/process.js";
import { err, ok, type Result } from "../util/result.js";

export interface RunOptions {
  /** Written to the command's stdin (e.g. an `ip -batch -` or `nft -f -` script). */
  input?: string;
  /** Default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Runs `cmd args`; ok(stdout) on exit status 0, otherwise err naming the command and its stderr. */
export const runCommand = async (
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<Result<string, string>> => {
  const r = await runProcess([cmd, ...args], {
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  if (succeeded(r)) return ok(r.stdout);
  if (r.kind === "NotStarted" && r.missing) return err(`${cmd}: command not found`);
  const detail = r.stderr.trim() || describeEnd(r);
  return err(`${[cmd, ...args].join(" ")} failed: ${detail}`);
};

/** The argv that runs `cmd args` inside network namespace `netns`. */
export const inNetns = (netns: string, cmd: string, args: readonly string[] = []): string[] =>
  netnsArgv([cmd, ...args], netns);

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
