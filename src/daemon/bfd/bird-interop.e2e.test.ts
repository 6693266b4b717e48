// Interop (root, BIRD 2): BIRD's `protocol bfd` in one network namespace and an egw BFD endpoint
// (testing/endpoint-process.ts) in another, joined by a veth. Checks that the two agree on the
// session through its life: Up; Down when the egw side dies; Up with a restarted egw side; timer
// changes from either side carried by Poll/Final without the session going down; egw's AdminDown
// seen by BIRD; egw's side Down when BIRD dies. BIRD's view is read with `birdc show bfd sessions`
// and its packet trace; egw's from the process's output. Waits have generous guards but nothing
// is timed. Everything is removed in after(), also when a test fails.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deleteNetns, lineFrom, Processes, run, sh, waitFor } from "../../dataplane/testing/netns.js";
import { BfdDiag } from "./packet.js";
import type { BfdPeerState } from "./session.js";

const PREFIX = `egwbfd${randomBytes(3).toString("hex")}-`;
const NS = { bird: `${PREFIX}bird`, egw: `${PREFIX}egw` };
const LINK = "bfd0";
const BIRD_IP = "10.213.0.1";
const EGW_IP = "10.213.0.2";
const PEER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "testing", "endpoint-process.js");

const dir = mkdtempSync(join(tmpdir(), "egw-bfd-bird-"));
const FILES = {
  conf: join(dir, "bird.conf"),
  sock: join(dir, "bird.ctl"),
  pid: join(dir, "bird.pid"),
  log: join(dir, "bird.log"),
};

const birdConf = (intervalMs: number): string => `log "${FILES.log}" all;
router id ${BIRD_IP};
protocol device {}
protocol bfd {
  debug { states, events, packets };
  interface "${LINK}" { interval ${intervalMs} ms; multiplier 3; };
  neighbor ${EGW_IP} dev "${LINK}";
}
`;

const TTL_COUNTERS = `table ip egw_bfd_test {
  counter rfc5881 {}
  counter other {}
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr ${EGW_IP} ip ttl 255 udp sport 49152-65535 udp dport 3784 counter name "rfc5881" accept
    ip saddr ${EGW_IP} udp dport 3784 counter name "other" accept
  }
}
`;

/** Packets counted by the named counter in BIRD's namespace. */
async function counted(name: string): Promise<number> {
  const out = await sh(`ip netns exec ${NS.bird} nft list counter ip egw_bfd_test ${name}`);
  return Number(/packets (\d+)/.exec(out)?.[1] ?? NaN);
}

const processes = new Processes();

type Change = Pick<BfdPeerState, "state" | "remoteState" | "localDiag" | "remoteDiag">;

interface EgwSide {
  child: ChildProcessWithoutNullStreams;
  /** Every change line the process printed for BIRD's session, in order. */
  changes: Change[];
  /** The session as the last `show` printed it. */
  shown: BfdPeerState | undefined;
}

let bird: ChildProcessWithoutNullStreams | undefined;
let egw: EgwSide | undefined;

const lastChange = (side: EgwSide): Partial<Change> => side.changes.at(-1) ?? {};

/** Starts the egw endpoint in its namespace: passive (accepting BIRD) or active (towards BIRD). */
async function startEgw(role: "passive" | "active"): Promise<EgwSide> {
  const argv = ["node", PEER_SCRIPT, "--address", EGW_IP, "--interval", "100", "--multiplier", "3"];
  argv.push(...(role === "passive" ? ["--accept"] : ["--peer", BIRD_IP]));
  const child = processes.start(NS.egw, argv);
  const side: EgwSide = { child, changes: [], shown: undefined };
  let buf = "";
  child.stdout.on("data", (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      if (!l.startsWith("{")) continue;
      const o = JSON.parse(l) as ({ peer: string } & Change) | { peers: Record<string, BfdPeerState> };
      if ("peers" in o) side.shown = o.peers[BIRD_IP];
      else if (o.peer === BIRD_IP) side.changes.push(o);
    }
  });
  await lineFrom(child, (l) => l === "ready");
  return side;
}

/** egw's session with BIRD, freshly printed. */
async function egwShow(side: EgwSide): Promise<BfdPeerState | undefined> {
  side.shown = undefined;
  side.child.stdin.write("show\n");
  return waitFor("egw's show", () => side.shown, 5000);
}

interface BirdRow {
  state: string;
  intervalS: string;
  timeoutS: string;
}

/** BIRD's row for the egw session in `birdc show bfd sessions` (State, Interval, Timeout columns). */
async function birdRow(): Promise<BirdRow | undefined> {
  const r = await run(["ip", "netns", "exec", NS.bird, "birdc", "-s", FILES.sock, "show", "bfd", "sessions"]);
  if (r.code !== 0) return undefined;
  const row = r.out.split("\n").find((l) => l.trim().startsWith(`${EGW_IP} `));
  if (row === undefined) return undefined;
  // IP address, Interface, State, Since (date and/or time), Interval, Timeout
  const f = row.trim().split(/\s+/);
  return { state: f[2] ?? "", intervalS: f.at(-2) ?? "", timeoutS: f.at(-1) ?? "" };
}

const birdShows = (what: string, match: (r: BirdRow) => boolean): Promise<true> =>
  waitFor(`BIRD to show the session ${what}`, async () => {
    const r = await birdRow();
    return r !== undefined && match(r) ? true : undefined;
  });

const birdSays = (state: string): Promise<true> => birdShows(state, (r) => r.state === state);

const egwSays = (side: EgwSide, state: string): Promise<true> =>
  waitFor(`egw to report the session ${state}`, () => (lastChange(side).state === state ? true : undefined));

const birdLog = (): string => {
  try {
    return readFileSync(FILES.log, "utf8");
  } catch {
    return "";
  }
};

describe("BFD interop with BIRD 2", { concurrency: false }, () => {
  before(async () => {
    const which = await run(["sh", "-c", "command -v bird && command -v birdc"]);
    assert.equal(
      which.code,
      0,
      "bird and birdc are needed: run scripts/install-system-deps.sh (package bird2)",
    );
    await sh(`ip netns add ${NS.bird} && ip netns add ${NS.egw}`);
    await sh(
      [
        `ip -n ${NS.bird} link add ${LINK} type veth peer name ${LINK} netns ${NS.egw}`,
        `ip -n ${NS.bird} addr add ${BIRD_IP}/30 dev ${LINK}`,
        `ip -n ${NS.egw} addr add ${EGW_IP}/30 dev ${LINK}`,
        ...[NS.bird, NS.egw].flatMap((ns) => [
          `ip -n ${ns} link set lo up`,
          `ip -n ${ns} link set ${LINK} up`,
        ]),
      ].join(" && "),
    );
    // Counts what reaches BIRD from egw: RFC 5881 packets (TTL 255, source port 49152–65535,
    // destination 3784) and other packets egw sends to 3784.
    await sh(`ip netns exec ${NS.bird} nft -f -`, TTL_COUNTERS);
    writeFileSync(FILES.conf, birdConf(100));
    bird = processes.start(NS.bird, ["bird", "-f", "-c", FILES.conf, "-s", FILES.sock, "-P", FILES.pid]);
    await birdShows("configured", () => true);
  });

  after(async () => {
    processes.killAll();
    await deleteNetns([NS.bird, NS.egw]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("comes Up on both sides with a passive egw endpoint", async () => {
    egw = await startEgw("passive");
    await birdSays("Up");
    await egwSays(egw, "Up");
    assert.equal(lastChange(egw).remoteState, "Up");
    await birdShows("at 100 ms × 3", (r) => r.intervalS === "0.100" && r.timeoutS === "0.300");
    assert.ok((await counted("rfc5881")) > 0, "BIRD got packets with TTL 255 from a port in 49152-65535");
    assert.equal(await counted("other"), 0, "and no other packet to 3784");
  });

  it("BIRD takes the session Down when the egw side dies", async () => {
    egw!.child.kill("SIGKILL");
    await birdSays("Down");
  });

  it("comes Up again with a restarted (active) egw endpoint", async () => {
    egw = await startEgw("active");
    await birdSays("Up");
    await egwSays(egw, "Up");
  });

  it("BIRD's timer change (its Poll) is answered: egw follows, the session stays Up", async () => {
    const side = egw!;
    const before = side.changes.length;
    const logFrom = birdLog().length;
    writeFileSync(FILES.conf, birdConf(300));
    await sh(`ip netns exec ${NS.bird} birdc -s ${FILES.sock} configure`);
    await birdShows("at 300 ms", (r) => r.intervalS === "0.300" && r.timeoutS === "0.900");
    await waitFor("egw to detect BIRD by 3 × 300 ms", async () =>
      (await egwShow(side))?.detectionTimeMs === 900 ? true : undefined,
    );
    const trace = birdLog().slice(logFrom);
    assert.match(trace, /Sending CTL to \S+ \[Up P\]/, "BIRD polled");
    assert.match(trace, new RegExp(`CTL received from ${EGW_IP} \\[Up F\\]`), "egw answered with Final");
    assert.deepEqual(side.changes.slice(before), [], "no state change on either side");
    assert.equal((await birdRow())?.state, "Up");
  });

  it("egw's timer change (our Poll) reaches BIRD: the session stays Up", async () => {
    const side = egw!;
    const before = side.changes.length;
    const logFrom = birdLog().length;
    side.child.stdin.write("timers 200 4\n");
    // BIRD detects egw by egw's multiplier 4 × max(BIRD's 300 ms receive, egw's 200 ms send).
    await birdShows("timing egw out after 4 × 300 ms", (r) => r.timeoutS === "1.200");
    const trace = birdLog().slice(logFrom);
    assert.match(trace, new RegExp(`CTL received from ${EGW_IP} \\[Up P\\]`), "egw polled");
    assert.match(trace, /Sending CTL to \S+ \[Up F\]/, "BIRD answered with Final");
    assert.deepEqual(side.changes.slice(before), [], "no state change on either side");
    assert.equal((await birdRow())?.state, "Up");
  });

  it("BIRD sees egw's AdminDown and takes the session Down; it comes back after", async () => {
    const side = egw!;
    side.child.stdin.write(`admin-down ${BfdDiag.AdminDown}\n`);
    await egwSays(side, "AdminDown");
    await birdSays("Down");
    await waitFor("BIRD to trace a received AdminDown", () =>
      birdLog().includes(`CTL received from ${EGW_IP} [AdminDown`) ? true : undefined,
    );
    await waitFor("egw to see BIRD's Down", () =>
      lastChange(side).remoteState === "Down" ? true : undefined,
    );
    assert.equal(
      lastChange(side).remoteDiag,
      BfdDiag.NeighborDown,
      "BIRD went Down because its neighbour did",
    );
    assert.equal(lastChange(side).localDiag, BfdDiag.AdminDown);
    side.child.stdin.write("normal\n");
    await birdSays("Up");
    await egwSays(side, "Up");
  });

  it("the egw side goes Down (detection time expired) when BIRD dies", async () => {
    bird!.kill("SIGKILL");
    await egwSays(egw!, "Down");
    assert.equal(lastChange(egw!).localDiag, BfdDiag.TimeExpired);
  });
});
