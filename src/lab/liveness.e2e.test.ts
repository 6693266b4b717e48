// End to end (root): data-path liveness in a 3-node lab (`egw up`, agents in bfd mode). A client
// pod on node-1 uses a 2-replica gateway with 100 ms × 3 sessions and a 2 s hold-down. One
// replica's pod stops forwarding anything (a lab-made nft table in its netns drops every packet
// it would send or forward: its tunnel replies, its SNATed traffic and its BFD answers). After
// node-1's agent logs the failover, every new connection succeeds through the other replica; the
// Node's status says the replica is Down; when the replica answers again it is held, then used.
// Then the same with the lab's etcd stopped (SIGSTOP): failover needs no datastore.
// Behaviour is asserted, not timing.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { agentComponent } from "./components.js";
import { podNetns } from "./names.js";
import { labPaths, readManifest } from "./state.js";
import { eventually, runCmd } from "./testing/lab-cli.js";
import { labSession, WHOAMI } from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;
const NS = "lively";

const YAML = `apiVersion: egw.dev/v1
kind: IPPool
metadata: {name: lively}
spec: {cidr: 10.10.6.0/29, allowedUses: [EgressGateway], nodeSelector: "!all()"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${NS}
  annotations: {egress.egw.dev/selector: "egw.dev/gateway == 'lively'"}
---
apiVersion: egw.dev/v1
kind: EgressGateway
metadata: {name: lively, namespace: ${NS}}
spec:
  replicas: 2
  ipPools: [{name: lively}]
  failureDetection: {liveness: {intervalMs: 100, multiplier: 3, holdDownMs: 2000}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}}
spec: {nodeName: node-1}
`;

/** A table of the test's own in the replica's netns that drops everything the pod sends or forwards. */
const CUT_TABLE = "egw_e2e_cut";
const CUT = `table inet ${CUT_TABLE} {
  chain egw_cut_out { type filter hook output priority -400; policy drop; }
  chain egw_cut_fwd { type filter hook forward priority -400; policy drop; }
}
`;

interface ReplicaJson {
  name: string;
  egressIP?: string;
}

describe("data-path liveness in the lab (root)", { skip: !isRoot && "needs root", timeout: 900_000 }, () => {
  const session = labSession("lv");
  const { lab, stateDir, egw, apply, readyGateway, leavesAs, manyConnections, runningPod } = session;
  const agentLog = labPaths(stateDir).log(agentComponent("node-1"));

  before(async () => {
    await session.up(3);
  });

  // The cut table lives in a lab namespace: `egw down` removes it with the namespace.
  after(async () => {
    await session.down();
  });

  const replicas = async (): Promise<ReplicaJson[]> => {
    const gw = JSON.parse(await egw("get", "egw", "-n", NS, "lively", "-o", "json")) as {
      status?: { replicas?: ReplicaJson[] };
    };
    return gw.status?.replicas ?? [];
  };

  /** Log records of node-1's agent written after `offset` bytes. */
  const agentRecords = (offset: number): Record<string, unknown>[] =>
    readFileSync(agentLog)
      .subarray(offset) // a byte offset (messages hold non-ASCII characters such as ×)
      .toString("utf8")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("fails a replica over when its data path dies, and takes it back after the hold-down", async () => {
    await apply(YAML);
    const ips = await readyGateway(NS, "lively", 2);
    await runningPod(NS, "client");
    await eventually("the client to use both replicas", async () => {
      const seen = await manyConnections(NS, "client", WHOAMI, 16);
      return ips.every((ip) => seen.includes(ip)) ? true : undefined;
    });

    const all = await replicas();
    const victim = all.find((r) => r.egressIP === ips[0]);
    const survivor = all.find((r) => r.egressIP === ips[1]);
    assert.ok(victim && survivor, JSON.stringify(all));
    const victimKey = `${NS}/${victim.name}`;
    const offset = statSync(agentLog).size;
    const cutNetns = podNetns(lab, NS, victim.name);
    const cut = await runCmd("ip", ["netns", "exec", cutNetns, "nft", "-f", "-"], CUT);
    assert.equal(cut.code, 0, cut.stderr);

    const failover = await eventually(
      "node-1's agent to log the failover",
      async () =>
        agentRecords(offset).find((r) => r.msg === "gateway replica failover" && r.replica === victimKey),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    assert.match(String(failover.reason), /no liveness packet/);
    assert.equal(typeof failover.detectMs, "number");
    assert.equal(typeof failover.applyMs, "number");
    // Every connection opened after the failover succeeds, through the survivor.
    const seenAfter = await manyConnections(NS, "client", WHOAMI, 20);
    assert.deepEqual(new Set(seenAfter), new Set([survivor.egressIP]), seenAfter.join(" "));

    const node = await eventually("node-1's status to show the replica down", async () => {
      const n = JSON.parse(await egw("get", "node", "node-1", "-o", "json")) as {
        status?: { gatewayLiveness?: { replica: string; state: string }[] };
      };
      const entry = n.status?.gatewayLiveness?.find((e) => e.replica === victimKey);
      return entry?.state === "Down" ? n.status?.gatewayLiveness : undefined;
    });
    assert.equal(node.find((e) => e.replica === `${NS}/${survivor.name}`)?.state, "Up");

    // The replica answers again: held for the hold-down, then used again.
    const restoredAt = statSync(agentLog).size;
    const restore = await runCmd(
      "ip",
      ["netns", "exec", cutNetns, "nft", "-f", "-"],
      `delete table inet ${CUT_TABLE}\n`,
    );
    assert.equal(restore.code, 0, restore.stderr);
    await eventually("the replica to be held, then up", async () => {
      const views = agentRecords(restoredAt)
        .filter((r) => r.msg === "gateway replica liveness changed" && r.replica === victimKey)
        .map((r) => r.to);
      return views.includes("held") && views.at(-1) === "up" ? true : undefined;
    });
    await leavesAs(NS, "client", [victim.egressIP ?? ""]);
  });

  it("fails over while the datastore is stopped", async () => {
    const all = await replicas();
    const ips = all.map((r) => r.egressIP ?? "").sort();
    await eventually("the client to use both replicas again", async () => {
      const seen = await manyConnections(NS, "client", WHOAMI, 16);
      return ips.every((ip) => seen.includes(ip)) ? true : undefined;
    });
    const [victim, survivor] = [all[1], all[0]];
    assert.ok(victim && survivor);
    const victimKey = `${NS}/${victim.name}`;
    const etcd = readManifest(stateDir)?.processes.etcd?.pid;
    assert.ok(etcd !== undefined, "no etcd pid in the lab manifest");
    const offset = statSync(agentLog).size;
    const cutNetns = podNetns(lab, NS, victim.name);
    // Without the datastore, `egw exec` cannot find the pod: connections run in its netns directly.
    const clientNetns = podNetns(lab, NS, "client");
    process.kill(etcd, "SIGSTOP");
    try {
      const cut = await runCmd("ip", ["netns", "exec", cutNetns, "nft", "-f", "-"], CUT);
      assert.equal(cut.code, 0, cut.stderr);
      await eventually(
        "node-1's agent to log the failover",
        async () =>
          agentRecords(offset).find((r) => r.msg === "gateway replica failover" && r.replica === victimKey),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const script = `for i in $(seq 20); do r=$(curl -s -m 3 ${WHOAMI}); echo "$r"; done`;
      const r = await runCmd("ip", ["netns", "exec", clientNetns, "sh", "-c", script]);
      const seen = r.stdout.split("\n").slice(0, 20);
      assert.deepEqual(new Set(seen), new Set([survivor.egressIP]), seen.join(" "));
    } finally {
      process.kill(etcd, "SIGCONT");
    }
    const restore = await runCmd(
      "ip",
      ["netns", "exec", cutNetns, "nft", "-f", "-"],
      `delete table inet ${CUT_TABLE}\n`,
    );
    assert.equal(restore.code, 0, restore.stderr);
  });
});
