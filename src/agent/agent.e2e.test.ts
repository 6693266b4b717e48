// End to end (root): a real etcd, one client node with a pod, two gateway replicas and an external
// HTTP server that answers with the source address it sees, all in scratch network namespaces.
// The agent and the gateways run in this process (so they reach etcd on loopback) and drive their
// namespaces through `ip netns exec` runners; each gateway's /readiness is bridged into its netns
// with socat. Everything is removed in after(), also when a test fails.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { NODE_NFT_TABLE } from "../dataplane/config.js";
import { FakeNodeDataplane } from "../dataplane/fake.js";
import type { KernelNodePlan } from "../dataplane/kernel-plan.js";
import { GatewayDataplane } from "../dataplane/gateway-dataplane.js";
import { readWorkloadSlots } from "../dataplane/kernel.js";
import { NodeDataplane } from "../dataplane/node-dataplane.js";
import { netnsRunner } from "../dataplane/runner.js";
import { openDatastore } from "../datastore/connect.js";
import { startEtcd, type EtcdServer } from "../datastore/testing/etcd-server.js";
import type { Datastore } from "../datastore/types.js";
import { Gateway } from "../gateway/gateway.js";
import { readyConditionOf } from "../api/conditions.js";
import { Agent } from "./agent.js";
import { curlGet } from "../daemon/http-get.js";
import { createLogger } from "../util/log.js";
import { startStatusServer, type StatusServer } from "../daemon/status-server.js";
import { deleteNetns, inNs, lineFrom, Processes, waitFor } from "../dataplane/testing/netns.js";
import { buildGatewayTopology, gatewayTopology, leakCount } from "../dataplane/testing/topology.js";
import { clientPod, egressGateway, gatewayPod, ipPool, namespace, node } from "../daemon/testing/objects.js";

const T = gatewayTopology(`egwag${randomBytes(3).toString("hex")}-`);
const { ns: NS, nodeIP: NODE_IP, podIP: POD_IP, server: SERVER, port: PORT, gateways: GW } = T;
type Gw = (typeof GW)[number];

const processes = new Processes();
const quiet = createLogger("e2e", () => undefined);

const SERVER_JS = `require("http").createServer((q, s) => s.end(q.socket.remoteAddress.replace(/^::ffff:/, "")))
  .listen(${PORT}, "${SERVER}", () => console.log("listening"));`;

const ECHO_PORT = 9000;
/** Echoes each line prefixed with the source address it sees (the egress IP of that connection). */
const ECHO_JS = `const net = require("net");
net.createServer((s) => { s.on("error", () => {}); s.setEncoding("utf8"); let b = "";
  s.on("data", (d) => { b += d; let i; while ((i = b.indexOf("\\n")) >= 0) {
    s.write(s.remoteAddress.replace(/^::ffff:/, "") + " " + b.slice(0, i) + "\\n"); b = b.slice(i + 1); } });
}).listen(${ECHO_PORT}, "${SERVER}", () => console.log("listening"));`;
/** One long-lived connection from the pod: stdin lines go out, echoes come back on stdout. */
const LONG_JS = `const s = require("net").connect({ host: "${SERVER}", port: ${ECHO_PORT} });
s.setEncoding("utf8"); s.on("connect", () => console.log("connected"));
s.on("data", (d) => process.stdout.write(d));
s.on("error", (e) => { console.log("error:" + e.code); process.exit(1); });
process.stdin.on("data", (d) => s.write(d));`;

/** The first stdout line of `child` that satisfies `match`, or an "error:" line of the pod's connection. */
const lineOrError = (
  child: ChildProcessWithoutNullStreams,
  match: (line: string) => boolean,
): Promise<string> => lineFrom(child, (l) => match(l) || l.startsWith("error:"));

/** Sends `word` over the long-lived connection; returns the source IP the server saw. */
async function echo(child: ChildProcessWithoutNullStreams, word: string): Promise<string> {
  const line = lineOrError(child, (l) => l.endsWith(` ${word}`));
  child.stdin.write(`${word}\n`);
  const got = await line;
  assert.ok(got.endsWith(` ${word}`), `echo of "${word}" failed: ${got}`);
  return got.slice(0, -word.length - 1);
}

/** n fresh connections from the pod; each line is the source IP the server saw, or "error". */
async function connections(n: number): Promise<string[]> {
  const out = await inNs(
    NS.pod,
    `for i in $(seq ${n}); do curl -s -m 1 http://${SERVER}:${PORT}/ || printf error; echo; done`,
  );
  return out.trim().split("\n");
}

async function buildTopology(): Promise<void> {
  await buildGatewayTopology(T);
  const server = processes.start(NS.ext, ["node", "-e", SERVER_JS]);
  await lineFrom(server, (l) => l === "listening");
}

/** What the controller and the lab runtime would have written. Gateways act as their own nodes (hostNetwork-like). */
const clusterObjects = (): Resource[] => [
  node("node1", NODE_IP, "10.244.1.0/24"),
  ...GW.map((g) => node(`gwnode-${g.name}`, g.ip)),
  namespace("default"),
  namespace("egress"),
  ipPool("pods", "10.244.0.0/16"),
  ipPool("egress", "10.10.0.0/24", ["EgressGateway"]),
  egressGateway("egress", "gw", { icmpProbe: { ips: [SERVER], intervalMs: 500, timeoutMs: 2000 } }),
  ...GW.map((g) =>
    gatewayPod({
      namespace: "egress",
      name: g.name,
      node: `gwnode-${g.name}`,
      ip: g.ip,
      gateway: "gw",
      egressIP: g.egress,
    }),
  ),
  clientPod({
    namespace: "default",
    name: "client",
    node: "node1",
    ip: POD_IP,
    hostInterface: "ewpod1",
    gateway: "gw",
    gatewayNamespace: "egress",
  }),
];

interface RunningGateway {
  gateway: Gateway;
  server: StatusServer;
}

describe("agent and gateways end to end (etcd, netns)", { concurrency: false }, () => {
  let etcd: EtcdServer | undefined;
  let store: Datastore | undefined;
  let agent: Agent | undefined;
  let agentServer: StatusServer | undefined;
  let tmp = "";
  const gateways = new Map<string, RunningGateway>();
  /** The plan as the node's kernel holds it after the last successful reconcile (with slots). */
  let lastPlan: KernelNodePlan | undefined;

  const startGateway = async (g: Gw): Promise<void> => {
    assert.ok(store);
    const socket = join(tmp, `${g.name}.sock`);
    rmSync(socket, { force: true });
    const runner = netnsRunner(g.ns);
    const gateway = new Gateway({
      store,
      pod: { namespace: "egress", name: g.name },
      dataplane: new GatewayDataplane(runner),
      runner,
      uplink: "ext0",
      resyncMs: 2000,
      debounceMs: 20,
      log: quiet,
    });
    const server = await startStatusServer(
      { path: socket },
      { "/readiness": () => gateway.readinessReply() },
    );
    assert.ok(server.ok, server.ok ? "" : server.error);
    gateways.set(g.name, { gateway, server: server.value });
    await gateway.start();
  };

  const stopGateway = async (g: Gw): Promise<void> => {
    const running = gateways.get(g.name);
    gateways.delete(g.name);
    await running?.gateway.stop();
    await running?.server.close();
  };

  const clientSet = (plan = lastPlan) => {
    const key = plan?.workloads.find((w) => w.name === "client")?.gatewaySet;
    return plan?.gatewaySets.find((s) => s.key === key);
  };
  const hops = (): string[] | undefined => {
    const set = clientSet();
    const route = set?.routes.find((r) => r.destination === "0.0.0.0/0");
    if (route === undefined) return undefined;
    return route.action === "gateways" ? route.hops.map((h) => h.replica) : [route.action];
  };
  const waitForHops = (want: string[]): Promise<true> =>
    waitFor(`the agent to route via ${want.join(", ")} (now ${hops()?.join(", ")})`, () =>
      JSON.stringify(hops()) === JSON.stringify(want) && agent?.status().lastReconcileOk ? true : undefined,
    );

  /** A new agent process for node1 (its in-memory state starts empty, as after a restart). */
  const startAgent = async (): Promise<Agent> => {
    assert.ok(store);
    const nodeRunner = netnsRunner(NS.node);
    const started = new Agent({
      store,
      node: "node1",
      dataplane: new NodeDataplane(nodeRunner),
      httpGet: curlGet(nodeRunner),
      resyncMs: 2000,
      debounceMs: 20,
      poll: { intervalMs: 400, failureThreshold: 2 },
      log: quiet,
      onReconcile: (_plan, r) => {
        if (r.ok) lastPlan = r.value.plan;
      },
    });
    await started.start();
    return started;
  };

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "egwag-"));
    await buildTopology();
    etcd = await startEtcd();
    const opened = openDatastore({ type: "etcd", etcdEndpoints: etcd.endpoints });
    assert.ok(opened.ok);
    store = opened.value;
    for (const obj of clusterObjects()) {
      const r = await store.create(obj);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
    }
    // /readiness of each replica, reachable on <replica IP>:8080 inside its netns.
    for (const g of GW)
      processes.start(g.ns, [
        "socat",
        `TCP-LISTEN:8080,bind=${g.ip},fork,reuseaddr`,
        `UNIX-CONNECT:${join(tmp, `${g.name}.sock`)}`,
      ]);
    for (const g of GW) await startGateway(g);
    agent = await startAgent();
    const a = agent;
    const server = await startStatusServer(
      { host: "127.0.0.1", port: 0 },
      { "/healthz": () => a.healthz(), "/metrics": () => a.metricsText() },
    );
    assert.ok(server.ok);
    agentServer = server.value;
  });

  after(async () => {
    await agent?.stop();
    await agentServer?.close();
    for (const g of GW) await stopGateway(g);
    await store?.close();
    await etcd?.stop();
    processes.killAll();
    await deleteNetns(Object.values(NS));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("gateways become ready (ICMP probe passes) and publish it in their pods' status", async () => {
    assert.ok(store);
    const s = store;
    for (const g of GW) {
      const condition = await waitFor(`${g.name} Ready=True`, async () => {
        const p = await s.get({ kind: "Pod", namespace: "egress", name: g.name });
        const c = p.ok ? readyConditionOf(p.value) : undefined;
        return c?.status === "True" ? c : undefined;
      });
      assert.equal(condition.reason, "Ready");
      const polled = await inNs(
        NS.node,
        `curl -s -o /dev/null -w %{http_code} http://${g.ip}:8080/readiness`,
      );
      assert.equal(polled, "200");
    }
  });

  it("connections from the pod leave with the gateways' egress IPs, over both replicas", async () => {
    // A replica whose pod said Ready=False when the agent saw it is held out until a poll
    // confirms it (health-seed.ts), so a first plan may route via both and the next via none:
    // wait for both polls before the plan counts.
    await waitFor("both replicas polled up", () =>
      /egw_agent_polled_gateways\{state="up"\} 2/.test(agent?.metricsText().body ?? "") ? true : undefined,
    );
    await waitForHops(["egress/gw-1", "egress/gw-2"]);
    const seen = await connections(24);
    const egress = new Set<string>(GW.map((g) => g.egress));
    for (const s of seen)
      assert.ok(
        egress.has(s),
        `server saw ${s}; expected one of ${[...egress].join(", ")}; all: ${seen.join(" ")}`,
      );
    assert.deepEqual(new Set(seen), egress, `24 connections should use both replicas: ${seen.join(" ")}`);
  });

  it("serves /healthz and /metrics", async () => {
    assert.ok(agentServer?.port);
    const health = await fetch(`http://127.0.0.1:${agentServer.port}/healthz`);
    assert.equal(health.status, 200);
    const url = `http://127.0.0.1:${agentServer.port}/metrics`;
    // Both replicas answered at least one poll (health is "unknown" before that).
    const metrics = await waitFor("both replicas polled up", async () => {
      const text = await (await fetch(url)).text();
      return /egw_agent_polled_gateways\{state="up"\} 2/.test(text) ? text : undefined;
    });
    assert.match(metrics, /egw_agent_reconciles_total\{result="ok"\} [1-9]/);
    assert.match(metrics, /egw_agent_gateway_polls_total\{result="up"\} [1-9]/);
  });

  it("fails over to the other replica when one stops answering /readiness", async () => {
    await stopGateway(GW[0]);
    await waitForHops(["egress/gw-2"]);
    const seen = await connections(12);
    assert.deepEqual(new Set(seen), new Set([GW[1].egress]), seen.join(" "));
  });

  it("fails closed when no replica is ready: connections fail, nothing leaves with the pod or node IP", async () => {
    const before = await leakCount(T);
    await stopGateway(GW[1]);
    await waitForHops(["unreachable"]);
    const seen = await connections(4);
    assert.deepEqual(new Set(seen), new Set(["error"]), seen.join(" "));
    assert.equal(await leakCount(T), before, "the external side saw packets from the pod or node IP");
  });

  it("a replica that answers again takes traffic again", async () => {
    await startGateway(GW[0]);
    await waitForHops(["egress/gw-1"]);
    const seen = await connections(6);
    assert.deepEqual(new Set(seen), new Set([GW[0].egress]), seen.join(" "));
  });

  it("a restarted agent adopts the kernel's slots: a long-lived connection survives a new set that sorts first", async () => {
    assert.ok(store);
    const s = store;
    // Both replicas up, so the restarted agent (which knows no replica health yet) computes the
    // same hops: this test isolates the slot assignment from health relearning.
    await startGateway(GW[1]);
    await waitForHops(["egress/gw-1", "egress/gw-2"]);
    const echoServer = processes.start(NS.ext, ["node", "-e", ECHO_JS]);
    await lineOrError(echoServer, (l) => l === "listening");
    const long = processes.start(NS.pod, ["node", "-e", LONG_JS]);
    long.stdin.on("error", () => undefined);
    await lineOrError(long, (l) => l === "connected");
    const egressBefore = await echo(long, "before");
    assert.ok(
      GW.some((g) => g.egress === egressBefore),
      `left with ${egressBefore}`,
    );
    const nodeRunner = netnsRunner(NS.node);
    const slotBefore = await readWorkloadSlots(nodeRunner, NODE_NFT_TABLE);
    assert.ok(slotBefore.ok, slotBefore.ok ? "" : slotBefore.error);
    const podSlot = slotBefore.value.get(POD_IP);
    assert.equal(podSlot, 1);
    const tableBefore = clientSet()?.table;

    // Stop the agent, then add a gateway set whose key sorts before the client's (gateway "alt"
    // < "gw"; no replica matches it, so it is an unreachable set) on the same node.
    await agent?.stop();
    agent = undefined;
    const created = await s.create(
      clientPod({
        namespace: "default",
        name: "client0",
        node: "node1",
        ip: "10.244.1.11",
        hostInterface: "ewpod0",
        gateway: "alt",
        gatewayNamespace: "egress",
      }),
    );
    assert.ok(created.ok, created.ok ? "" : created.error.message);

    // Premise: an agent that did not read the kernel would move the client's set to another slot.
    const fake = new FakeNodeDataplane();
    const fresh = new Agent({
      store: s,
      node: "node1",
      dataplane: fake,
      poll: { intervalMs: 0 },
      log: quiet,
    });
    await fresh.start();
    const freshPlan = await waitFor("a fresh plan with both sets", () =>
      fake.last?.gatewaySets.length === 2 ? fake.last : undefined,
    );
    await fresh.stop();
    assert.notEqual(
      clientSet(freshPlan)?.table,
      tableBefore,
      "a fresh assignment would keep the slot anyway",
    );

    agent = await startAgent();
    const adopted = await waitFor("the restarted agent to program both sets", () =>
      agent?.status().lastReconcileOk && lastPlan?.gatewaySets.length === 2 ? lastPlan : undefined,
    );
    assert.equal(clientSet(adopted)?.table, tableBefore, "the client's set kept its table");
    assert.equal(await echo(long, "after"), egressBefore, "the connection kept its gateway");
    const slotAfter = await readWorkloadSlots(nodeRunner, NODE_NFT_TABLE);
    assert.ok(slotAfter.ok, slotAfter.ok ? "" : slotAfter.error);
    assert.equal(slotAfter.value.get(POD_IP), podSlot, "the kernel steers the pod with the same slot");
    assert.notEqual(slotAfter.value.get("10.244.1.11"), podSlot);
    await waitForHops(["egress/gw-1", "egress/gw-2"]);
    const newConnections = await connections(6);
    for (const seen of newConnections)
      assert.ok(
        GW.some((g) => g.egress === seen),
        `new connection left with ${seen}`,
      );
    assert.equal(await echo(long, "still"), egressBefore);
  });
});
