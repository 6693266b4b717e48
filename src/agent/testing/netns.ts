// Small helpers for end-to-end tests in network namespaces: shell commands (throwing with stderr
// on failure, for test setup only), background processes inside a netns, and waiting.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/** Runs a shell script; rejects with its stderr when it fails. */
export function sh(script: string, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-ec", script]);
    let out = "";
    let errOut = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (errOut += b.toString()));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${script}: ${errOut}`))));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

export const inNs = (ns: string, script: string, input?: string): Promise<string> =>
  sh(`ip netns exec ${ns} sh -ec '${script}'`, input);

/** Background processes started by a test; killAll() in after(). */
export class Processes {
  private readonly children: ChildProcessWithoutNullStreams[] = [];

  start(ns: string, argv: readonly string[]): ChildProcessWithoutNullStreams {
    const child = spawn("ip", ["netns", "exec", ns, ...argv]);
    child.stdout.resume();
    child.stderr.resume();
    this.children.push(child);
    return child;
  }

  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
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
