// `npm run bench -- lab-up` (root): wall time of `egw up` and `egw down` through the CLI, for a
// 1-node and a 3-node lab side by side. Reported, not asserted; the ratio is what to compare.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { median, printTable } from "./report.js";

const repoRoot = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../.." : "..", import.meta.url));
const egwBin = join(repoRoot, "bin", "egw");
const RUNS = 3;

const egw = (env: NodeJS.ProcessEnv, args: string[]): Promise<number> =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    execFile(process.execPath, [egwBin, ...args], { env, timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`egw ${args.join(" ")} failed: ${stderr}`));
      else resolve(performance.now() - start);
    });
  });

export async function benchLabUp(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "egw-bench-lab-"));
  const lab = `b${process.pid % 10000}`;
  const env = { ...process.env, EGW_CONFIG: join(tmp, "config.yaml"), EGW_LAB: "" };
  const stateDir = join(tmp, "state");
  const times: Record<string, number[]> = {
    "up 1 node": [],
    "down 1 node": [],
    "up 3 nodes": [],
    "down 3 nodes": [],
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const nodes of [1, 3]) {
        const suffix = nodes === 1 ? "1 node" : `${nodes} nodes`;
        times[`up ${suffix}`]?.push(
          await egw(env, ["up", "--nodes", String(nodes), "--name", lab, "--state-dir", stateDir]),
        );
        times[`down ${suffix}`]?.push(await egw(env, ["down", "--name", lab, "--state-dir", stateDir]));
      }
    }
  } finally {
    await egw(env, ["down", "--name", lab, "--state-dir", stateDir]).catch(() => 0);
    rmSync(tmp, { recursive: true, force: true });
  }
  const base = median(times["up 1 node"] ?? []);
  const rows = Object.entries(times).map(([what, xs]) => [
    what,
    `${median(xs).toFixed(0)} ms`,
    `${(median(xs) / base).toFixed(2)}x`,
  ]);
  const header = ["operation (egw CLI, median of " + RUNS + ")", "time", "vs up 1 node"];
  printTable([header, ...rows]);
}
