import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { commandLine, isAlive, startDetached, stopProcesses } from "./background-process.js";
import {
  describeEnd,
  netnsArgv,
  runInteractive,
  runProcess,
  shellStatus,
  startProcess,
  succeeded,
} from "./process.js";
import { waitFor } from "./wait.js";

describe("runProcess", () => {
  it("captures stdout, stderr and the exit code, and feeds stdin", async () => {
    const r = await runProcess(["sh", "-c", "cat; echo oops >&2; exit 3"], { input: "hello\n" });
    assert.deepEqual(r, { kind: "Exited", code: 3, stdout: "hello\n", stderr: "oops\n" });
    assert.equal(succeeded(r), false);
    assert.equal(shellStatus(r), 3);
    assert.equal(describeEnd(r), "exit code 3");
    const fine = await runProcess(["true"]);
    assert.ok(succeeded(fine));
    assert.equal(describeEnd(fine), "");
  });

  it("tells a missing program from one that failed", async () => {
    const r = await runProcess(["egw-no-such-program-here"]);
    assert.equal(r.kind, "NotStarted");
    assert.ok(r.kind === "NotStarted" && r.missing);
    assert.equal(shellStatus(r), 127);
    assert.equal(describeEnd(r), "command not found");
    assert.equal((await runProcess([])).kind, "NotStarted");
  });

  it("stops a program that outlives its timeout, and reports a signal", async () => {
    const slow = await runProcess(["sleep", "30"], { timeoutMs: 20 });
    assert.deepEqual(slow, { kind: "TimedOut", timeoutMs: 20, stdout: "", stderr: "" });
    assert.equal(shellStatus(slow), 143);
    const killed = await runProcess(["sh", "-c", "kill -KILL $$"]);
    assert.equal(killed.kind, "Signalled");
    assert.ok(killed.kind === "Signalled" && killed.signal === "SIGKILL");
    assert.equal(shellStatus(killed), 137);
    // A program that exits without reading its stdin is not an error.
    assert.ok(succeeded(await runProcess(["true"], { input: "x".repeat(1 << 20) })));
  });

  it("wraps argv for a network namespace", () => {
    assert.deepEqual(netnsArgv(["nft", "-f", "-"], "egw-t-n1"), [
      "ip",
      "netns",
      "exec",
      "egw-t-n1",
      "nft",
      "-f",
      "-",
    ]);
    assert.deepEqual(netnsArgv(["nft"]), ["nft"]);
  });

  it("runs an interactive command to its end", async () => {
    assert.deepEqual(await runInteractive(["sh", "-c", "exit 4"]), { kind: "Exited", code: 4 });
    assert.equal((await runInteractive(["egw-no-such-program-here"])).kind, "NotStarted");
  });
});

describe("startProcess", () => {
  it("keeps a child running until it ends or is killed", async () => {
    const h = startProcess(["cat"]);
    const lines: string[] = [];
    h.child.stdout.on("data", (b: Buffer) => lines.push(b.toString()));
    h.child.stdin.write("ping\n");
    assert.ok(await waitFor(() => lines.join("") === "ping\n", 10_000, 10));
    assert.equal(h.running(), true);
    h.child.stdin.end();
    assert.deepEqual(await h.ended, { kind: "Exited", code: 0 });
    assert.equal(h.running(), false);

    const s = startProcess(["sleep", "30"]);
    s.kill("SIGKILL"); // also the cleanup: nothing is left running
    assert.deepEqual(await s.ended, { kind: "Signalled", signal: "SIGKILL" });
    s.kill(); // ended: nothing happens
  });
});

describe("background processes", () => {
  it("start detached with a log, are recognised by pid, and stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "egw-proc-"));
    const started: number[] = [];
    try {
      const log = join(dir, "x.log");
      const pid = startDetached(["sh", "-c", `echo started; exec sleep 30 # ${dir}`], {
        logFile: log,
        cwd: dir,
      });
      assert.ok(pid.ok);
      started.push(pid.value);
      assert.ok(await waitFor(() => readFileSync(log, "utf8").includes("started"), 10_000, 10));
      assert.ok(isAlive(pid.value));
      assert.match(commandLine(pid.value) ?? "", /sleep 30/);
      assert.deepEqual(await stopProcesses([pid.value], 2000), []);
      assert.equal(isAlive(pid.value), false);
      assert.equal(commandLine(999_999_999), undefined);
      const bad = startDetached(["true"], { logFile: join(dir, "missing", "x.log") });
      assert.ok(!bad.ok && bad.error.startsWith("cannot open log"));
      assert.ok(!startDetached([], { logFile: log }).ok);
    } finally {
      await stopProcesses(started, 100);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
