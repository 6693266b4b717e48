// The agent with data-path liveness (`--liveness bfd`) over the memory datastore, the fake
// dataplane, a fake clock and a fake liveness endpoint: the test plays each replica's session.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { LIVENESS_DIAG, livenessSettingsOf } from "../daemon/liveness-endpoint.js";
import { fakeLivenessOpener, type FakeLivenessEndpoint } from "../daemon/testing/fake-liveness.js";
import { clientPod, egressGateway, gatewayPod, ipPool, namespace, node } from "../daemon/testing/objects.js";
import { FakeNodeDataplane } from "../dataplane/fake.js";
import type { TableGatewayGroup } from "../dataplane/kernel-groups.js";
import type { Datastore } from "../datastore/types.js";
import { ReplicaLiveness } from "./liveness-view.js";
import { withGatewayLiveness } from "./liveness-status.js";
import { CLIENT, GW_A, GW_B, hopsOf, startAgentOn } from "./testing/harness.js";

const NODE_IP = "172.30.0.1";

const withReady = (pod: Resource, status: "True" | "False"): Resource => ({
  ...pod,
  status: { ...(pod.status as object), conditions: [{ type: "Ready", status, reason: "Probe" }] },
});

interface Setup {
  liveness?: unknown;
  podB?: Resource;
  kernelSlots?: Map<string, number>;
  kernelGroups?: TableGatewayGroup[];
  /** Wraps the datastore the agent uses (e.g. to make it hang). */
  wrap?: (store: Datastore) => Datastore;
}

async function setup(o: Setup = {}) {
  const dataplane = new FakeNodeDataplane();
  if (o.kernelSlots) dataplane.kernelSlots = o.kernelSlots;
  if (o.kernelGroups) dataplane.kernelGroups = o.kernelGroups;
  const opener = fakeLivenessOpener();
  const started = await startAgentOn(
    [
      node("node1", NODE_IP, "10.244.1.0/24"),
      node("gwnode", "172.30.0.2", "10.244.2.0/24"),
      namespace("default"),
      namespace("egress"),
      ipPool("pods", "10.244.0.0/16"),
      egressGateway("egress", "gw", o.liveness === undefined ? undefined : { liveness: o.liveness }),
      gatewayPod(GW_A),
      o.podB ?? gatewayPod(GW_B),
      clientPod(CLIENT),
    ],
    dataplane,
    { liveness: opener, ...(o.wrap === undefined ? {} : { wrapStore: o.wrap }) },
  );
  const endpoint = (): FakeLivenessEndpoint => {
    const e = opener.opened.at(-1);
    assert.ok(e, "the agent opened no liveness endpoint");
    return e;
  };
  return { ...started, opener, endpoint };
}

/** Both replicas' sessions Up (at the current time), and the plan applied. */
async function bothUp(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  s.endpoint().up(GW_A.ip, s.clock.now());
  s.endpoint().up(GW_B.ip, s.clock.now());
  await s.clock.advance(50);
  assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
}

const metric = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("agent liveness (fake endpoint)", () => {
  it("opens the endpoint on the node IP, a session per replica with the default timers; replicas take connections once Up", async () => {
    const s = await setup();
    const e = s.endpoint();
    assert.equal(e.options.address, NODE_IP);
    assert.equal(e.options.acceptPeer, undefined, "the agent's sessions are active only");
    assert.deepEqual(Object.fromEntries(e.timers), {
      [GW_A.ip]: { intervalMs: 100, multiplier: 3 },
      [GW_B.ip]: { intervalMs: 100, multiplier: 3 },
    });
    // A cold start: nothing in the kernel, so no replica is used before its session is Up.
    assert.equal(s.dataplane.last?.gatewaySets[0]?.routes[0]?.action, "unreachable");
    e.up(GW_A.ip, s.clock.now());
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a"], "the first Up is no recovery: no hold-down");
    e.up(GW_B.ip, s.clock.now());
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    assert.equal(metric(s.agent.metricsText().body, 'egw_agent_liveness_sessions{state="up"}'), 2);
    await s.agent.stop();
    assert.ok(e.closed);
  });

  it("takes the timers from the replica's EgressGateway and retimes sessions when it changes", async () => {
    const s = await setup({ liveness: { intervalMs: 200, multiplier: 5, holdDownMs: 500 } });
    assert.deepEqual(s.endpoint().timers.get(GW_A.ip), { intervalMs: 200, multiplier: 5 });
    const got = await s.store.get({ kind: "EgressGateway", namespace: "egress", name: "gw" });
    assert.ok(got.ok);
    const changed = structuredClone(got.value) as Resource & { spec: Record<string, unknown> };
    changed.spec.failureDetection = { liveness: { intervalMs: 50, multiplier: 2 } };
    assert.ok((await s.store.update(changed)).ok);
    await s.clock.advance(50);
    assert.deepEqual(s.endpoint().timers.get(GW_B.ip), { intervalMs: 50, multiplier: 2 });
    await s.agent.stop();
  });

  it("fails over when a session times out: one log line with detectMs and applyMs, metrics; hold-down before it comes back", async () => {
    const s = await setup({ liveness: { intervalMs: 100, multiplier: 3, holdDownMs: 2000 } });
    await bothUp(s);
    const lastRx = s.clock.now() - 50; // the packet that brought the session up
    await s.clock.advance(250);
    s.endpoint().set(GW_A.ip, {
      state: "Down",
      remoteState: undefined,
      localDiag: LIVENESS_DIAG.TimeExpired,
      since: s.clock.now(),
    });
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-b"]);
    const failovers = s.log.records.filter((r) => r.msg === "gateway replica failover");
    assert.equal(failovers.length, 1);
    assert.equal(failovers[0]?.replica, "egress/gw-a");
    assert.match(String(failovers[0]?.reason), /no liveness packet for 300 ms/);
    assert.equal(failovers[0]?.detectMs, s.clock.now() - 50 - lastRx, "300 ms");
    assert.equal(failovers[0]?.applyMs, 0, "no debounce for a failover, and a dataplane that takes no time");
    const text = s.agent.metricsText().body;
    assert.equal(metric(text, 'egw_agent_liveness_transitions_total{to="down"}'), 1);
    assert.equal(metric(text, "egw_agent_failover_seconds_count"), 1);
    assert.equal(metric(text, "egw_agent_failover_seconds_sum"), 0.3, "300 ms detection + 0 ms apply");

    // Back: held for the hold-down, then used again.
    s.endpoint().up(GW_A.ip, s.clock.now());
    await s.clock.advance(1900);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-b"], "in hold-down");
    assert.equal(s.agent.metricsText().body.includes('egw_agent_liveness_sessions{state="held"} 1'), true);
    await s.clock.advance(200);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    // A flap during the hold-down restarts it.
    s.endpoint().set(GW_B.ip, {
      state: "Down",
      remoteState: undefined,
      localDiag: LIVENESS_DIAG.TimeExpired,
      since: s.clock.now(),
    });
    await s.clock.advance(100);
    s.endpoint().up(GW_B.ip, s.clock.now());
    await s.clock.advance(1000);
    s.endpoint().set(GW_B.ip, {
      state: "Down",
      remoteState: undefined,
      localDiag: LIVENESS_DIAG.TimeExpired,
      since: s.clock.now(),
    });
    await s.clock.advance(100);
    s.endpoint().up(GW_B.ip, s.clock.now());
    await s.clock.advance(1500);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a"], "the second hold-down is still running");
    await s.clock.advance(600);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await s.agent.stop();
  });

  it("a draining replica (AdminDown 7) and one whose upstream is down (AdminDown 6) take no new connections", async () => {
    const s = await setup();
    await bothUp(s);
    s.endpoint().set(GW_A.ip, {
      state: "Down",
      remoteState: "AdminDown",
      remoteDiag: 7,
      localDiag: 3,
      since: s.clock.now(),
    });
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-b"]);
    s.endpoint().set(GW_B.ip, {
      state: "Down",
      remoteState: "AdminDown",
      remoteDiag: 6,
      localDiag: 3,
      since: s.clock.now(),
    });
    await s.clock.advance(50);
    assert.equal(s.dataplane.last?.gatewaySets[0]?.routes[0]?.action, "unreachable", "fail closed");
    const views = s.log.records
      .filter((r) => r.msg === "gateway replica liveness changed")
      .map((r) => [r.replica, r.to]);
    assert.deepEqual(views.slice(-2), [
      ["egress/gw-a", "draining"],
      ["egress/gw-b", "down"],
    ]);
    const failovers = s.log.records.filter((r) => r.msg === "gateway replica failover");
    assert.deepEqual(
      failovers.map((r) => r.reason),
      [
        "the replica is draining (AdminDown, diagnostic 7)",
        "the replica reports its upstream path down (AdminDown, diagnostic 6)",
      ],
    );
    // Both keep their sessions (they may come back) although no route uses them.
    assert.deepEqual([...s.endpoint().timers.keys()].sort(), [GW_A.ip, GW_B.ip]);
    await s.agent.stop();
  });

  it("publishes status.gatewayLiveness on the Node, at most once a second", async () => {
    const writes: number[] = [];
    let clockNow = (): number => 0;
    const counting = (store: Datastore): Datastore =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== "update" || typeof v !== "function") return v;
          return (obj: Resource) => {
            if (obj.kind === "Node" && JSON.stringify(obj).includes("gatewayLiveness"))
              writes.push(clockNow());
            return (v as (o: Resource) => unknown).call(target, obj);
          };
        },
      });
    const s = await setup({ wrap: counting });
    clockNow = () => s.clock.now();
    const entries = async () => {
      const n = await s.store.get({ kind: "Node", name: "node1" });
      assert.ok(n.ok);
      return (n.value as { status?: { gatewayLiveness?: { replica: string; state: string }[] } }).status
        ?.gatewayLiveness;
    };
    await s.clock.advance(1000);
    assert.deepEqual(
      (await entries())?.map((e) => [e.replica, e.state]),
      [
        ["egress/gw-a", "Held"],
        ["egress/gw-b", "Held"],
      ],
    );
    for (let i = 0; i < 5; i++) {
      s.endpoint().up(GW_A.ip, s.clock.now());
      s.endpoint().up(GW_B.ip, s.clock.now());
      await s.clock.advance(100);
      s.endpoint().set(GW_B.ip, {
        state: "Down",
        remoteState: "AdminDown",
        remoteDiag: 7,
        localDiag: 3,
        since: s.clock.now(),
      });
      await s.clock.advance(100);
    }
    await s.clock.advance(2000);
    assert.ok(writes.length >= 2, `${writes.length} writes`);
    for (let i = 1; i < writes.length; i++)
      assert.ok((writes[i] ?? 0) - (writes[i - 1] ?? 0) >= 1000, `writes at ${writes.join(", ")}`);
    assert.deepEqual(
      (await entries())?.map((e) => [e.replica, e.state]),
      [
        ["egress/gw-a", "Up"],
        ["egress/gw-b", "Draining"],
      ],
    );
    await s.agent.stop();
  });

  it("a restarted agent keeps replicas the kernel routed through until their sessions decide, and holds the others until Up", async () => {
    const s = await setup({
      kernelSlots: new Map([[CLIENT.ip, 3]]),
      kernelGroups: [{ table: 20003, dst: "0.0.0.0/0", hops: [GW_A.ip] }],
    });
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a"], "gw-b was out of the kernel's group");
    assert.ok(
      s.dataplane.applied.every((p) => !hopsOf(p).includes("egress/gw-b")),
      "gw-b never re-admitted",
    );
    s.endpoint().up(GW_B.ip, s.clock.now());
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"], "Up: in again");
    // gw-a never answers: judged down after multiplier × 1 s (the slow rate of a session not up).
    await s.clock.advance(2900);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await s.clock.advance(150);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-b"]);
    assert.ok(s.log.records.some((r) => r.msg === "gateway replica failover" && r.replica === "egress/gw-a"));
    await s.agent.stop();
  });

  it("holds a replica whose pod says Ready=False until its session is Up", async () => {
    const s = await setup({
      podB: withReady(gatewayPod(GW_B), "False"),
      kernelSlots: new Map([[CLIENT.ip, 1]]),
      kernelGroups: [{ table: 20001, dst: "0.0.0.0/0", hops: [GW_A.ip, GW_B.ip] }],
    });
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a"]);
    s.endpoint().up(GW_B.ip, s.clock.now());
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b"]);
    await s.agent.stop();
  });

  it("a new replica is held until its session is Up", async () => {
    const s = await setup();
    await bothUp(s);
    const gwC = { ...GW_A, name: "gw-c", ip: "10.244.2.12", egressIP: "10.10.0.3" };
    assert.ok((await s.store.create(gatewayPod(gwC))).ok);
    await s.clock.advance(50);
    assert.ok(
      s.dataplane.applied.every((p) => !hopsOf(p).includes("egress/gw-c")),
      "not routed before its session is up",
    );
    assert.ok(s.endpoint().timers.has(gwC.ip), "a session was started");
    s.endpoint().up(gwC.ip, s.clock.now());
    await s.clock.advance(50);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-a", "egress/gw-b", "egress/gw-c"]);
    await s.agent.stop();
  });

  it("fails over while the datastore does not answer (a liveness change needs nothing from it)", async () => {
    let hang = false;
    const pending: (() => void)[] = [];
    const hanging = (store: Datastore): Datastore =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown;
          if (
            typeof v !== "function" ||
            !["get", "list", "create", "update", "delete"].includes(String(prop))
          )
            return v;
          return (...args: unknown[]) =>
            hang
              ? new Promise((resolve) =>
                  pending.push(() => resolve((v as (...a: unknown[]) => unknown).apply(target, args))),
                )
              : (v as (...a: unknown[]) => unknown).apply(target, args);
        },
      });
    const s = await setup({ wrap: hanging });
    await bothUp(s);
    hang = true;
    // Something the agent publishes (the Node's liveness list) is now stuck in the datastore.
    s.endpoint().set(GW_B.ip, {
      state: "Down",
      remoteState: "AdminDown",
      remoteDiag: 6,
      localDiag: 3,
      since: s.clock.now(),
    });
    await s.clock.advance(1100);
    assert.ok(pending.length > 0, "the agent did try to write");
    s.endpoint().set(GW_A.ip, {
      state: "Down",
      remoteState: undefined,
      localDiag: LIVENESS_DIAG.TimeExpired,
      since: s.clock.now(),
    });
    await s.clock.advance(50);
    assert.equal(s.dataplane.last?.gatewaySets[0]?.routes[0]?.action, "unreachable");
    s.endpoint().up(GW_B.ip, s.clock.now());
    await s.clock.advance(2050);
    assert.deepEqual(hopsOf(s.dataplane.last), ["egress/gw-b"], "recovery too, after the hold-down");
    hang = false;
    for (const release of pending.splice(0)) release();
    await s.agent.stop();
  });
});

describe("ReplicaLiveness (client view)", () => {
  const settings = { intervalMs: 100, multiplier: 3, holdDownMs: 1000 };
  const up = (at: number) => ({
    state: "Up" as const,
    remoteState: "Up" as const,
    localDiag: 0,
    remoteDiag: 0,
    since: at,
    lastRxAt: at,
  });

  it("pending counts as usable until judged; a held one is not", () => {
    const pending = new ReplicaLiveness(settings, 0, undefined);
    assert.equal(pending.health, undefined);
    assert.equal(pending.state.view, "pending");
    const held = new ReplicaLiveness(settings, 0, "new");
    assert.equal(held.health, false);
    assert.equal(held.nextDeadline(), 3000, "multiplier × the 1 s slow rate");
    assert.equal(held.tick(2999), undefined);
    assert.equal(held.tick(3000)?.to, "down");
  });

  it("a session still coming up (Down, Init) is not judged before the deadline", () => {
    const r = new ReplicaLiveness(settings, 0, undefined);
    assert.equal(
      r.observe({ state: "Init", remoteState: "Down", localDiag: 0, remoteDiag: 0, since: 10 }, 10),
      undefined,
    );
    assert.equal(r.observe(up(20), 20)?.to, "up");
    assert.equal(r.nextDeadline(), undefined);
  });

  it("hold-down 0 readmits at once", () => {
    const r = new ReplicaLiveness({ ...settings, holdDownMs: 0 }, 0, undefined);
    r.observe(up(0), 0);
    assert.equal(
      r.observe({ state: "Down", remoteState: undefined, localDiag: 1, remoteDiag: 0, since: 5 }, 5)?.to,
      "down",
    );
    assert.equal(r.observe(up(10), 10)?.to, "up");
  });
});

describe("liveness settings and status", () => {
  it("reads an EgressGateway's liveness, defaults for what is missing or out of range", () => {
    assert.deepEqual(livenessSettingsOf(undefined), { intervalMs: 100, multiplier: 3, holdDownMs: 2000 });
    const gw = egressGateway("e", "g", { liveness: { intervalMs: 300, multiplier: 0 } });
    assert.deepEqual(livenessSettingsOf(gw), { intervalMs: 300, multiplier: 3, holdDownMs: 2000 });
  });

  it("withGatewayLiveness keeps the Node's other status fields and says when nothing changes", () => {
    const n = node("n", "172.30.0.9");
    const entries = [{ replica: "a/b", state: "Up" as const, since: "2026-01-01T00:00:00.000Z" }];
    const next = withGatewayLiveness(n, entries);
    assert.ok(next);
    assert.deepEqual(
      (next as { status: { addresses: unknown } }).status.addresses,
      (n as { status: { addresses: unknown } }).status.addresses,
    );
    assert.equal(withGatewayLiveness(next, entries), undefined);
  });
});
