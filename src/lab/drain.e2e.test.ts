// End to end (root): graceful drain in a 3-node lab, as a user drives it. (a) A scale-down: the
// retired replica drains — long-lived connections on it keep working until they end within the
// grace period, new connections all use the remaining replica, and the client pod carries the
// maintenance annotations until the replica is gone. (b) A rolling template change: new replicas
// first, the old ones drain one at a time, with the same checks. (c) `egw drain node`: the replica
// moves off the cordoned node and no short connection fails meanwhile.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ANN_MAINTENANCE_FINISHED,
  ANN_MAINTENANCE_GATEWAY_IP,
  ANN_MAINTENANCE_STARTED,
} from "../api/well-known.js";
import { podNetns } from "./names.js";
import { ECHO_SERVICE } from "./topology.js";
import { startEchoStream, type EchoStream } from "./testing/echo-stream.js";
import { eventually, runEgw } from "./testing/lab-cli.js";
import { labSession, WHOAMI, type GatewayJson } from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;
const GATEWAY_NS = "gw";
/** Long enough for the checks to run inside the window; the test ends its streams before it closes. */
const GRACE_SECONDS = 12;
/**
 * Slower liveness than the 100 ms × 3 default: this file tests drain semantics, and on a busy
 * 2-core host an event loop stalled for 300 ms flaps a session (seen in logs as "no liveness
 * packet for 300 ms" with no fault injected), which would show up here as a drain failure.
 * Detection speed has its own tests (liveness.e2e, failover.e2e) and benchmark.
 */
const LIVENESS = "{intervalMs: 200, multiplier: 5}";

const gatewayYaml = (o: {
  name: string;
  cidr: string;
  replicas: number;
  grace: number;
  labels?: Record<string, string>;
}): string =>
  [
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    `metadata: {name: ${o.name}}`,
    `spec: {cidr: ${o.cidr}, allowedUses: [EgressGateway], nodeSelector: "!all()"}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: ${o.name}, namespace: ${GATEWAY_NS}}`,
    `spec:`,
    `  replicas: ${o.replicas}`,
    `  ipPools: [{name: ${o.name}}]`,
    `  failureDetection: {liveness: ${LIVENESS}}`,
    `  template:`,
    `    metadata: {labels: ${JSON.stringify({ "egw.dev/gateway": o.name, ...o.labels })}}`,
    `    spec: {terminationGracePeriodSeconds: ${o.grace}}`,
    "---",
  ].join("\n");

/** A namespace whose pods select gateway `gateway`, and a client pod in it on node-1. */
const clientYaml = (ns: string, gateway: string): string =>
  [
    "apiVersion: v1",
    "kind: Namespace",
    `metadata:`,
    `  name: ${ns}`,
    `  annotations:`,
    `    egress.egw.dev/selector: "egw.dev/gateway == '${gateway}'"`,
    `    egress.egw.dev/namespaceSelector: "kubernetes.io/metadata.name == '${GATEWAY_NS}'"`,
    "---",
    "apiVersion: v1",
    "kind: Pod",
    `metadata: {name: client, namespace: ${ns}}`,
    "spec: {nodeName: node-1}",
    "---",
  ].join("\n");

interface Maintenance {
  gatewayIP: string;
  started: string;
  finished: string;
}

describe("graceful drain in the lab (root)", { skip: !isRoot && "needs root", timeout: 1_200_000 }, () => {
  const session = labSession("dr");
  const { lab, egw, apply, runningPod, readyGateway, getPod, manyConnections } = session;
  const streams: EchoStream[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "egw-e2e-drain-"));

  before(async () => {
    await session.up(3);
    await apply(["apiVersion: v1", "kind: Namespace", `metadata: {name: ${GATEWAY_NS}}`, "---"].join("\n"));
  });

  after(async () => {
    streams.forEach((s) => s.kill());
    await session.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** The maintenance annotations on a client pod, if it carries them. */
  const maintenanceOf = async (ns: string): Promise<Maintenance | undefined> => {
    const a = (await getPod(ns, "client"))?.metadata.annotations ?? {};
    const [gatewayIP, started, finished] = [
      a[ANN_MAINTENANCE_GATEWAY_IP],
      a[ANN_MAINTENANCE_STARTED],
      a[ANN_MAINTENANCE_FINISHED],
    ];
    if (gatewayIP === undefined && started === undefined && finished === undefined) return undefined;
    assert.ok(gatewayIP && started && finished, `partial maintenance annotations: ${JSON.stringify(a)}`);
    return { gatewayIP, started, finished };
  };

  const replicasOf = async (name: string) =>
    (JSON.parse(await egw("get", "egw", "-n", GATEWAY_NS, name, "-o", "json")) as GatewayJson).status
      ?.replicas ?? [];

  /** Waits until new connections from the client have used every one of `ips`. */
  const usesAll = (ns: string, ips: readonly string[]) => {
    const seen = new Set<string>();
    return eventually(`${ns}/client to use ${ips.join(", ")}`, async () => {
      for (const s of await manyConnections(ns, "client", WHOAMI, 10)) seen.add(s);
      return ips.every((ip) => seen.has(ip)) ? true : undefined;
    });
  };

  /** Echo streams from the client until at least `perIP` of them run through each of `ips`. */
  const streamsOver = async (ns: string, ips: readonly string[], perIP: number) => {
    const by = new Map<string, EchoStream[]>(ips.map((ip) => [ip, []]));
    for (let i = 0; i < 40 && [...by.values()].some((l) => l.length < perIP); i++) {
      const s = startEchoStream(podNetns(lab, ns, "client"), ECHO_SERVICE.ip, ECHO_SERVICE.port);
      streams.push(s);
      const source = await s.connected;
      assert.ok(by.has(source), `stream left with ${source}, not one of ${ips.join(", ")}`);
      by.get(source)?.push(s);
    }
    assert.ok(
      [...by.values()].every((l) => l.length >= perIP),
      `streams did not spread: ${[...by].map(([ip, l]) => `${ip}: ${l.length}`).join(", ")}`,
    );
    return by;
  };

  /** The streams keep echoing: `more` echoes each after now. */
  const flowing = async (list: readonly EchoStream[], more: number): Promise<void> => {
    const from = list.map((s) => s.counters().echoed);
    await eventually(`${list.length} stream(s) to keep echoing`, async () => {
      for (const s of list) if (s.ended()) assert.fail(`a stream ended: ${JSON.stringify(s.ended())}`);
      return list.every((s, i) => s.counters().echoed >= (from[i] ?? 0) + more) ? true : undefined;
    });
  };

  /** Ends streams cleanly: every echo came back, none was reset. */
  const endCleanly = async (list: readonly EchoStream[], what: string): Promise<void> => {
    for (const s of list) {
      const final = await s.stop();
      assert.equal(final.event, "done", `${what}: a stream broke: ${JSON.stringify(final)}`);
      assert.equal(final.echoed, final.sent);
    }
  };

  const checkWindow = (m: Maintenance, gatewayIP: string): void => {
    assert.equal(m.gatewayIP, gatewayIP);
    assert.equal(
      Date.parse(m.finished) - Date.parse(m.started),
      GRACE_SECONDS * 1000,
      `the window is the grace period: ${JSON.stringify(m)}`,
    );
  };

  it("scale-down: the drained replica's streams survive the grace period, new connections use the other one, the client is told", async (t) => {
    await apply(
      [
        gatewayYaml({ name: "shrink", cidr: "10.10.8.0/29", replicas: 2, grace: GRACE_SECONDS }),
        clientYaml("shrink", "shrink"),
      ].join("\n"),
    );
    await readyGateway(GATEWAY_NS, "shrink", 2);
    await runningPod("shrink", "client");
    const byName = new Map((await replicasOf("shrink")).map((r) => [r.name, r.egressIP ?? ""]));
    // A scale-down retires the highest index.
    const [kept, drained] = [byName.get("shrink-0") ?? "", byName.get("shrink-1") ?? ""];
    await usesAll("shrink", [kept, drained]);
    const by = await streamsOver("shrink", [kept, drained], 2);
    const onDrained = by.get(drained) ?? [];
    const onKept = by.get(kept) ?? [];

    await apply(gatewayYaml({ name: "shrink", cidr: "10.10.8.0/29", replicas: 1, grace: GRACE_SECONDS }));
    // The annotation is written after the client's node applied the plan without the replica.
    const m = await eventually("maintenance annotations on the client", () => maintenanceOf("shrink"));
    checkWindow(m, drained);
    await flowing(onDrained, 5);
    await endCleanly(onDrained, "on the draining replica");
    const during = await manyConnections("shrink", "client", WHOAMI, 20);
    assert.deepEqual(
      new Set(during),
      new Set([kept]),
      `new connections during the drain: ${during.join(" ")}`,
    );
    const checkedAt = new Date().toISOString();

    await eventually("the maintenance annotations to clear", async () =>
      (await maintenanceOf("shrink")) === undefined ? true : undefined,
    );
    assert.deepEqual(
      (await replicasOf("shrink")).map((r) => r.egressIP),
      [kept],
    );
    await flowing(onKept, 5);
    await endCleanly(onKept, "on the remaining replica");
    t.diagnostic(
      `window ${m.started} → ${m.finished}; new connections checked at ${checkedAt}; ` +
        `${onDrained.length} stream(s) drained cleanly`,
    );
  });

  it("rolling template change: new replicas first, old ones drain one by one with the same guarantees", async (t) => {
    const spec = { name: "roll", cidr: "10.10.9.0/28", replicas: 2, grace: GRACE_SECONDS };
    await apply([gatewayYaml({ ...spec, labels: { version: "1" } }), clientYaml("roll", "roll")].join("\n"));
    const old = await readyGateway(GATEWAY_NS, "roll", 2);
    await runningPod("roll", "client");
    await usesAll("roll", old);
    const by = await streamsOver("roll", old, 1);

    await apply(gatewayYaml({ ...spec, labels: { version: "2" } }));
    const drained: string[] = [];
    let last: Maintenance | undefined;
    while (drained.length < old.length) {
      const m = await eventually(
        "the next old replica to drain",
        async () => {
          last = await maintenanceOf("roll");
          return last !== undefined && !drained.includes(last.gatewayIP) ? last : undefined;
        },
        { describeLast: () => JSON.stringify(last) },
      );
      assert.ok(old.includes(m.gatewayIP), `a new replica drains: ${JSON.stringify(m)}`);
      checkWindow(m, m.gatewayIP);
      drained.push(m.gatewayIP);
      const mine = by.get(m.gatewayIP) ?? [];
      await flowing(mine, 5);
      await endCleanly(mine, `on draining ${m.gatewayIP}`);
      const during = await manyConnections("roll", "client", WHOAMI, 10);
      assert.ok(
        during.every((s) => s !== "" && s !== m.gatewayIP),
        `new connections while ${m.gatewayIP} drains: ${during.join(" ")}`,
      );
    }
    await eventually("the maintenance annotations to clear", async () =>
      (await maintenanceOf("roll")) === undefined ? true : undefined,
    );
    const updated = await readyGateway(GATEWAY_NS, "roll", 2);
    assert.ok(
      updated.every((ip) => !old.includes(ip)),
      `new egress IPs: ${updated.join(", ")}, old: ${old.join(", ")}`,
    );
    const replicas = await replicasOf("roll");
    assert.equal(replicas.length, 2);
    for (const r of replicas) {
      const labels = (
        JSON.parse(await egw("get", "pod", "-n", GATEWAY_NS, r.name, "-o", "json")) as {
          metadata: { labels?: Record<string, string> };
        }
      ).metadata.labels;
      assert.equal(labels?.version, "2", `${r.name} labels: ${JSON.stringify(labels)}`);
    }
    t.diagnostic(`drained ${drained.join(" then ")}; new egress IPs ${updated.join(", ")}`);
  });

  it("egw drain node: the replica moves off the node and no short connection fails", async (t) => {
    await apply(
      [
        gatewayYaml({ name: "move", cidr: "10.10.10.0/29", replicas: 1, grace: 6 }),
        clientYaml("move", "move"),
      ].join("\n"),
    );
    const [before] = await readyGateway(GATEWAY_NS, "move", 1);
    const node = (await replicasOf("move"))[0]?.node ?? "";
    assert.match(node, /^node-\d$/);
    await runningPod("move", "client");
    await usesAll("move", [before ?? ""]);

    // New connections, one after the other, for as long as the drain takes.
    const stop = join(tmp, "stop-move");
    const loop = runEgw(session.env, [
      "exec",
      "-n",
      "move",
      "client",
      "--",
      "sh",
      "-c",
      `while [ ! -e ${stop} ]; do r=$(curl -s -m 3 ${WHOAMI}); echo "\${r:-FAILED}"; sleep 0.05; done`,
    ]);
    let out = "";
    try {
      out = await egw("drain", "node", node, "--timeout", "5m");
    } finally {
      writeFileSync(stop, "");
    }
    const answers = (await loop).stdout.split("\n").filter((l) => l !== "");
    assert.equal(answers.filter((a) => a === "FAILED").length, 0, `failed connections: ${answers.join(" ")}`);
    // kubectl's lines; replicas of the earlier tests' gateways on the node move too.
    const lines = out.trimEnd().split("\n");
    assert.equal(lines[0], `node/${node} cordoned`);
    assert.equal(lines.at(-1), `node/${node} drained`);
    for (const l of [`evicting pod ${GATEWAY_NS}/move-0`, "pod/move-0 evicted"])
      assert.ok(lines.includes(l), out);
    assert.ok(
      lines.slice(1, -1).every((l) => /^(evicting pod \S+\/\S+|pod\/\S+ evicted)$/.test(l)),
      out,
    );
    const [after] = await readyGateway(GATEWAY_NS, "move", 1);
    const moved = await replicasOf("move");
    assert.notEqual(moved[0]?.node, node, "the replica left the cordoned node");
    assert.ok(
      answers.includes(before ?? "") && answers.includes(after ?? ""),
      `answers: ${answers.join(" ")}`,
    );
    assert.equal(await egw("uncordon", "node", node), `node/${node} uncordoned\n`);
    t.diagnostic(`${answers.length} connections while ${node} drained: ${before} → ${after}`);
  });
});
