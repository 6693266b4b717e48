// The lab's supervised components (node agents, gateway processes), as a kubelet keeps a pod's
// containers: started detached with their log and working directory in the state dir, recorded
// in the manifest (pid, netns, start time), found alive or dead by their recorded pid, stopped
// and forgotten. Which to start or stop is decided elsewhere (agent-restarts.ts,
// gateway-pod-actions.ts).
import { startDetached, stopProcesses } from "../util/background-process.js";
import { err, ok, type Result } from "../util/result.js";
import { runsAsOurs } from "./processes.js";
import { labPaths, updateManifest, type LabManifest, type ProcessRecord } from "./state.js";

/** The recorded components `owns` accepts: component → its process still runs. */
export const recordedComponents = (
  manifest: LabManifest,
  stateDir: string,
  owns: (component: string) => boolean,
): Map<string, boolean> =>
  new Map(
    Object.entries(manifest.processes)
      .filter(([c]) => owns(c))
      .map(([c, rec]) => [c, runsAsOurs(rec.pid, stateDir)] as const),
  );

/** Starts `component` in `netns` (argv already wrapped for it) and records it; returns its pid. */
export const startSupervised = (o: {
  stateDir: string;
  component: string;
  argv: readonly string[];
  netns: string;
}): Result<number, string> => {
  const pid = startDetached(o.argv, { logFile: labPaths(o.stateDir).log(o.component), cwd: o.stateDir });
  if (!pid.ok) return err(`${o.component}: ${pid.error}`);
  const rec = { pid: pid.value, netns: o.netns, startedAt: new Date().toISOString() };
  const saved = updateManifest(o.stateDir, (m) => (m.processes[o.component] = rec));
  return saved.ok
    ? ok(pid.value)
    : err(`${o.component}: started (pid ${pid.value}) but not recorded: ${saved.error}`);
};

/** Stops the recorded process of `component` (if it is still ours) and forgets it. */
export const stopSupervised = async (
  stateDir: string,
  component: string,
  rec: ProcessRecord | undefined,
): Promise<Result<void, string>> => {
  if (rec && runsAsOurs(rec.pid, stateDir)) await stopProcesses([rec.pid], 2000);
  const saved = updateManifest(stateDir, (m) => delete m.processes[component]);
  return saved.ok ? ok(undefined) : err(saved.error);
};
