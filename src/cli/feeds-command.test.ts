import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError } from "./exit.js";
import { parseListen, tokensOf } from "./commands/feeds.js";

test("--listen takes HOST:PORT and [V6]:PORT; anything else is a usage error", () => {
  assert.deepEqual(parseListen("0.0.0.0:8080"), { host: "0.0.0.0", port: 8080 });
  assert.deepEqual(parseListen("[::]:8443"), { host: "::", port: 8443 });
  for (const bad of ["8080", "host:", "host:99999", ":80"])
    assert.throws(() => parseListen(bad), CliError, bad);
});

test("--token-file: one token per line, blanks and # comments ignored", () => {
  assert.deepEqual(tokensOf("# firewall A\nabc\n\n  def  \n"), ["abc", "def"]);
});
