// Interop (root, BIRD 2): BIRD's `protocol bfd` in one network namespace and an egw BFD endpoint
// (testing/endpoint-process.ts) in another, joined by a veth. Checks that the two agree on the
// session through its life: Up; Down when the egw side dies; Up with a restarted egw side; egw's
// AdminDown seen by BIRD; egw's side Down when BIRD dies. BIRD's view is read with `birdc show bfd
// sessions` and its packet trace; egw's from the process's change lines. Waits have generous
// guards but nothing is timed. Everything is removed in after(), also when a test fails.
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

const BIRD_CONF = `log "${FILES.log}" all;
router id ${BIRD_IP};
protocol device {}
protocol bfd {
  debug { states, events, packets };
  interface "${LINK}" { interval 100 ms; multiplier 3; };
  neighbor ${EGW_IP} dev "${LINK}";
}
`;

const processes = new Processes();

interface EgwSide {
  child: ChildProcessWithoutNullStreams;
  /** The last change line the process printed for BIRD's session. */
  last: { state?: string; remoteState?: string; localDiag?: number; remoteDiag?: number };
}

let bird: ChildProcessWithoutNullStreams | undefined;
let egw: EgwSide | undefined;

/** Starts the egw endpoint in its namespace: passive (accepting BIRD) or active (towards BIRD). */
async function startEgw(role: "passive" | "active"): Promise<EgwSide> {
  const argv = ["node", PEER_SCRIPT, "--address", EGW_IP, "--interval", "100", "--multiplier", "3"];
  argv.push(...(role === "passive" ? ["--accept"] : ["--peer", BIRD_IP]));
  const child = processes.start(NS.egw, argv);
  const side: EgwSide = { child, last: {} };
  let buf = "";
  child.stdout.on("data", (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      if (!l.startsWith("{")) continue;
      const c = JSON.parse(l) as { peer: string } & EgwSide["last"];
      if (c.peer === BIRD_IP) side.last = c;
    }
  });
  await lineFrom(child, (l) => l === "ready");
  return side;
}

/** BIRD's state for the egw session as `birdc show bfd sessions` prints it (Up, Down, Init, …). */
async function birdState(): Promise<string | undefined> {
  const r = await run(["ip", "netns", "exec", NS.bird, "birdc", "-s", FILES.sock, "show", "bfd", "sessions"]);
  if (r.code !== 0) return undefined;
  const row = r.out.split("\n").find((l) => l.trim().startsWith(`${EGW_IP} `));
  return row?.trim().split(/\s+/)[2];
}

const birdSays = (state: string): Promise<true> =>
  waitFor(`BIRD to show the session ${state}`, async () =>
    (await birdState()) === state ? true : undefined,
  );

const egwSays = (side: EgwSide, state: string): Promise<true> =>
  waitFor(`egw to report the session ${state}`, () => (side.last.state === state ? true : undefined));

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
    writeFileSync(FILES.conf, BIRD_CONF);
    bird = processes.start(NS.bird, ["bird", "-f", "-c", FILES.conf, "-s", FILES.sock, "-P", FILES.pid]);
    await waitFor("BIRD's control socket", async () =>
      (await birdState()) !== undefined ? true : undefined,
    );
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
    assert.equal(egw.last.remoteState, "Up");
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

  it("BIRD sees egw's AdminDown and takes the session Down; it comes back after", async () => {
    const side = egw!;
    side.child.stdin.write(`admin-down ${BfdDiag.AdminDown}\n`);
    await egwSays(side, "AdminDown");
    await birdSays("Down");
    await waitFor("BIRD to trace a received AdminDown", () =>
      birdLog().includes(`CTL received from ${EGW_IP} [AdminDown`) ? true : undefined,
    );
    await waitFor("egw to see BIRD's Down", () => (side.last.remoteState === "Down" ? true : undefined));
    assert.equal(side.last.remoteDiag, BfdDiag.NeighborDown, "BIRD went Down because its neighbour did");
    assert.equal(side.last.localDiag, BfdDiag.AdminDown);
    side.child.stdin.write("normal\n");
    await birdSays("Up");
    await egwSays(side, "Up");
  });

  it("the egw side goes Down (detection time expired) when BIRD dies", async () => {
    bird!.kill("SIGKILL");
    await egwSays(egw!, "Down");
    assert.equal(egw!.last.localDiag, BfdDiag.TimeExpired);
  });
});
