// `npm run bench -- NAME… [--FLAG…]`: runs the named benchmarks (all when none are named) and prints
// tables; flags after the names go to every benchmark run (e.g. failover's --rounds 2).
// Benchmarks compare side by side in one run; absolute times on this shared machine mean little.
import { benchCalc } from "./calc.js";
import { benchDataplane } from "./dataplane.js";
import { benchFailover } from "./failover.js";
import { benchFeeds } from "./feeds.js";
import { benchLabUp } from "./lab-up.js";
import { benchPodEvent } from "./pod-event.js";
import { benchPolicy } from "./policy.js";
import { benchRouting } from "./routing.js";

interface Bench {
  needsRoot: boolean;
  /** Runs only when named (it takes long: labs, many rounds). */
  onlyByName?: boolean;
  run: (flags: string[]) => Promise<void>;
}

const BENCHES: Record<string, Bench> = {
  calc: { needsRoot: false, run: benchCalc },
  "lab-up": { needsRoot: true, run: benchLabUp },
  dataplane: { needsRoot: true, run: benchDataplane },
  policy: { needsRoot: true, run: benchPolicy },
  "pod-event": { needsRoot: true, run: benchPodEvent },
  failover: { needsRoot: true, onlyByName: true, run: benchFailover },
  routing: { needsRoot: true, onlyByName: true, run: benchRouting },
  feeds: { needsRoot: false, run: benchFeeds },
};

const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  const firstFlag = args.findIndex((a) => a.startsWith("-"));
  const names = firstFlag < 0 ? args : args.slice(0, firstFlag);
  const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; valid: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
    const bench = BENCHES[name]!;
    if (bench.onlyByName && names.length === 0) {
      console.log(`# ${name}: skipped (long; run it by name: npm run bench -- ${name})`);
      continue;
    }
    if (bench.needsRoot && process.getuid?.() !== 0) {
      console.log(`# ${name}: skipped (needs root)`);
      continue;
    }
    console.log(`# ${name}`);
    await bench.run(flags);
  }
};

await main();
