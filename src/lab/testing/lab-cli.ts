// Helpers for end-to-end tests that drive a lab through the egw CLI, as a user would: run
// commands, apply YAML, poll with a generous deadline (never a timed assertion).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess, shellStatus } from "../../util/process.js";
import { sleep } from "../../util/wait.js";

// From dist/src/lab/testing the repo root is four levels up; from src/lab/testing (tsx) three.
export const repoRoot = fileURLToPath(
  new URL(import.meta.url.includes("/dist/") ? "../../../.." : "../../..", import.meta.url),
);
const egwBin = join(repoRoot, "bin", "egw");

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `egw args` (the built CLI) with `input` on stdin. */
export const runEgw = (env: NodeJS.ProcessEnv, args: readonly string[], input = ""): Promise<Outcome> =>
  runCmd(process.execPath, [egwBin, ...args], input, 180_000, env);

/** Runs `egw args` and fails the test unless it exits 0; returns stdout. */
export const egwOk = async (env: NodeJS.ProcessEnv, args: readonly string[], input = ""): Promise<string> => {
  const r = await runEgw(env, args, input);
  assert.equal(r.code, 0, `egw ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/**
 * Runs a command (not egw) and returns its outcome. `input` goes to its stdin; a child that exits
 * without reading it (EPIPE) is not an error, its exit code tells.
 */
export const runCmd = async (
  cmd: string,
  args: readonly string[],
  input = "",
  timeoutMs = 60_000,
  env?: NodeJS.ProcessEnv,
): Promise<Outcome> => {
  const r = await runProcess([cmd, ...args], { input, timeoutMs, ...(env === undefined ? {} : { env }) });
  return { code: shellStatus(r), stdout: r.stdout, stderr: r.stderr };
};

/**
 * Polls `probe` until it returns a value other than undefined, or fails the test after
 * `timeoutMs` with `what` and the last value `describeLast` reports.
 */
export const eventually = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describeLast?: () => string } = {},
): Promise<T> => {
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}${opts.describeLast ? `: ${opts.describeLast()}` : ""}`);
    await sleep(opts.intervalMs ?? 500);
  }
};

export const randomSuffix = (): string =>
  Math.random()
    .toString(36)
    .slice(2, 6)
    .replace(/[^a-z0-9]/g, "x");
