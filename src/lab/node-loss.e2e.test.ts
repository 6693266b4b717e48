// End to end (root): a gateway replica's node is cut off the network in a 3-node lab. A 2-replica
// gateway runs on two nodes and a client pod on the third. While the node is cut, the client's new
// connections recover (through the client agent's liveness of the replicas), a long-lived echo
// stream on the surviving replica keeps echoing, the stale replica fences itself (no egress
// address, no SNAT table) and the controller replaces it on another node with an egress IP from
// the pool. After the node is restored, the stale replica never SNATs again: the router sees no
// packet from its egress IP coming from the restored node, and no egress IP is held twice.
import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { CONDITION_NODE_REACHABLE } from "../api/well-known.js";
import { GATEWAY_NFT_TABLE } from "../dataplane/config.js";
import { agentComponent, gatewayComponent } from "./components.js";
import { infraNetns, nodeNetns, podNetns, POD_INTERFACE, UNDERLAY_INTERFACE } from "./names.js";
import { netnsExists } from "./netns.js";
import { labPaths } from "./state.js";
import { ECHO_SERVICE } from "./topology.js";
import { startEchoStream, type EchoStream } from "./testing/echo-stream.js";
import { eventually, runCmd } from "./testing/lab-cli.js";
import { labSession, nodeIP, WHOAMI, type GatewayJson } from "./testing/lab-session.js";
import { nftCounterPackets } from "./testing/policy-helpers.js";

const isRoot = process.getuid?.() === 0;

const GW_NS = "gw";
const APP_NS = "app";
const POOL_CIDR = "10.10.8.0/29";
const POOL_RE = /^10\.10\.8\.[0-7]$/;
/** The router's table counting what arrives from the stale replica's node with its egress IP. */
const TEST_TABLE = "egw_nodeloss_test";

const setupYaml = [
  "apiVersion: v1",
  "kind: Namespace",
  `metadata: {name: ${GW_NS}}`,
  "---",
  "apiVersion: egw.dev/v1",
  "kind: IPPool",
  "metadata: {name: loss}",
  `spec: {cidr: ${POOL_CIDR}, allowedUses: [EgressGateway], nodeSelector: "!all()"}`,
  "---",
  "apiVersion: egw.dev/v1",
  "kind: EgressGateway",
  `metadata: {name: ha, namespace: ${GW_NS}}`,
  "spec: {replicas: 2, ipPools: [{name: loss}]}",
  "---",
  "apiVersion: v1",
  "kind: Namespace",
  `metadata:`,
  `  name: ${APP_NS}`,
  `  annotations:`,
  `    egress.egw.dev/selector: "egw.dev/gateway == 'ha'"`,
  `    egress.egw.dev/namespaceSelector: "kubernetes.io/metadata.name == '${GW_NS}'"`,
  "",
].join("\n");

type Replica = NonNullable<NonNullable<GatewayJson["status"]>["replicas"]>[number];

interface NodeJson {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

describe("node loss in the lab (root)", { skip: !isRoot && "needs root", timeout: 1_200_000 }, () => {
  const session = labSession("nl");
  const { lab, stateDir, egw, apply, runningPod, readyGateway, leavesAs, manyConnections } = session;
  const rtr = infraNetns(lab, "rtr");
  const streams: EchoStream[] = [];
  let cutNode: string | undefined;

  before(async () => {
    await session.up(3);
  });

  after(async () => {
    streams.forEach((s) => s.kill());
    // EGW_E2E_KEEP_LOGS=DIR keeps the components' logs for a post-mortem.
    const keep = process.env.EGW_E2E_KEEP_LOGS;
    if (keep) cpSync(labPaths(stateDir).logs, `${keep}/${lab}`, { recursive: true });
    if (cutNode !== undefined) await session.egw("lab", "node", "restore", cutNode).catch(() => undefined);
    await runCmd("ip", ["netns", "exec", rtr, "nft", "delete", "table", "inet", TEST_TABLE]);
    await session.down();
  });

  const replicas = async (): Promise<Replica[]> =>
    (JSON.parse(await egw("get", "egw", "-n", GW_NS, "ha", "-o", "json")) as GatewayJson).status?.replicas ??
    [];

  const reachability = async (node: string) => {
    const n = JSON.parse(await egw("get", "node", node, "-o", "json")) as NodeJson;
    return n.status?.conditions?.find((c) => c.type === CONDITION_NODE_REACHABLE);
  };

  const ulMac = async (netns: string): Promise<string> => {
    const r = await runCmd("ip", ["-n", netns, "-j", "link", "show", UNDERLAY_INTERFACE]);
    assert.equal(r.code, 0, r.stderr);
    const [link] = JSON.parse(r.stdout) as { address?: string }[];
    assert.ok(link?.address, `no MAC on ${UNDERLAY_INTERFACE} in ${netns}`);
    return link.address;
  };

  /** The IPv4 addresses on the stale replica's uplink, or undefined once its netns is gone. */
  const uplinkAddresses = async (netns: string): Promise<string[] | undefined> => {
    const r = await runCmd("ip", ["-n", netns, "-j", "-4", "addr", "show", "dev", POD_INTERFACE]);
    if (r.code !== 0) return undefined;
    const links = JSON.parse(r.stdout || "[]") as { addr_info?: { local?: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? ""));
  };

  const hasGatewayTable = async (netns: string): Promise<boolean> =>
    (await runCmd("ip", ["netns", "exec", netns, "nft", "list", "table", "inet", GATEWAY_NFT_TABLE])).code ===
    0;

  /** Egress-IP routes on the router (learned by BGP: the lab's default): egress IP → next hop. */
  const routerRoutes = async (): Promise<{ dst: string; gateway?: string }[]> => {
    const r = await runCmd("ip", ["-n", rtr, "-j", "-4", "route", "show", "proto", "bird"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout || "[]") as { dst: string; gateway?: string }[];
  };

  it("a replica's node is cut: clients recover, streams on the survivor live, the replica is replaced, and the stale one never SNATs again", async (t) => {
    await apply(setupYaml);
    const ips = await readyGateway(GW_NS, "ha", 2);
    for (const ip of ips) assert.match(ip, POOL_RE);
    const placed = await replicas();
    const gatewayNodes = new Set(placed.map((r) => r.node ?? ""));
    assert.equal(gatewayNodes.size, 2, `replicas share a node: ${JSON.stringify(placed)}`);
    const clientNode = ["node-1", "node-2", "node-3"].find((n) => !gatewayNodes.has(n)) ?? "";
    await apply(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: ${APP_NS}}\nspec: {nodeName: ${clientNode}}\n`,
    );
    await runningPod(APP_NS, "client");
    await leavesAs(APP_NS, "client", ips);

    // Every agent renews its lease.
    const leases = await egw("get", "leases", "-n", "egw-system");
    for (const n of ["node-1", "node-2", "node-3"])
      assert.match(leases, new RegExp(`egw-agent-${n}\\s+${n}\\s`));

    // A long-lived stream; the replica it does not use is the one whose node is cut.
    const stream = startEchoStream(podNetns(lab, APP_NS, "client"), ECHO_SERVICE.ip, ECHO_SERVICE.port);
    streams.push(stream);
    const survivorIP = await stream.connected;
    const survivor = placed.find((r) => r.egressIP === survivorIP);
    const victim = placed.find((r) => r.egressIP !== survivorIP);
    assert.ok(survivor && victim?.node && victim.egressIP, `the stream left as ${survivorIP}, not a replica`);
    const victimIP = victim.egressIP;
    const victimNetns = podNetns(lab, GW_NS, victim.name);
    const echoing = (what: string, atLeast: number): Promise<number> =>
      eventually(
        what,
        async () => {
          const ended = stream.ended();
          if (ended) assert.fail(`the stream on the surviving replica ended: ${JSON.stringify(ended)}`);
          const { echoed } = stream.counters();
          return echoed >= atLeast ? echoed : undefined;
        },
        { describeLast: () => JSON.stringify(stream.counters()) },
      );
    await echoing("the stream to echo", 10);

    // The router counts packets from the victim's egress IP arriving from the victim's node.
    const victimNodeNetns = nodeNetns(lab, Number(victim.node.replace("node-", "")));
    const mac = await ulMac(victimNodeNetns);
    const table = [
      `table inet ${TEST_TABLE} {`,
      `  counter stale {}`,
      `  chain pre {`,
      `    type filter hook prerouting priority raw; policy accept;`,
      `    iifname "${UNDERLAY_INTERFACE}" ether saddr ${mac} ip saddr ${victimIP} counter name "stale"`,
      `  }`,
      `}`,
      ``,
    ].join("\n");
    const loaded = await runCmd("ip", ["netns", "exec", rtr, "nft", "-f", "-"], table);
    assert.equal(loaded.code, 0, loaded.stderr);
    // The counter sees the victim's traffic while it serves (connections are balanced over both).
    await eventually("the router to count the victim's SNATed traffic before the cut", async () => {
      await manyConnections(APP_NS, "client", WHOAMI, 6);
      return (await nftCounterPackets(rtr, TEST_TABLE, "stale")) > 0 ? true : undefined;
    });

    // Cut the victim's node.
    const agentLog = labPaths(stateDir).log(agentComponent(victim.node));
    const gatewayLog = labPaths(stateDir).log(gatewayComponent(GW_NS, victim.name));
    const agentLogAt = readFileSync(agentLog, "utf8").length;
    const cutAt = Date.now();
    assert.match(await egw("lab", "node", "cut", victim.node), new RegExp(`${victim.node} cut off`));
    cutNode = victim.node;

    // New connections recover (the client agent's liveness of the replicas moves them).
    const recovered = await eventually(
      "the client's new connections to succeed again",
      async () => {
        const answers = await manyConnections(APP_NS, "client", WHOAMI, 5);
        return answers.every((a) => POOL_RE.test(a)) ? answers : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const recoveredAfterMs = Date.now() - cutAt;

    // The stale replica fences itself; the runtime leaves its namespace alone while the node is cut.
    await eventually(
      "the stale replica to withdraw its egress address and SNAT table",
      async () => {
        const addrs = await uplinkAddresses(victimNetns);
        assert.ok(addrs !== undefined, `${victimNetns} vanished while its node is cut`);
        return !addrs.includes(victimIP) && !(await hasGatewayTable(victimNetns)) ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const fencedAfterMs = Date.now() - cutAt;

    // The controller marks the node lost and replaces the replica elsewhere, with an IP from the pool.
    const lost = await eventually("the cut node to be marked lost", async () => {
      const c = await reachability(victim.node ?? "");
      return c?.status === "False" ? c : undefined;
    });
    assert.equal(lost.reason, "LeaseExpired");
    const lostAfterMs = Date.now() - cutAt;
    const replaced = await eventually(
      "two ready replicas, none on the cut node",
      async () => {
        const now = await replicas();
        const ready = now.filter((r) => r.ready && r.egressIP);
        return ready.length === 2 && now.length === 2 && ready.every((r) => r.node !== victim.node)
          ? ready
          : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const replacement = replaced.find((r) => r.name !== survivor.name);
    assert.ok(replacement?.egressIP);
    assert.match(replacement.egressIP, POOL_RE);
    assert.notEqual(replacement.name, victim.name);
    assert.equal(new Set(replaced.map((r) => r.egressIP)).size, 2, "an egress IP is held twice");
    assert.ok(await netnsExists(victimNetns), "a cut node's pod namespace must stay until it is restored");
    assert.equal(await hasGatewayTable(victimNetns), false, "the stale replica SNATs again");
    const newIPs = replaced.map((r) => r.egressIP ?? "");
    await leavesAs(APP_NS, "client", newIPs);
    await echoing("the stream to keep echoing while the node is cut", stream.counters().echoed + 20);

    // The node's agent and gateway really lost the datastore.
    assert.match(readFileSync(agentLog, "utf8").slice(agentLogAt), /cannot renew the node lease/);
    assert.match(readFileSync(gatewayLog, "utf8"), /"fenced".*DatastoreUnreachable/);

    // Restore: the stale replica stays dark and the runtime removes it.
    const staleBefore = await nftCounterPackets(rtr, TEST_TABLE, "stale");
    assert.match(await egw("lab", "node", "restore", victim.node), /restored/);
    cutNode = undefined;
    await eventually("the restored node to be reachable again", async () => {
      const c = await reachability(victim.node ?? "");
      return c?.status === "True" ? c : undefined;
    });
    await eventually(
      "the lab runtime to remove the stale replica's namespace",
      async () => ((await netnsExists(victimNetns)) ? undefined : true),
      { timeoutMs: 60_000 },
    );
    const after = await manyConnections(APP_NS, "client", WHOAMI, 20);
    assert.deepEqual(
      after.filter((a) => !newIPs.includes(a)),
      [],
      `connections after the restore left otherwise: ${after.join(" ")}`,
    );
    assert.equal(
      await nftCounterPackets(rtr, TEST_TABLE, "stale"),
      staleBefore,
      `the router saw packets from ${victimIP} coming from the restored ${victim.node}`,
    );
    // The replacement's node announces its IP once it is Ready: wait for BGP to carry it.
    const routes = await eventually("the router to route every replica's egress IP", async () => {
      const rs = await routerRoutes();
      return replaced.every((r) => rs.some((x) => x.dst.replace(/\/32$/, "") === r.egressIP))
        ? rs
        : undefined;
    });
    const routed = routes.map((r) => r.dst.replace(/\/32$/, ""));
    assert.equal(
      new Set(routed).size,
      routed.length,
      `an egress IP is routed twice: ${JSON.stringify(routes)}`,
    );
    for (const r of replaced)
      assert.ok(
        routes.some((x) => x.dst.replace(/\/32$/, "") === r.egressIP && x.gateway === nodeIP(r.node)),
        `the router does not route ${r.egressIP} to ${r.node}: ${JSON.stringify(routes)}`,
      );
    const final = await stream.stop();
    assert.equal(final.event, "done", `the stream on the surviving replica broke: ${JSON.stringify(final)}`);
    assert.equal(final.echoed, final.sent);
    t.diagnostic(
      `cut ${victim.node} (replica ${victim.name}, ${victimIP}); client recovered after ${recoveredAfterMs} ms ` +
        `(${recovered.join(" ")}); stale replica fenced after ≤${fencedAfterMs} ms; node lost after ≤${lostAfterMs} ms; ` +
        `replacement ${replacement.name} on ${replacement.node} with ${replacement.egressIP}; ` +
        `stream ${JSON.stringify(final)}; router counter from the stale node ${staleBefore} packets before the restore, unchanged after`,
    );
  });
});
