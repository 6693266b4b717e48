// The lab's own processes: the argv of its Node entry points, and whether a recorded pid is
// still the lab's process. Starting, checking and stopping processes is util/background-process.
import { fileURLToPath } from "node:url";
import { isAlive, isOurs } from "../util/background-process.js";

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

/** True if pid runs (not a zombie) and is still the lab's process: its command line names stateDir. */
export const runsAsOurs = (pid: number, stateDir: string): boolean => isAlive(pid) && isOurs(pid, stateDir);
