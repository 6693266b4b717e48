// How dataplane commands reach a network namespace. The agent runs inside its node's netns and
// uses the local runner; tests and the lab drive a namespace from outside with `ip netns exec`.
import { spawn } from "node:child_process";

export interface RunResult {
  /** Exit code; 127 when the program could not be started. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Where commands run, for messages (e.g. `netns egw-lab-n1`). */
  readonly where: string;
  /** Runs argv[0] with the rest as arguments, feeding `input` on stdin. Never throws. */
  run(argv: readonly string[], input?: string): Promise<RunResult>;
}

function spawnCollect(argv: readonly string[], input: string | undefined): Promise<RunResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      resolve({ code: 127, stdout: "", stderr: "empty command" });
      return;
    }
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => errOut.push(b));
    let settled = false;
    const finish = (code: number, extra = ""): void => {
      if (settled) return;
      settled = true;
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(errOut).toString("utf8") + extra,
      });
    };
    child.on("error", (e) => finish(127, e.message));
    child.on("close", (code) => finish(code ?? 1));
    // A child that exits before reading its stdin raises EPIPE on the pipe; the exit code tells all.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/** Runs commands in the caller's own network namespace (the agent inside a node netns). */
export const localRunner = (): Runner => ({
  where: "current netns",
  run: (argv, input) => spawnCollect(argv, input),
});

/** Runs commands inside a named network namespace via `ip netns exec`. */
export const netnsRunner = (netns: string): Runner => ({
  where: `netns ${netns}`,
  run: (argv, input) => spawnCollect(["ip", "netns", "exec", netns, ...argv], input),
});
