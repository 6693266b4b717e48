// Runs the compiled node:test files. "unit" needs no root; "e2e" needs root (netns, nft, etcd).
// Test files: dist/**/*.test.js are unit tests, dist/**/*.e2e.test.js are end-to-end tests.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const which = process.argv[2] ?? "all";
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".test.js")) files.push(path);
  }
};
walk("dist");
const isE2e = (f) => f.endsWith(".e2e.test.js");
const selected = files
  .filter((f) => (which === "unit" ? !isE2e(f) : which === "e2e" ? isE2e(f) : true))
  .sort();
if (selected.length === 0) {
  console.error(`no ${which} test files found under dist/ (did the build run?)`);
  process.exit(1);
}
const res = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...selected], {
  stdio: "inherit",
});
process.exit(res.status ?? 1);
