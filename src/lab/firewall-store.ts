// firewall.json in the lab's state dir: read it (atomic renames make a plain read safe) and
// change it under a lock, so the CLI and the feed poller never lose each other's writes. The
// change function may load nft before the new state is written: if it fails, nothing is written.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { withFileLock } from "./file-lock.js";
import { emptyFirewallState, parseFirewallState, type FirewallState } from "./firewall-feeds.js";
import { labPaths } from "./state.js";
import { err, ok, type Result } from "../util/result.js";

export const readFirewallState = (stateDir: string): FirewallState => {
  try {
    return parseFirewallState(JSON.parse(readFileSync(labPaths(stateDir).firewallLists, "utf8")));
  } catch {
    return emptyFirewallState();
  }
};

const writeFirewallState = (stateDir: string, state: FirewallState): Result<void, string> => {
  const path = labPaths(stateDir).firewallLists;
  try {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(tmp, path);
    return ok(undefined);
  } catch (e) {
    return err(`cannot write ${path}: ${(e as Error).message}`);
  }
};

export interface StateChange<T> {
  /** The state to write; undefined leaves the file as it is. */
  state?: FirewallState;
  value: T;
}

/** Read-modify-write of firewall.json under its lock. */
export const changeFirewallState = async <T>(
  stateDir: string,
  change: (current: FirewallState) => Promise<Result<StateChange<T>, string>>,
): Promise<Result<T, string>> => {
  const locked = await withFileLock(`${labPaths(stateDir).firewallLists}.lock`, async () => {
    const r = await change(readFirewallState(stateDir));
    if (!r.ok) return r;
    if (r.value.state !== undefined) {
      const w = writeFirewallState(stateDir, r.value.state);
      if (!w.ok) return w;
    }
    return ok(r.value.value);
  });
  return locked.ok ? locked.value : locked;
};
