// An exclusive lock on a file path between processes of this machine (the CLI and the lab's
// feed poller both rewrite firewall.json): a lock file created with O_EXCL that holds the
// owner's pid. A lock whose owner died is taken over, so a crash never wedges the lab. It is not
// a lock across machines or pid namespaces (the lab has neither).
import { openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { isAlive } from "../util/background-process.js";
import { err, ok, type Result } from "../util/result.js";
import { sleep } from "../util/wait.js";

const RETRY_MS = 20;

const ownerOf = (lockPath: string): number | undefined => {
  try {
    const pid = Number(readFileSync(lockPath, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

const tryAcquire = (lockPath: string): boolean => {
  try {
    const fd = openSync(lockPath, "wx");
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  }
};

/** Runs fn while holding the lock at lockPath; err if another live process holds it past timeoutMs. */
export const withFileLock = async <T>(
  lockPath: string,
  fn: () => Promise<T>,
  timeoutMs = 10_000,
): Promise<Result<T, string>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let acquired: boolean;
    try {
      acquired = tryAcquire(lockPath);
    } catch (e) {
      return err(`cannot lock ${lockPath}: ${(e as Error).message}`);
    }
    if (acquired) break;
    const owner = ownerOf(lockPath);
    // An empty file is a lock being written right now; a dead owner's lock is stale.
    if (owner !== undefined && owner !== process.pid && !isAlive(owner)) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() >= deadline)
      return err(`${lockPath} is held by pid ${owner ?? "?"} for more than ${timeoutMs / 1000} s`);
    await sleep(RETRY_MS);
  }
  try {
    return ok(await fn());
  } finally {
    rmSync(lockPath, { force: true });
  }
};
