// `npm run bench -- NAME…`: runs the named benchmarks (all when none are named) and prints tables.
// Benchmarks compare side by side in one run; absolute times on this shared machine mean little.
import { benchCalc } from "./calc.js";
import { benchDataplane } from "./dataplane.js";
import { benchLabUp } from "./lab-up.js";
import { benchPodEvent } from "./pod-event.js";
import { benchPolicy } from "./policy.js";

const BENCHES: Record<string, { needsRoot: boolean; run: () => Promise<void> }> = {
  calc: { needsRoot: false, run: benchCalc },
  "lab-up": { needsRoot: true, run: benchLabUp },
  dataplane: { needsRoot: true, run: benchDataplane },
  policy: { needsRoot: true, run: benchPolicy },
  "pod-event": { needsRoot: true, run: benchPodEvent },
};

const main = async (): Promise<void> => {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; valid: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
    const bench = BENCHES[name]!;
    if (bench.needsRoot && process.getuid?.() !== 0) {
      console.log(`# ${name}: skipped (needs root)`);
      continue;
    }
    console.log(`# ${name}`);
    await bench.run();
  }
};

await main();
