// `egw down`: stops every process of a lab (recorded pids, and whatever runs inside its
// namespaces), deletes its namespaces (devices, routes and nft tables go with them) and its state
// dir. Works from whatever is left — a running lab, a half-built one, or only stray namespaces —
// and is safe to run twice.
import { err, ok, type Result } from "../util/result.js";
import { isLabNetns } from "./names.js";
import { deleteNetns, listNetns, netnsPids } from "./netns.js";
import { stopProcesses } from "../util/background-process.js";
import { runsAsOurs } from "./processes.js";
import { readManifest, removeStateDir, unregisterLab, type Env } from "./state.js";

export interface DownOptions {
  name: string;
  stateDir: string;
  env: Env;
}

export interface DownOutcome {
  /** Nothing of the lab was found. */
  nothingToDo: boolean;
  stoppedProcesses: number;
  deletedNetns: string[];
  /** The etcd endpoint the lab served (so the caller can drop it from the CLI config). */
  etcdEndpoint?: string;
}

export const labDown = async (opts: DownOptions): Promise<Result<DownOutcome, string[]>> => {
  const manifest = readManifest(opts.stateDir);
  const netns = listNetns().filter((n) => isLabNetns(opts.name, n));

  const ours = (pid: number | undefined): pid is number =>
    pid !== undefined && runsAsOurs(pid, opts.stateDir);
  // The runtime first: it restarts dead agents and gateways, so it must not see the others go.
  const runtime = manifest?.processes.runtime?.pid;
  const runtimeStopped = ours(runtime) ? [runtime] : [];
  const runtimeLeft = await stopProcesses(runtimeStopped);
  const recorded = Object.values(readManifest(opts.stateDir)?.processes ?? {})
    .map((p) => p.pid)
    .filter(ours);
  const inside = (await Promise.all(netns.map(netnsPids))).flat();
  const pids = [...new Set([...recorded, ...inside])].filter((p) => !runtimeStopped.includes(p));
  const survivors = [...runtimeLeft, ...(await stopProcesses(pids))];

  const problems: string[] = [];
  if (survivors.length > 0) problems.push(`processes ${survivors.join(", ")} did not stop`);
  const deleted = await deleteNetns(netns);
  if (!deleted.ok) problems.push(deleted.error);
  const removed = removeStateDir(opts.stateDir);
  if (!removed.ok) problems.push(removed.error);
  unregisterLab(opts.env, opts.name);

  const left = listNetns().filter((n) => isLabNetns(opts.name, n));
  if (left.length > 0) problems.push(`network namespaces still present: ${left.join(", ")}`);
  if (problems.length > 0) return err(problems.map((p) => `lab "${opts.name}": ${p}`));
  return ok({
    nothingToDo: manifest === undefined && netns.length === 0 && pids.length + runtimeStopped.length === 0,
    stoppedProcesses: runtimeStopped.length + pids.length,
    deletedNetns: netns,
    ...(manifest?.etcdEndpoint ? { etcdEndpoint: manifest.etcdEndpoint } : {}),
  });
};
