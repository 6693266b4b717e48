// Shell and process helpers for end-to-end tests and benchmarks in scratch network namespaces:
// commands (throwing with stderr on failure, for setup only), background processes inside a
// netns, waiting for a condition or a line of output, and removing the namespaces again.
import type { ChildProcess, ChildProcessWithoutNullStreams } from "node:child_process";
import { runProcess, shellStatus, startProcess, type ChildHandle } from "../../util/process.js";

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Runs a program to completion; never rejects (a program that cannot start is code 127). */
export async function run(argv: readonly string[], input?: string): Promise<RunResult> {
  const r = await runProcess(argv, input === undefined ? {} : { input });
  return { code: shellStatus(r), out: r.stdout, err: r.kind === "NotStarted" ? r.message : r.stderr };
}

/** Runs a shell script; resolves with its stdout, rejects with its stderr when it fails. */
export async function sh(script: string, input?: string): Promise<string> {
  const r = await run(["sh", "-ec", script], input);
  if (r.code !== 0) throw new Error(`${script}: ${r.err}`);
  return r.out;
}

/** Runs a shell script inside netns `ns` (the script must not contain single quotes). */
export const inNs = (ns: string, script: string, input?: string): Promise<string> =>
  sh(`ip netns exec ${ns} sh -ec '${script}'`, input);

/** Deletes the namespaces (and so everything inside them); missing ones are fine. */
export async function deleteNetns(names: Iterable<string>): Promise<void> {
  for (const ns of names) await run(["ip", "netns", "del", ns]);
}

/** Background processes started by a test; killAll() in after(). */
export class Processes {
  private readonly children: ChildHandle[] = [];

  start(ns: string, argv: readonly string[]): ChildProcessWithoutNullStreams {
    const handle = startProcess(argv, { netns: ns });
    handle.child.stdout.resume();
    handle.child.stderr.resume();
    this.children.push(handle);
    return handle.child;
  }

  killAll(): void {
    for (const c of this.children) c.kill("SIGKILL");
  }
}

/**
 * Polls `check` until it returns a value other than undefined. The guard only stops a broken
 * run from hanging; it is not what the test asserts.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  guardMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + guardMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves with the first complete line `child` prints on stdout from now on that satisfies
 * `match`. The guard only stops a broken run from hanging.
 */
export function lineFrom(
  child: Pick<ChildProcess, "stdout">,
  match: (line: string) => boolean,
  guardMs = 30_000,
): Promise<string> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error("the child's stdout is not a pipe"));
  return new Promise((resolve, reject) => {
    let buf = "";
    const guard = setTimeout(() => done(new Error(`no matching line from the child; got: ${buf}`)), guardMs);
    const onData = (b: Buffer): void => {
      buf += b.toString();
      const line = buf.split("\n").slice(0, -1).find(match);
      if (line !== undefined) done(undefined, line);
    };
    const done = (e?: Error, line?: string): void => {
      clearTimeout(guard);
      stdout.off("data", onData);
      if (e) reject(e);
      else resolve(line ?? "");
    };
    stdout.on("data", onData);
  });
}
