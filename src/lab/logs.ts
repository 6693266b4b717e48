// Reading a lab's log files, once or following appended lines (like tail -f).
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { sleep } from "../util/wait.js";

/** Bytes of `path` from `offset` on (empty if the file is missing). */
export const readFrom = (path: string, offset: number): { text: string; next: number } => {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { text: "", next: offset };
  }
  try {
    const size = statSync(path).size;
    const start = size < offset ? 0 : offset; // truncated or replaced: start over
    const buf = Buffer.alloc(size - start);
    const n = buf.length > 0 ? readSync(fd, buf, 0, buf.length, start) : 0;
    return { text: buf.subarray(0, n).toString("utf8"), next: start + n };
  } finally {
    closeSync(fd);
  }
};

/**
 * Calls onLines with complete lines of `path`: what it holds now, then (if follow) every line
 * appended later, until `stop()` resolves.
 */
export const readLines = async (
  path: string,
  onLines: (lines: string[]) => void,
  opts: { follow: boolean; stop?: Promise<void>; pollMs?: number },
): Promise<void> => {
  let offset = 0;
  let partial = "";
  let stopped = false;
  void opts.stop?.then(() => {
    stopped = true;
  });
  for (;;) {
    const { text, next } = readFrom(path, offset);
    offset = next;
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    if (parts.length > 0) onLines(parts);
    if (!opts.follow || stopped) break;
    await sleep(opts.pollMs ?? 250);
  }
  if (!opts.follow && partial !== "") onLines([partial]);
};
