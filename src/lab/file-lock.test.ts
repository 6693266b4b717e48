import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { withFileLock } from "./file-lock.js";
import { sleep } from "../util/wait.js";

const dir = mkdtempSync(join(tmpdir(), "egw-lock-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("file lock", () => {
  it("runs holders one at a time", async () => {
    const lock = join(dir, "a.lock");
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(lock, async () => {
        events.push(`${name} in`);
        await sleep(30);
        events.push(`${name} out`);
      });
    await Promise.all([holder("one"), holder("two")]);
    assert.deepEqual(
      events.map((e) => e.split(" ")[1]),
      ["in", "out", "in", "out"],
    );
  });

  it("takes over a lock whose owner is gone", async () => {
    const lock = join(dir, "b.lock");
    writeFileSync(lock, "999999999\n");
    const r = await withFileLock(lock, async () => "got it", 1000);
    assert.deepEqual(r, { ok: true, value: "got it" });
  });

  it("gives up on a lock a live process holds, naming it", async () => {
    const lock = join(dir, "c.lock");
    writeFileSync(lock, `${process.ppid}\n`);
    const r = await withFileLock(lock, async () => "never", 100);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, new RegExp(`held by pid ${process.ppid}`));
  });
});
