// The layering rule of eslint.config.js, run through ESLint's Node API on made-up files: an
// upward import fails lint (static, re-export, dynamic import(), import type), a downward one
// passes, tests may reach test helpers of any room, and importing a barrel (index.js) fails in
// any form, downward or not.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { ESLint } from "eslint";

// From dist/test the repository root is two levels up; from test/ (tsx) one.
const repoRoot = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../.." : "..", import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

/** The layering problems ESLint reports for `code` as if it were the file `path`. */
const layering = async (path: string, code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "egw/layering").map((m) => m.message);
};

describe("lint: layering", () => {
  it("fails an upward import, re-export and type import", async () => {
    const problems = await layering(
      "src/calc/probe.ts",
      [
        `import { main } from "../cli/main.js";`,
        `export { systemClock } from "../daemon/clock.js";`,
        `import type { Datastore } from "../datastore/types.js";`,
        `export const f = (d: Datastore): unknown => main;`,
      ].join("\n"),
    );
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0] ?? "", /^calc may not import cli \(\.\.\/cli\/main\.js\)/);
    assert.match(problems[1] ?? "", /^calc may not import daemon/);
    assert.match(problems[2] ?? "", /^calc may not import datastore/);
  });

  it("fails an upward dynamic import(), and one whose path is computed", async () => {
    const problems = await layering(
      "src/lab/probe.ts",
      [
        `export const run = async (): Promise<unknown> => (await import("../cli/main.js")).main;`,
        `export const load = (name: string): Promise<unknown> => import(name);`,
      ].join("\n"),
    );
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0] ?? "", /^lab may not import cli/);
    assert.match(problems[1] ?? "", /computed path/);
  });

  it("passes downward imports, static and dynamic, and imports within a room", async () => {
    const problems = await layering(
      "src/cli/probe.ts",
      [
        `import type { NodePlan } from "../calc/plan.js";`,
        `import { labDown } from "../lab/down.js";`,
        `import { formatTable } from "../util/table.js";`,
        `import { CliError } from "./exit.js";`,
        `export const f = async (p: NodePlan): Promise<unknown> => [p, labDown, formatTable, CliError, await import("../util/ip.js")];`,
      ].join("\n"),
    );
    assert.deepEqual(problems, []);
  });

  it("fails an import of a barrel (index.js or a folder), static, re-export, import() or type", async () => {
    const problems = await layering(
      "src/cli/probe.ts",
      [
        `import { computeNodePlan } from "../calc/index.js";`,
        `export { parseSelector } from "../selector/index.js";`,
        `export * from "./commands/index.js";`,
        `import type { Selector } from "../selector/";`,
        `export const f = async (s: Selector): Promise<unknown> => [s, computeNodePlan, await import("../api/index.js")];`,
      ].join("\n"),
    );
    assert.equal(problems.length, 5, problems.join("\n"));
    for (const p of problems) assert.match(p, /is a barrel: import from the module that defines the thing/);
    assert.match(problems[0] ?? "", /^\.\.\/calc\/index\.js is a barrel/);
    assert.match(problems[4] ?? "", /^\.\.\/api\/index\.js is a barrel/);
    const inRoom = await layering("src/calc/probe.ts", `export { computeNodePlan } from "./index.js";`);
    assert.equal(inRoom.length, 1);
    assert.match(inRoom[0] ?? "", /^\.\/index\.js is a barrel/);
  });

  it("lets tests import test helpers of any room, but not other upward modules", async () => {
    const helper = await layering(
      "src/api/probe.test.ts",
      `import { freePort } from "../datastore/testing/etcd-server.js";\nexport const p = freePort;`,
    );
    assert.deepEqual(helper, []);
    const upward = await layering(
      "src/api/probe.test.ts",
      `import { MemoryStore } from "../datastore/memory.js";\nexport const m = MemoryStore;`,
    );
    assert.equal(upward.length, 1);
    assert.match(upward[0] ?? "", /^api may not import datastore/);
  });
});
