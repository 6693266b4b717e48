// Thin wrappers over ip/nft/sysctl for network namespaces. Each call is one process and one
// batch (`ip -batch -`, `nft -f -`), so a change is applied as a unit or reported as failed.
import { readdirSync } from "node:fs";
import { err, ok, type Result } from "../util/result.js";
import { runCommand, runInNetns } from "./exec.js";

const NETNS_DIR = "/run/netns";

/** Names of all named network namespaces (those `ip netns add` made). */
export const listNetns = (): string[] => {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
};

export const netnsExists = (name: string): boolean => listNetns().includes(name);

/** Creates namespaces (in one batch) and brings their loopback up. */
export const addNetns = async (names: readonly string[]): Promise<Result<void, string>> => {
  if (names.length === 0) return ok(undefined);
  const r = await runCommand("ip", ["-batch", "-"], { input: names.map((n) => `netns add ${n}\n`).join("") });
  return r.ok ? ok(undefined) : r;
};

/** Deletes namespaces, ignoring ones already gone; the devices inside go with them. */
export const deleteNetns = async (names: readonly string[]): Promise<Result<void, string>> => {
  const present = new Set(listNetns());
  const todo = names.filter((n) => present.has(n));
  if (todo.length === 0) return ok(undefined);
  const r = await runCommand("ip", ["-force", "-batch", "-"], {
    input: todo.map((n) => `netns del ${n}\n`).join(""),
  });
  const left = todo.filter((n) => netnsExists(n));
  if (left.length > 0)
    return err(`could not delete network namespace(s) ${left.join(", ")}${r.ok ? "" : `: ${r.error}`}`);
  return ok(undefined);
};

/** Runs `ip` commands (one per line, without the leading `ip`) inside `netns` as one batch. */
export const ipBatch = async (netns: string, lines: readonly string[]): Promise<Result<void, string>> => {
  if (lines.length === 0) return ok(undefined);
  const r = await runCommand("ip", ["-n", netns, "-batch", "-"], {
    input: lines.map((l) => `${l}\n`).join(""),
  });
  return r.ok ? ok(undefined) : err(`in ${netns}: ${r.error}`);
};

/** Loads an nft script (text) inside `netns` atomically. */
export const nftApply = async (netns: string, text: string): Promise<Result<void, string>> => {
  const r = await runInNetns(netns, "nft", ["-f", "-"], { input: text });
  return r.ok ? ok(undefined) : err(`in ${netns}: ${r.error}`);
};

export const setSysctls = async (
  netns: string,
  settings: Record<string, string>,
): Promise<Result<void, string>> => {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  if (args.length === 0) return ok(undefined);
  const r = await runInNetns(netns, "sysctl", ["-qw", ...args]);
  return r.ok ? ok(undefined) : err(`in ${netns}: ${r.error}`);
};

/** Pids of the processes living in `netns` (empty if the namespace is gone). */
export const netnsPids = async (netns: string): Promise<number[]> => {
  const r = await runCommand("ip", ["netns", "pids", netns]);
  if (!r.ok) return [];
  return r.value
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
};
