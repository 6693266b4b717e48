// How dataplane commands reach a network namespace. The agent runs inside its node's netns and
// uses the local runner; tests and the lab drive a namespace from outside with `ip netns exec`.
// Both are thin uses of util/process.
import { runProcess, shellStatus, startProcess, type ChildHandle } from "../util/process.js";

export interface RunResult {
  /** Exit code; 127 when the program could not be started, 128 + n when signal n ended it. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Where commands run, for messages (e.g. `netns egw-lab-n1`). */
  readonly where: string;
  /** Runs argv[0] with the rest as arguments, feeding `input` on stdin. Never throws. */
  run(argv: readonly string[], input?: string): Promise<RunResult>;
  /** Starts a long-running program in the same place (absent: the caller runs commands one by one). */
  start?(argv: readonly string[]): ChildHandle;
}

const run = async (
  argv: readonly string[],
  input: string | undefined,
  netns?: string,
): Promise<RunResult> => {
  const r = await runProcess(argv, {
    ...(input === undefined ? {} : { input }),
    ...(netns === undefined ? {} : { netns }),
  });
  const stderr = r.kind === "NotStarted" ? r.stderr + r.message : r.stderr;
  return { code: shellStatus(r), stdout: r.stdout, stderr };
};

/** Runs commands in the caller's own network namespace (the agent inside a node netns). */
export const localRunner = (): Runner => ({
  where: "current netns",
  run: (argv, input) => run(argv, input),
  start: (argv) => startProcess(argv),
});

/** Runs commands inside a named network namespace via `ip netns exec`. */
export const netnsRunner = (netns: string): Runner => ({
  where: `netns ${netns}`,
  run: (argv, input) => run(argv, input, netns),
  start: (argv) => startProcess(argv, { netns }),
});
