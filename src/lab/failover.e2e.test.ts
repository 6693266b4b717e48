// End to end (root): gateway failover in a 3-node lab. A two-replica gateway on node-2 (its
// replicas probe whoami every 200 ms), a client on node-1. One replica's upstream fails
// (`egw lab gateway upstream … down`): new connections move to the other, and come back after
// `up`. Every replica dead: the client fails closed (a counter in the router sees nothing from
// its node or pod IP) and recovers when one returns. With etcd paused, a replica's failure still
// moves new connections: the data-path failover needs no datastore. The lab runs with BFD
// liveness when this build's `egw up` has `--liveness`, else with readiness polling; deadlines
// are generous and nothing is timed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { infraNetns, nodeNetns, podNetns } from "./names.js";
import { readManifest } from "./state.js";
import { eventually, runCmd, runEgw } from "./testing/lab-cli.js";
import { labSession, nodeIP, WHOAMI, type GatewayJson, type PodJson } from "./testing/lab-session.js";
import { nftCounterPackets } from "./testing/policy-helpers.js";

const isRoot = process.getuid?.() === 0;

const NS = "fo";
const GW = "fo";
const CLIENT_NODE = "node-1";
const GATEWAY_NODE = "node-2";

const labYaml = [
  "apiVersion: egw.dev/v1",
  "kind: IPPool",
  `metadata: {name: ${GW}}`,
  'spec: {cidr: 10.10.6.0/29, allowedUses: [EgressGateway], nodeSelector: "!all()"}',
  "---",
  "apiVersion: v1",
  "kind: Namespace",
  `metadata: {name: ${NS}, annotations: {egress.egw.dev/selector: "egw.dev/gateway == '${GW}'"}}`,
  "---",
  "apiVersion: egw.dev/v1",
  "kind: EgressGateway",
  `metadata: {name: ${GW}, namespace: ${NS}}`,
  "spec:",
  "  replicas: 2",
  `  ipPools: [{name: ${GW}}]`,
  `  template: {spec: {nodeSelector: {kubernetes.io/hostname: ${GATEWAY_NODE}}, terminationGracePeriodSeconds: 2}}`,
  "  failureDetection:",
  '    icmpProbe: {ips: ["198.18.10.10"], intervalMs: 200, timeoutMs: 600}',
  "---",
  "apiVersion: v1",
  "kind: Pod",
  `metadata: {name: client, namespace: ${NS}}`,
  `spec: {nodeName: ${CLIENT_NODE}}`,
  "",
].join("\n");

interface Replica {
  name: string;
  egressIP: string;
}

describe("gateway failover in the lab (root)", { skip: !isRoot && "needs root", timeout: 1_200_000 }, () => {
  const session = labSession("fo");
  const { lab, stateDir, env, egw, manyConnections, runningPod, readyGateway } = session;
  const rtr = infraNetns(lab, "rtr");
  const clientNetns = podNetns(lab, NS, "client");
  let nodeCut = false;
  let bfd = false;
  let fencing = false;

  /** The gateway's replicas once both are ready, by name. */
  const replicas = async (): Promise<Replica[]> => {
    await readyGateway(NS, GW, 2);
    const gw = JSON.parse(await egw("get", "egw", "-n", NS, GW, "-o", "json")) as GatewayJson;
    return (gw.status?.replicas ?? [])
      .map((r) => ({ name: r.name, egressIP: r.egressIP ?? "" }))
      .sort((a, b) => a.name.localeCompare(b.name));
  };
  const upstream = (pod: string, state: "down" | "up"): Promise<string> =>
    egw("lab", "gateway", "upstream", `${NS}/${pod}`, state);
  /** Waits until `count` connections in a row all leave as `ips` (each of them seen). */
  const allLeaveAs = (ips: readonly string[], count = 20): Promise<string[]> => {
    let last: string[] = [];
    return eventually(
      `${count} connections from the client to leave as ${ips.join(" and ")}`,
      async () => {
        last = await manyConnections(NS, "client", WHOAMI, count);
        return last.every((s) => ips.includes(s)) && ips.every((ip) => last.includes(ip)) ? last : undefined;
      },
      { describeLast: () => last.map((s) => s || "(failed)").join(" ") },
    );
  };

  before(async () => {
    const help = await runEgw(env, ["up", "--help"]);
    bfd = help.stdout.includes("--liveness");
    await egw(
      "up",
      "--nodes",
      "3",
      "--name",
      lab,
      "--state-dir",
      stateDir,
      ...(bfd ? ["--liveness", "bfd"] : []),
    );
    nodeCut = (await runEgw(env, ["lab", "node", "--help"])).stdout.includes("cut");
    fencing = (await runEgw(env, ["gateway", "--help"])).stdout.includes("--fence-after");
    await session.apply(labYaml);
    await runningPod(NS, "client");
  });

  after(async () => {
    await runCmd("ip", ["netns", "exec", rtr, "nft", "delete", "table", "inet", "egwt_failover"]);
    await session.down();
  });

  it("an upstream failure moves new connections to the other replica; `up` brings them back", async () => {
    const [a, b] = await replicas();
    assert.ok(a && b);
    await allLeaveAs([a.egressIP, b.egressIP]);

    assert.match(await upstream(a.name, "down"), /upstream down/);
    // The replica's own probes fail (its path to whoami is gone), so it reports not ready.
    await eventually(`${a.name} to report Ready=False (ProbeFailed)`, async () => {
      const pod = await session.getPod(NS, a.name);
      const ready = pod?.status?.conditions?.find((c) => c.type === "Ready") as
        { status: string; reason?: string } | undefined;
      return ready?.status === "False" && ready.reason === "ProbeFailed" ? true : undefined;
    });
    await allLeaveAs([b.egressIP]);
    // Only its upstream is gone: the client's node still reaches it (its health port answers).
    const health = await runCmd("ip", [
      "netns",
      "exec",
      nodeNetns(lab, 1),
      "curl",
      "-s",
      "-m",
      "3",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://${(await session.getPod(NS, a.name))?.status?.podIP ?? ""}:8080/readiness`,
    ]);
    assert.notEqual(health.stdout.trim(), "000", "the replica's health port stopped answering");

    assert.match(await upstream(a.name, "up"), /upstream up/);
    await allLeaveAs([a.egressIP, b.egressIP]);
  });

  it("every replica dead: the client fails closed (nothing leaves from its node or pod IP) and recovers when one returns", async () => {
    const [a, b] = await replicas();
    assert.ok(a && b);
    const client = (await session.getPod(NS, "client")) as PodJson;
    const watched = [nodeIP(CLIENT_NODE), client.status?.podIP ?? ""];
    const counted = await runCmd(
      "ip",
      ["netns", "exec", rtr, "nft", "-f", "-"],
      [
        "table inet egwt_failover {",
        "  counter egwt_leak { }",
        "  chain egwt_forward {",
        "    type filter hook forward priority filter - 10; policy accept;",
        `    ip saddr { ${watched.join(", ")} } counter name "egwt_leak"`,
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    assert.equal(counted.code, 0, counted.stderr);
    const leaked = (): Promise<number> => nftCounterPackets(rtr, "egwt_failover", "egwt_leak");

    await upstream(a.name, "down");
    await upstream(b.name, "down");
    await eventually("every connection to fail", async () => {
      const seen = await manyConnections(NS, "client", WHOAMI, 5);
      return seen.every((s) => s === "") ? true : undefined;
    });
    assert.deepEqual(await manyConnections(NS, "client", WHOAMI, 10), Array<string>(10).fill(""));
    assert.equal(await leaked(), 0, "the router saw packets from the client's node or pod IP");

    await upstream(b.name, "up");
    await allLeaveAs([b.egressIP]);
    await upstream(a.name, "up");
    await allLeaveAs([a.egressIP, b.egressIP]);
    assert.equal(await leaked(), 0, "the router saw packets from the client's node or pod IP");
  });

  it("every replica's node cut: the client fails closed, and recovers when the node returns", async (t) => {
    if (!nodeCut) return t.skip("this build has no `egw lab node cut`");
    await replicas();
    const leaked = (): Promise<number> => nftCounterPackets(rtr, "egwt_failover", "egwt_leak");
    const before = await leaked();
    await egw("lab", "node", "cut", GATEWAY_NODE);
    try {
      await eventually("every connection to fail", async () => {
        const seen = await manyConnections(NS, "client", WHOAMI, 5);
        return seen.every((s) => s === "") ? true : undefined;
      });
      assert.deepEqual(await manyConnections(NS, "client", WHOAMI, 10), Array<string>(10).fill(""));
    } finally {
      await egw("lab", "node", "restore", GATEWAY_NODE);
    }
    // The replicas may have been replaced meanwhile (the node was lost): whatever runs now.
    const now = await replicas();
    await allLeaveAs(now.map((r) => r.egressIP));
    assert.equal(await leaked(), before, "the router saw packets from the client's node or pod IP");
  });

  it("with etcd paused, a replica's failure still moves new connections (failover needs no datastore)", async (t) => {
    // Gateways that cannot read the datastore fence themselves after a few seconds (all of them,
    // with etcd stopped); only liveness is fast enough to show the move before that.
    if (fencing && !bfd)
      return t.skip("gateways fence without the datastore before polling notices a failure");
    const [a, b] = await replicas();
    assert.ok(a && b);
    await allLeaveAs([a.egressIP, b.egressIP]);
    const etcd = readManifest(stateDir)?.processes.etcd?.pid;
    assert.ok(etcd !== undefined, "no etcd pid in the lab manifest");
    // `egw exec` looks the pod up in the datastore: go into the client's netns directly.
    const direct = async (count: number): Promise<string[]> => {
      const script = `for i in $(seq ${count}); do r=$(curl -s -m 2 ${WHOAMI}); echo "$r"; done`;
      const r = await runCmd("ip", ["netns", "exec", clientNetns, "sh", "-c", script]);
      return r.stdout
        .split("\n")
        .map((l) => l.trim())
        .slice(0, count);
    };
    process.kill(etcd, "SIGSTOP");
    try {
      // The upstream command works from the lab's files alone.
      await upstream(a.name, "down");
      let last: string[] = [];
      await eventually(
        `new connections to leave only as ${b.egressIP} while etcd is paused`,
        async () => {
          last = await direct(10);
          return last.every((s) => s === b.egressIP) ? true : undefined;
        },
        { describeLast: () => last.map((s) => s || "(failed)").join(" ") },
      );
    } finally {
      process.kill(etcd, "SIGCONT");
    }
    await upstream(a.name, "up");
    await allLeaveAs([a.egressIP, b.egressIP]);
  });
});
