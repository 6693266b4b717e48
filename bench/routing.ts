// `npm run bench -- routing [--rounds N]` (root, named only: two labs, about 5 minutes): how fast
// the lab router learns and forgets egress IPs.
//   1. A new replica → its egress IP routed by the router, BGP (the node's BIRD announces it once
//      the replica is Ready) against static routes (the lab runtime writes one as soon as the pod
//      is wired, before it is Ready): two 2-node labs side by side, rounds interleaved. Measured
//      from the pod's creation and from its Ready condition (a negative time: the route came
//      first) to the first poll (every 20 ms) that sees the route in the router's kernel.
//   2. A gateway node cut off (`egw lab node cut`, timed from its return) → its route gone from the
//      router, BGP with BFD against BGP without (hold timer only, 9 s here, BIRD's default 240 s),
//      in the BGP lab.
//   3. Firewall feeds at 1,000 gateways (bench/feeds.ts, no lab): recomputing every address group,
//      and requests/s of one feed over loopback, plain GET (200) against conditional GET (304).
// Times are reported, never asserted; the ratio of a pair is what to compare.
import { mkdirSync } from "node:fs";
import { openDatastore } from "../src/datastore/connect.js";
import type { Datastore } from "../src/datastore/types.js";
import { conditionOf } from "../src/api/conditions.js";
import { ANN_GATEWAY_EGRESS_IP } from "../src/api/well-known.js";
import type { Resource } from "../src/api/meta.js";
import { infraNetns } from "../src/lab/names.js";
import { LAB_HOLD_TIME_SECONDS, LAB_ROUTER_AS } from "../src/lab/router-bird.js";
import { reconfigureRouterBird, writeRouterBirdConfig } from "../src/lab/router-control.js";
import { readManifest } from "../src/lab/state.js";
import { planTopology } from "../src/lab/topology.js";
import { runCmd } from "../src/lab/testing/lab-cli.js";
import { labSession, nodeIP, type LabSession } from "../src/lab/testing/lab-session.js";
import { sleep } from "../src/util/wait.js";
import { measureFeeds } from "./feeds.js";
import { fmtMs, median, printTable } from "./report.js";

const NS = "rbench";
const GW = "rbench";
const GATEWAY_NODE = "node-2";
const POLL_MS = 20;
const DEADLINE_MS = 120_000;

const gatewayYaml = (replicas: number): string =>
  [
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    `metadata: {name: ${GW}}`,
    'spec: {cidr: 10.10.6.0/28, allowedUses: [EgressGateway], nodeSelector: "!all()"}',
    "---",
    "apiVersion: v1",
    "kind: Namespace",
    `metadata: {name: ${NS}}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: ${GW}, namespace: ${NS}}`,
    "spec:",
    `  replicas: ${replicas}`,
    `  ipPools: [{name: ${GW}}]`,
    "  template:",
    "    spec:",
    "      terminationGracePeriodSeconds: 1",
    `      nodeSelector: {kubernetes.io/hostname: ${GATEWAY_NODE}}`,
    "",
  ].join("\n");

type Mode = "bgp" | "static";

class RoutingLab {
  readonly session: LabSession;
  private store: Datastore | undefined;

  constructor(readonly mode: Mode) {
    this.session = labSession(mode === "bgp" ? "rtb" : "rts");
  }

  get rtr(): string {
    return infraNetns(this.session.lab, "rtr");
  }

  async up(): Promise<void> {
    const s = this.session;
    mkdirSync(s.stateDir, { recursive: true });
    await s.egw(
      "up",
      "--nodes",
      "2",
      "--name",
      s.lab,
      "--state-dir",
      s.stateDir,
      ...(this.mode === "static" ? ["--no-bgp"] : []),
    );
    const m = readManifest(s.stateDir);
    if (!m?.etcdEndpoint) throw new Error(`lab ${s.lab} has no datastore`);
    const store = openDatastore({ type: "etcd", etcdEndpoints: [m.etcdEndpoint], timeoutMs: 3000 });
    if (!store.ok) throw new Error(store.error.message);
    this.store = store.value;
    await s.apply(gatewayYaml(0));
  }

  async down(): Promise<void> {
    await this.store?.close();
    await this.session.down();
  }

  /** The router kernel's egress-IP routes: destination → next hop. */
  async routerRoutes(): Promise<Map<string, string>> {
    const r = await runCmd("ip", ["-n", this.rtr, "-j", "-4", "route", "show", "table", "main"]);
    const rows = JSON.parse(r.stdout || "[]") as { dst: string; gateway?: string }[];
    return new Map(rows.filter((x) => x.dst.startsWith("10.10.6.")).map((x) => [x.dst, x.gateway ?? ""]));
  }

  async replicaPods(): Promise<Resource[]> {
    const pods = await this.store?.list("Pod", { namespace: NS });
    return pods?.ok ? pods.value.items : [];
  }

  /** Polls until `done` holds; the time it first held. */
  async until(what: string, done: () => Promise<boolean>): Promise<number> {
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      if (await done()) return Date.now();
      if (Date.now() > deadline) throw new Error(`lab ${this.session.lab}: timed out waiting for ${what}`);
      await sleep(POLL_MS);
    }
  }

  /** Scales 0 → 1 and times the route; then back to 0 with no route left. */
  async newReplicaRound(): Promise<{ fromCreation: number; fromReady: number }> {
    await this.session.apply(gatewayYaml(1));
    let egressIP = "";
    const routed = await this.until("the new replica's route on the router", async () => {
      const pod = (await this.replicaPods())[0];
      egressIP = pod?.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? egressIP;
      return egressIP !== "" && (await this.routerRoutes()).get(egressIP) === nodeIP(GATEWAY_NODE);
    });
    let ready = Number.NaN;
    let created = Number.NaN;
    await this.until("the new replica to be Ready", async () => {
      const pod = (await this.replicaPods())[0];
      const c = pod ? conditionOf(pod, "Ready") : undefined;
      created = Date.parse(pod?.metadata.creationTimestamp ?? "");
      if (c?.status !== "True" || typeof c.lastTransitionTime !== "string") return false;
      ready = Date.parse(c.lastTransitionTime);
      return true;
    });
    await this.session.apply(gatewayYaml(0));
    await this.until("no replica and no route", async () =>
      (await this.replicaPods()).length === 0 ? (await this.routerRoutes()).size === 0 : false,
    );
    return { fromCreation: routed - created, fromReady: routed - ready };
  }

  /** BFD on or off on both ends: the BGPPeer (the nodes' BIRD) and the router's config. */
  async setBfd(on: boolean): Promise<void> {
    const s = this.session;
    await s.apply(
      [
        "apiVersion: egw.dev/v1",
        "kind: BGPPeer",
        "metadata: {name: lab-router}",
        `spec: {peerIP: 172.30.0.1, asNumber: ${LAB_ROUTER_AS}, bfd: ${on}, holdTimeSeconds: ${LAB_HOLD_TIME_SECONDS}}`,
        "",
      ].join("\n"),
    );
    const m = readManifest(s.stateDir);
    const t = m ? planTopology(m.name, m.nodes) : undefined;
    if (!t?.ok) throw new Error(`lab ${s.lab}: no topology`);
    const w = await writeRouterBirdConfig(s.stateDir, t.value, { bfd: on });
    if (!w.ok) throw new Error(w.error);
    const r = await reconfigureRouterBird(s.stateDir);
    if (!r.ok) throw new Error(r.error);
  }

  /** With one replica routed: cut its node, time the withdrawal, restore and wait for the route. */
  async nodeCutRound(): Promise<number> {
    const s = this.session;
    await s.apply(gatewayYaml(1));
    const ips = await s.readyGateway(NS, GW, 1);
    const ip = ips[0] ?? "";
    await this.until("the replica's route", async () => (await this.routerRoutes()).has(ip));
    await s.egw("lab", "node", "cut", GATEWAY_NODE);
    // From the cut command's return: its port is down by then; the CLI's start-up is not counted.
    const cut = Date.now();
    try {
      const gone = await this.until(
        "the cut node's route to go",
        async () => !(await this.routerRoutes()).has(ip),
      );
      return gone - cut;
    } finally {
      await s.egw("lab", "node", "restore", GATEWAY_NODE);
      await s.apply(gatewayYaml(0));
      await this.until("no replica and no route", async () =>
        (await this.replicaPods()).length === 0 ? (await this.routerRoutes()).size === 0 : false,
      );
    }
  }
}

const roundsFlag = (flags: string[]): number => {
  const i = flags.indexOf("--rounds");
  const n = i >= 0 ? Number(flags[i + 1]) : 5;
  return Number.isInteger(n) && n > 0 ? n : 5;
};

export async function benchRouting(flags: string[]): Promise<void> {
  const rounds = roundsFlag(flags);
  const labs = [new RoutingLab("bgp"), new RoutingLab("static")];
  const [bgp] = labs;
  const fromCreation: Record<Mode, number[]> = { bgp: [], static: [] };
  const fromReady: Record<Mode, number[]> = { bgp: [], static: [] };
  const cut: Record<"bfd" | "hold", number[]> = { bfd: [], hold: [] };
  try {
    for (const lab of labs) await lab.up();
    for (let i = 0; i < rounds; i++) {
      for (const lab of i % 2 === 0 ? labs : [...labs].reverse()) {
        const r = await lab.newReplicaRound();
        fromCreation[lab.mode].push(r.fromCreation);
        fromReady[lab.mode].push(r.fromReady);
      }
    }
    if (bgp) {
      const cutRounds = Math.max(1, Math.ceil(rounds / 2));
      for (let i = 0; i < cutRounds; i++) {
        for (const bfd of i % 2 === 0 ? [true, false] : [false, true]) {
          await bgp.setBfd(bfd);
          cut[bfd ? "bfd" : "hold"].push(await bgp.nodeCutRound());
        }
      }
      await bgp.setBfd(true);
    }
  } finally {
    for (const lab of labs) await lab.down().catch(() => undefined);
  }
  const ms = (x: number): string => (x < 0 ? `-${fmtMs(-x)}` : fmtMs(x));
  /** A ratio to `base` only where both are durations (a negative time has none). */
  const row = (what: string, xs: number[], base: number[]): string[] => [
    what,
    String(xs.length),
    ms(median(xs)),
    ms(Math.min(...xs)),
    ms(Math.max(...xs)),
    median(base) <= 0 ? "-" : base === xs ? "1.00x" : `${(median(xs) / median(base)).toFixed(2)}x`,
  ];
  printTable([
    ["new replica → route on the router (2-node labs)", "n", "median", "min", "max", "ratio"],
    row("static, from pod creation", fromCreation.static, fromCreation.static),
    row("BGP, from pod creation", fromCreation.bgp, fromCreation.static),
    row("static, from pod Ready (< 0: routed before Ready)", fromReady.static, fromReady.static),
    row("BGP, from pod Ready", fromReady.bgp, fromReady.bgp),
  ]);
  console.log("");
  printTable([
    ["gateway node cut → route withdrawn (BGP lab)", "n", "median", "min", "max", "ratio"],
    row("BFD on (100 ms × 3)", cut.bfd, cut.bfd),
    row(`BFD off (hold time ${LAB_HOLD_TIME_SECONDS} s)`, cut.hold, cut.bfd),
  ]);
  const feeds = await measureFeeds(1000);
  console.log("");
  printTable([
    [
      "firewall feeds (server and client in one Node process)",
      "gateways",
      "groups",
      "recompute all",
      "req/s",
      "ratio",
    ],
    [
      "GET 200",
      String(feeds.gateways),
      String(feeds.groups),
      fmtMs(feeds.recomputeMs),
      feeds.plainPerSecond.toFixed(0),
      "1.00x",
    ],
    [
      "GET 304 (If-None-Match)",
      String(feeds.gateways),
      String(feeds.groups),
      fmtMs(feeds.recomputeMs),
      feeds.notModifiedPerSecond.toFixed(0),
      `${(feeds.notModifiedPerSecond / feeds.plainPerSecond).toFixed(2)}x`,
    ],
  ]);
}
