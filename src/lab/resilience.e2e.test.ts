// End to end (root): egw under stress in a 3-node lab — an agent killed and restarted under a
// long-lived connection, egw's nft table deleted by hand, and 200 egress pods on one node.
// Gateways run on node-2; the streaming client on node-1; the 200 pods on node-3.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { RULE_PRIORITY_FIRST, RULE_PRIORITY_LAST, TABLE_FIRST, TABLE_LAST } from "../dataplane/band.js";
import { agentComponent, LAB_RESYNC_SECONDS } from "./components.js";
import { nodeNetns, podNetns } from "./names.js";
import { isAlive } from "../util/background-process.js";
import { labPaths, readManifest } from "./state.js";
import { ECHO_SERVICE } from "./topology.js";
import { startEchoStream, type EchoStream } from "./testing/echo-stream.js";
import { eventually, runCmd } from "./testing/lab-cli.js";
import { labSession, type PodJson } from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;

const GATEWAY_NS = "gw";
const ON_NODE_2 = "template: {spec: {nodeSelector: {kubernetes.io/hostname: node-2}}}";
const inGatewayNs = `kubernetes.io/metadata.name == '${GATEWAY_NS}'`;

/** A pool, and a one-replica gateway on node-2 drawing from it, labelled egw.dev/gateway: name. */
const gatewayYaml = (name: string, cidr: string): string =>
  [
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    `metadata: {name: ${name}}`,
    `spec: {cidr: ${cidr}, allowedUses: [EgressGateway], nodeSelector: "!all()"}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: ${name}, namespace: ${GATEWAY_NS}}`,
    `spec: {replicas: 1, ipPools: [{name: ${name}}], ${ON_NODE_2}}`,
    "---",
  ].join("\n");

const namespaceYaml = (name: string, annotations: Record<string, string> = {}): string =>
  [
    "apiVersion: v1",
    "kind: Namespace",
    `metadata: {name: ${name}, annotations: ${JSON.stringify(annotations)}}`,
    "---",
  ].join("\n");

const podYaml = (ns: string, name: string, node: string, annotations: Record<string, string> = {}): string =>
  [
    "apiVersion: v1",
    "kind: Pod",
    `metadata: {name: ${name}, namespace: ${ns}, annotations: ${JSON.stringify(annotations)}}`,
    `spec: {nodeName: ${node}}`,
    "---",
  ].join("\n");

const selecting = (selector: string): Record<string, string> => ({
  "egress.egw.dev/selector": selector,
  "egress.egw.dev/namespaceSelector": inGatewayNs,
});

describe(
  "resilience and scale in the lab (root)",
  { skip: !isRoot && "needs root", timeout: 1_200_000 },
  () => {
    const session = labSession("r");
    const { lab, stateDir, egw, apply, runningPod, readyGateway, leavesAs } = session;
    const streams: EchoStream[] = [];

    before(async () => {
      await session.up(3);
      await apply(namespaceYaml(GATEWAY_NS));
    });

    after(async () => {
      streams.forEach((s) => s.kill());
      await session.down();
    });

    it("restart and drift: a long-lived connection keeps echoing while the node's agent is killed and restarted; a deleted nft table comes back", async (t) => {
      await apply(
        [
          gatewayYaml("stream", "10.10.5.0/29"),
          namespaceYaml("stream", selecting("egw.dev/gateway == 'stream'")),
          podYaml("stream", "client", "node-1"),
        ].join("\n"),
      );
      const [egressIP] = await readyGateway(GATEWAY_NS, "stream", 1);
      assert.match(egressIP ?? "", /^10\.10\.5\.[0-7]$/);
      await runningPod("stream", "client");
      await leavesAs("stream", "client", [egressIP ?? ""]);

      // The stream: "seq N" every 100 ms to the echo service, each echo checked in order.
      const stream = startEchoStream(podNetns(lab, "stream", "client"), ECHO_SERVICE.ip, ECHO_SERVICE.port);
      streams.push(stream);
      assert.equal(await stream.connected, egressIP, "the echo service saw another source IP");
      const flowing = (what: string, atLeast: number): Promise<number> =>
        eventually(
          what,
          async () => {
            const ended = stream.ended();
            if (ended) assert.fail(`the stream ended: ${JSON.stringify(ended)}`);
            const { echoed } = stream.counters();
            return echoed >= atLeast ? echoed : undefined;
          },
          { describeLast: () => JSON.stringify(stream.counters()) },
        );
      await flowing("20 echoes before the restart", 20);

      // Kill node-1's agent (SIGKILL: no cleanup) and let the lab runtime start it again.
      const component = agentComponent("node-1");
      const logFile = labPaths(stateDir).log(component);
      const before = readManifest(stateDir)?.processes[component]?.pid;
      assert.ok(before !== undefined && isAlive(before), `${component} is not running`);
      const logOffset = statSync(logFile).size;
      const echoedAtKill = stream.counters().echoed;
      const killedAt = Date.now();
      process.kill(before, "SIGKILL");
      const restarted = await eventually(`${component} to be restarted by the lab runtime`, async () => {
        const pid = readManifest(stateDir)?.processes[component]?.pid;
        return pid !== undefined && pid !== before && isAlive(pid) ? pid : undefined;
      });
      const restartedAfterMs = Date.now() - killedAt;
      assert.match(await egw("status"), new RegExp(`${component}\\s+${restarted}\\s+running`));
      const sinceRestart = (): string => readFileSync(logFile, "utf8").slice(logOffset);
      await eventually(`the restarted ${component} to load the cluster state`, async () =>
        sinceRestart().includes("cluster state loaded") ? true : undefined,
      );
      // Keep streaming across two of the new agent's resyncs (10 echoes a second).
      const echoedAtLoad = stream.counters().echoed;
      await flowing(
        "the stream to keep echoing after the restart",
        echoedAtLoad + 2 * LAB_RESYNC_SECONDS * 10,
      );
      const final = await stream.stop();
      const agentLog = sinceRestart();
      t.diagnostic(
        `stream: ${JSON.stringify(final)}; echoed ${echoedAtKill} before the kill; ` +
          `restarted agent reconciled with changes: ${/"dataplane reconciled"/.test(agentLog) ? "yes" : "no"}`,
      );
      assert.equal(
        final.event,
        "done",
        `the stream broke: ${JSON.stringify(final)}\nagent log:\n${agentLog}`,
      );
      assert.equal(final.echoed, final.sent);

      // Drift: egw's nft table deleted by hand is put back by the agent's periodic resync.
      const node1 = nodeNetns(lab, 1);
      const deletedAt = Date.now();
      const deleted = await runCmd("ip", ["netns", "exec", node1, "nft", "delete", "table", "inet", "egw"]);
      assert.equal(deleted.code, 0, deleted.stderr);
      await eventually(
        "nft table inet egw to be back on node-1",
        async () =>
          (await runCmd("ip", ["netns", "exec", node1, "nft", "list", "table", "inet", "egw"])).code === 0
            ? true
            : undefined,
        { timeoutMs: 6 * LAB_RESYNC_SECONDS * 1000 },
      );
      t.diagnostic(
        `agent restarted ${restartedAfterMs} ms after the kill; ` +
          `nft table back ${Date.now() - deletedAt} ms after its deletion`,
      );
      await leavesAs("stream", "client", [egressIP ?? ""]);
      const again = startEchoStream(podNetns(lab, "stream", "client"), ECHO_SERVICE.ip, ECHO_SERVICE.port);
      streams.push(again);
      assert.equal(await again.connected, egressIP);
      assert.equal((await again.stop()).event, "done");
    });

    it("scale on a node: 200 egress pods on one node work, with ip rules and tables per gateway set, not per pod", async (t) => {
      const A = "egw.dev/gateway == 'scale-a'";
      const B = "egw.dev/gateway == 'scale-b'";
      const AB = "egw.dev/gateway in {'scale-a', 'scale-b'}";
      await apply(
        [
          gatewayYaml("scale-a", "10.10.6.0/29"),
          gatewayYaml("scale-b", "10.10.7.0/29"),
          namespaceYaml("scale-1", selecting(A)),
          namespaceYaml("scale-2", selecting(B)),
          namespaceYaml("scale-3", selecting(AB)),
        ].join("\n"),
      );
      const [ipA] = await readyGateway(GATEWAY_NS, "scale-a", 1);
      const [ipB] = await readyGateway(GATEWAY_NS, "scale-b", 1);
      assert.ok(ipA && ipB && ipA !== ipB);
      const egressIPs: Record<string, string[]> = { [A]: [ipA], [B]: [ipB], [AB]: [ipA, ipB].sort() };

      // 200 pods over 3 namespaces; some override their namespace's choice with a pod annotation
      // that another namespace uses too, so pods of different namespaces share a gateway set.
      const pods = Array.from({ length: 200 }, (_, i) => {
        const ns = `scale-${(i % 3) + 1}`;
        const own = ns === "scale-1" && i % 7 === 0 ? B : ns === "scale-3" && i % 5 === 0 ? A : undefined;
        const selector = own ?? (ns === "scale-1" ? A : ns === "scale-2" ? B : AB);
        return {
          ns,
          name: `p-${String(i).padStart(3, "0")}`,
          selector,
          annotations: own ? selecting(own) : {},
        };
      });
      const gatewaySets = new Set(pods.map((p) => p.selector)).size;
      assert.equal(gatewaySets, 3);
      const started = Date.now();
      await apply(pods.map((p) => podYaml(p.ns, p.name, "node-3", p.annotations)).join("\n"));

      let last = "";
      await eventually(
        "all 200 pods Running",
        async () => {
          const list = JSON.parse(await egw("get", "pods", "-A", "-o", "json")) as { items: PodJson[] };
          const scale = list.items.filter((p) => p.metadata.namespace?.startsWith("scale-"));
          const running = scale.filter((p) => p.status?.phase === "Running" && p.status.podIP);
          const failed = scale.filter((p) => p.status?.phase === "Failed");
          if (failed.length > 0)
            assert.fail(
              `pods failed: ${failed.map((p) => `${p.metadata.name}: ${p.status?.message ?? ""}`).join("; ")}`,
            );
          last = `${running.length}/${scale.length} running`;
          return running.length === 200 ? true : undefined;
        },
        { timeoutMs: 600_000, intervalMs: 2000, describeLast: () => last },
      );
      t.diagnostic(`200 pods Running after ${((Date.now() - started) / 1000).toFixed(1)} s`);

      // A sample (every 10th pod: 20) leaves with the egress IP(s) of its gateway set.
      const sample = pods.filter((_, i) => i % 10 === 0);
      assert.equal(sample.length, 20);
      for (const p of sample) await leavesAs(p.ns, p.name, egressIPs[p.selector] ?? []);
      t.diagnostic(`sample reached whoami after ${((Date.now() - started) / 1000).toFixed(1)} s`);

      // Kernel state on node-3: rules and tables in egw's band, one per gateway set.
      const node3 = nodeNetns(lab, 3);
      const rules = JSON.parse((await runCmd("ip", ["-n", node3, "-j", "rule", "show"])).stdout || "[]") as {
        priority?: number;
        table?: string | number;
      }[];
      const routes = JSON.parse(
        (await runCmd("ip", ["-n", node3, "-j", "route", "show", "table", "all"])).stdout || "[]",
      ) as { table?: string | number; nhid?: number; type?: string }[];
      const inBand = (table: string | number | undefined): boolean =>
        Number(table) >= TABLE_FIRST && Number(table) <= TABLE_LAST;
      const egwRules = rules.filter(
        (r) => (r.priority ?? -1) >= RULE_PRIORITY_FIRST && (r.priority ?? -1) <= RULE_PRIORITY_LAST,
      );
      // A gateway set's table routes through a nexthop group (or throw/unreachable); the other
      // slot tables are pins, one per replica the node's connections may use (not per pod).
      const setTables = new Set(
        routes
          .filter(
            (r) =>
              inBand(r.table) && (r.nhid !== undefined || r.type === "throw" || r.type === "unreachable"),
          )
          .map((r) => Number(r.table)),
      );
      const egwTables = new Set(routes.filter((r) => inBand(r.table)).map((r) => Number(r.table)));
      const setRules = egwRules.filter((r) => setTables.has(Number(r.table)));
      t.diagnostic(
        `node-3: ${egwRules.length} ip rules and ${egwTables.size} tables in egw's band for 200 pods ` +
          `(${setTables.size} gateway sets, ${egwTables.size - setTables.size} pins)`,
      );
      assert.equal(setTables.size, gatewaySets, `tables: ${[...egwTables].join(", ")}`);
      assert.equal(setRules.length, gatewaySets, `rules: ${JSON.stringify(egwRules)}`);
      assert.ok(egwTables.size - setTables.size <= 10, `pins are per replica: ${[...egwTables].join(", ")}`);
      assert.deepEqual(
        new Set(egwRules.filter((r) => inBand(r.table)).map((r) => Number(r.table))),
        egwTables,
      );
    });
  },
);
