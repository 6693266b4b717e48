// The nft session's framing, against a stand-in for `nft -i` that answers as nft does: nothing
// for a line it accepts, an error block (message, the line, a caret line) on stderr for one it
// refuses or cannot parse. The real thing is exercised by the end-to-end tests.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startProcess } from "../util/process.js";
import { NftSession } from "./nft-session.js";

/** Accepts lines, refuses those containing "refuse", exits on "die", answers nothing after "hang". */
const FAKE_NFT = `
const rl = require("readline").createInterface({ input: process.stdin });
let hung = false;
rl.on("line", (line) => {
  if (line.includes("die")) process.exit(3);
  if (line.includes("hang")) hung = true;
  if (hung) return;
  const refused = line.includes("refuse") || !/^(add|delete|flush|table) /.test(line);
  if (refused) process.stderr.write("Error: Could not process rule: No such file or directory\\n" + line + "\\n  ^^^^\\n");
});`;

const session = (timeoutMs = 5_000): NftSession =>
  new NftSession(() => startProcess([process.execPath, "-e", FAKE_NFT]), "test", timeoutMs);

describe("NftSession", () => {
  it("applies transactions one line each and reports what nft refused", async () => {
    const s = session();
    try {
      assert.deepEqual(
        await s.apply("add element inet egw egw_s { 1 }\ndelete element inet egw egw_s { 2 }\n"),
        {
          ok: true,
          value: undefined,
        },
      );
      const refused = await s.apply("delete element inet egw egw_s { refuse }\n");
      assert.equal(refused.ok, false);
      assert.match(
        refused.ok ? "" : refused.error,
        /refused the transaction: Error: .*\ndelete element inet egw egw_s \{ refuse \}/,
      );
      assert.ok(
        (await s.apply("add element inet egw egw_s { 3 }\n")).ok,
        "the next one is judged on its own",
      );
      assert.ok((await s.apply("")).ok, "an empty transaction sends nothing");
    } finally {
      s.close();
    }
  });

  it("fails a transaction when nft ends, and starts it again for the next one", async () => {
    const s = session();
    try {
      const died = await s.apply("add element inet egw egw_s { die }\n");
      assert.equal(died.ok, false);
      assert.match(died.ok ? "" : died.error, /nft -i \(test\) ended: exit code 3/);
      assert.ok((await s.apply("add element inet egw egw_s { 4 }\n")).ok);
    } finally {
      s.close();
    }
  });

  it("gives up on a transaction nft does not answer", async () => {
    // Long enough for a fresh process to start on a loaded machine: the takeover below must not
    // time out while node itself is still starting.
    const s = session(3_000);
    try {
      const hung = await s.apply("add element inet egw egw_s { hang }\n");
      assert.equal(hung.ok, false);
      assert.match(hung.ok ? "" : hung.error, /did not answer within 3000 ms/);
      assert.ok((await s.apply("add element inet egw egw_s { 5 }\n")).ok, "a new nft takes over");
    } finally {
      s.close();
    }
  });
});
