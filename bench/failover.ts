// `npm run bench -- failover [--rounds N] [--scenarios LIST] [--replicas 2|3]` (root): how long new
// connections fail when a gateway replica fails, and what else breaks, with BFD liveness and
// with readiness polling (the baseline) side by side. Two labs run at once, one per liveness
// mode, each with a gateway whose replicas sit on their own nodes and a client pod on another
// node; rounds alternate between the labs. In each round the client opens a new connection to
// whoami every 20-50 ms (each one's start, outcome and egress IP recorded) and holds long-lived
// echo streams; then one replica is hit by the scenario's fault, the round watches until new
// connections have recovered, undoes the fault and waits for the initial state again.
// Scenarios: node-cut (the replica's node loses its network: `egw lab node cut`), pod-delete
// (`egw delete pod`), upstream (`egw lab gateway upstream … down`), drain (scale-down by one).
import { performance } from "node:perf_hooks";
import { ECHO_SERVICE } from "../src/lab/topology.js";
import { startFailoverLoad, type FailoverLoad } from "../src/lab/testing/failover-load.js";
import { WHOAMI } from "../src/lab/testing/lab-session.js";
import { sleep } from "../src/util/wait.js";
import {
  detectFeatures,
  FailoverLab,
  GRACE_SECONDS,
  PROBE,
  type Liveness,
  type Replica,
  type Scenario,
} from "./failover-lab.js";
import {
  SLOW_MS,
  measureRound,
  steady,
  summarize,
  watchVerdict,
  type RoundResult,
  type WatchSettings,
} from "./failover-measure.js";
import { fmtMs, printTable } from "./report.js";

const SCENARIOS: readonly Scenario[] = ["node-cut", "pod-delete", "upstream", "drain"];
const SCENARIO_LETTER: Record<Scenario, string> = {
  "node-cut": "a",
  "pod-delete": "b",
  upstream: "c",
  drain: "d",
};
/** Echo streams per replica (spread by the kernel's hash, so on average). */
const STREAMS_PER_REPLICA = 3;
const GAP_MS: [number, number] = [20, 50];
const CONN_TIMEOUT_MS = 2000;
/** A lab whose rounds go wrong this many times in a row is given up (the other one goes on). */
const MAX_ERRORS = 3;
const WATCH: WatchSettings = {
  minMs: 3000,
  maxMs: 30_000,
  quietMs: 2000,
  minSuccesses: 20,
  timeoutMs: CONN_TIMEOUT_MS,
};

interface Options {
  rounds: number;
  scenarios: Scenario[];
  replicas: number;
}

const parseOptions = (args: readonly string[]): Options => {
  const value = (name: string): string | undefined => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = args[i] ?? "";
    return a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[i + 1];
  };
  const rounds = Number(value("rounds") ?? 10);
  const replicas = Number(value("replicas") ?? 2);
  const wanted = (value("scenarios") ?? SCENARIOS.join(",")).split(",").map((s) => s.trim());
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s) || wanted.includes(SCENARIO_LETTER[s]));
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s === w || SCENARIO_LETTER[s] === w));
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds ${value("rounds")}: give a whole number >= 1`);
  if (replicas !== 2 && replicas !== 3) throw new Error(`--replicas ${value("replicas")}: give 2 or 3`);
  if (unknown.length > 0)
    throw new Error(`--scenarios: unknown ${unknown.join(", ")}; valid: ${SCENARIOS.join(", ")} (or a-d)`);
  return { rounds, scenarios, replicas };
};

/** Outages are whole milliseconds (connection start times); none at all reads "0 ms". */
const fmtOutage = (ms: number): string => (Number.isNaN(ms) ? "-" : ms < 1 ? "0 ms" : fmtMs(ms));

const clock = (): string => new Date().toISOString().slice(11, 19);

/** The replica to hit: one carrying streams while the others carry some too, rotating by round. */
const pickVictim = (
  replicas: readonly Replica[],
  sources: ReadonlyMap<number, string>,
  round: number,
): Replica => {
  const count = (ip: string): number => [...sources.values()].filter((s) => s === ip).length;
  const good = replicas.filter((r) => count(r.egressIP) > 0 && count(r.egressIP) < sources.size);
  const pool = good.length > 0 ? good : replicas;
  return pool[round % pool.length] ?? (replicas[0] as Replica);
};

const waitFor = async (what: string, timeoutMs: number, test: () => boolean): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};

type RoundOutcome = { ok: true; result: RoundResult; line: string } | { ok: false; why: string };

async function runRound(lab: FailoverLab, s: Scenario, round: number): Promise<RoundOutcome> {
  const streams = STREAMS_PER_REPLICA * lab.replicas;
  const replicas = await lab.initialState();
  const ips = replicas.map((r) => r.egressIP);
  let load: FailoverLoad | undefined;
  try {
    // Streams through every replica make "broken on the survivors" mean something: the kernel
    // spreads them by hash, so a start where one replica got none is started again (a few times).
    for (let attempt = 1; ; attempt++) {
      load?.kill();
      load = startFailoverLoad(lab.clientNetns, {
        url: WHOAMI,
        echo: { ip: ECHO_SERVICE.ip, port: ECHO_SERVICE.port },
        streams,
        gapMs: GAP_MS,
        timeoutMs: CONN_TIMEOUT_MS,
      });
      const l = load;
      try {
        await waitFor("a steady client", 60_000, () => {
          return l.streamSources().size === streams && steady(Date.now(), l.conns(), ips, 1500);
        });
      } catch {
        const failed = l.conns().filter((c) => !c.ok).length;
        return {
          ok: false,
          why: `no steady state (${failed} failed connections, ${l.streamSources().size} streams)`,
        };
      }
      const carrying = new Set(l.streamSources().values());
      if (attempt >= 5 || ips.every((ip) => carrying.has(ip))) break;
    }
    const l = load;
    let victim = s === "drain" ? lab.drainVictim(replicas) : pickVictim(replicas, l.streamSources(), round);
    if (!victim) return { ok: false, why: "no replica to hit" };
    await lab.fault(s, victim);
    const faultAt = Date.now();
    let graceEndsAt: number | undefined;
    if (s === "drain") {
      const drained = await lab.draining();
      victim = replicas.find((r) => r.name === drained) ?? victim;
      graceEndsAt = faultAt + GRACE_SECONDS * 1000;
      // Clients on the draining replica finish their work halfway through the grace period.
      const ip = victim.egressIP;
      setTimeout(() => l.closeStreams(ip), Math.max(0, faultAt + (GRACE_SECONDS * 1000) / 2 - Date.now()));
    }
    const watch: WatchSettings = s === "drain" ? { ...WATCH, minMs: GRACE_SECONDS * 1000 + 1000 } : WATCH;
    let verdict = watchVerdict(Date.now(), faultAt, l.conns(), watch);
    while (verdict === "watching") {
      await sleep(200);
      verdict = watchVerdict(Date.now(), faultAt, l.conns(), watch);
    }
    await Promise.race([l.end(), sleep(20_000)]);
    const result = measureRound({
      faultAt,
      conns: l.conns(),
      streams: l.streamEvents(),
      victimIP: victim.egressIP,
      censored: verdict === "censored",
      ...(graceEndsAt === undefined ? {} : { graceEndsAt }),
    });
    const line =
      `victim ${victim.name} (${victim.egressIP}) on ${victim.node}: outage ${result.censored ? ">" : ""}` +
      `${fmtOutage(result.outageMs)}, ${result.failed}/${result.conns} connections failed ` +
      `(${result.slow} slow), ` +
      `survivor streams ${result.survivorBroken}/${result.survivorStreams} broken` +
      (result.graceEnded === undefined
        ? ""
        : `, within grace ${result.graceBroken}/${result.graceEnded} broken`);
    return { ok: true, result, line };
  } finally {
    load?.kill();
    await lab.restore();
  }
}

const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : a > 0 ? "inf" : "-");

function printResults(labs: readonly FailoverLab[], results: Map<string, RoundResult[]>, o: Options): void {
  const rows: string[][] = [
    [
      "scenario",
      "liveness",
      "rounds",
      "outage p50",
      "outage p99",
      "max",
      "failed conns",
      "survivor streams broken",
      "broken within grace",
      "p50 bfd/poll",
      "p99 bfd/poll",
    ],
  ];
  for (const s of o.scenarios) {
    const sums = new Map(labs.map((l) => [l.liveness, summarize(results.get(`${s}/${l.liveness}`) ?? [])]));
    const bfd = sums.get("bfd");
    const poll = sums.get("poll");
    for (const l of labs) {
      const sum = sums.get(l.liveness);
      if (!sum || sum.rounds === 0) {
        rows.push([s, l.liveness, "0", "-", "-", "-", "-", "-", "-", "", ""]);
        continue;
      }
      const cens = sum.censored > 0 ? ` (${sum.censored} cut off)` : "";
      rows.push([
        s,
        l.liveness,
        `${sum.rounds}${cens}`,
        fmtOutage(sum.outageP50),
        fmtOutage(sum.outageP99),
        fmtOutage(sum.outageMax),
        `${sum.failed}/${sum.conns} (${sum.slow} slow)`,
        `${sum.survivorBroken}/${sum.survivorStreams}`,
        sum.graceEnded === undefined ? "-" : `${sum.graceBroken}/${sum.graceEnded}`,
        l.liveness === "bfd" && bfd && poll && poll.rounds > 0 ? ratio(bfd.outageP50, poll.outageP50) : "",
        l.liveness === "bfd" && bfd && poll && poll.rounds > 0 ? ratio(bfd.outageP99, poll.outageP99) : "",
      ]);
    }
  }
  printTable(rows);
  const noise = [...results.values()].flat().reduce((a, r) => a + r.failedBefore, 0);
  if (noise > 0)
    console.log(`note: ${noise} connection(s) failed more than 1 s before a fault (not counted)`);
}

export async function benchFailover(args: readonly string[] = []): Promise<void> {
  const o = parseOptions(args);
  const started = performance.now();
  const features = await detectFeatures();
  const modes: Liveness[] = features.liveness ? ["bfd", "poll"] : ["poll"];
  if (!features.liveness)
    console.log(
      "bfd: skipped (this build's `egw up` has no --liveness; only today's readiness polling runs)",
    );
  if (!features.nodeCut) console.log("node-cut: skipped (this build has no `egw lab node cut`)");
  console.log(
    `${o.rounds} rounds per scenario and liveness mode, interleaved; ${o.replicas} replicas on their own nodes, ` +
      `the client on node-${o.replicas + 1}: a new connection to whoami every ${GAP_MS[0]}-${GAP_MS[1]} ms ` +
      `(failed: no answer within ${CONN_TIMEOUT_MS} ms, or slow: answered after ${SLOW_MS} ms, i.e. after a ` +
      `SYN retransmission) and ${STREAMS_PER_REPLICA * o.replicas} echo streams`,
  );
  console.log(
    `gateway failureDetection: icmpProbe ${PROBE.ip} every ${PROBE.intervalMs} ms, timeout ${PROBE.timeoutMs} ms; ` +
      `liveness settings default; drain grace ${GRACE_SECONDS} s (streams on the draining replica end after ` +
      `${GRACE_SECONDS / 2} s); outage = fault (its command returned) -> start of the last failed connection`,
  );
  const labs = modes.map((m) => new FailoverLab(m, o.replicas, features));
  const results = new Map<string, RoundResult[]>();
  const errors = new Map<FailoverLab, number>();
  try {
    for (const lab of labs) {
      const t = performance.now();
      await lab.up();
      await lab.initialState();
      console.log(`lab ${lab.name} (${lab.liveness}) up in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }
    for (let round = 0; round < o.rounds; round++) {
      for (const s of o.scenarios) {
        // Alternate which mode goes first, so neither always follows the other's restore.
        const order = round % 2 === 0 ? labs : [...labs].reverse();
        for (const lab of order) {
          if (!lab.supports(s)) continue;
          if ((errors.get(lab) ?? 0) >= MAX_ERRORS) continue;
          const key = `${s}/${lab.liveness}`;
          const head = `  [${clock()}] ${s} ${lab.liveness} round ${round + 1}/${o.rounds}:`;
          const outcome = await runRound(lab, s, round).catch((e: unknown): RoundOutcome => ({
            ok: false,
            why: `failed: ${(e as Error).message}`,
          }));
          if (!outcome.ok) {
            errors.set(lab, (errors.get(lab) ?? 0) + 1);
            console.log(`${head} skipped: ${outcome.why}`);
            if ((errors.get(lab) ?? 0) >= MAX_ERRORS)
              console.log(
                `  lab ${lab.name} (${lab.liveness}): ${MAX_ERRORS} rounds in a row went wrong; no more rounds on it`,
              );
            continue;
          }
          errors.set(lab, 0);
          results.set(key, [...(results.get(key) ?? []), outcome.result]);
          console.log(`${head} ${outcome.line}`);
        }
      }
    }
    printResults(labs, results, {
      ...o,
      scenarios: o.scenarios.filter((s) => labs.some((l) => l.supports(s))),
    });
  } finally {
    for (const lab of labs) await lab.down();
    console.log(`total ${((performance.now() - started) / 60_000).toFixed(1)} min`);
  }
}
