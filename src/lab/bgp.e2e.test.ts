// End to end (root): egress IPs reach the lab router by BGP. One 3-node lab in BGP mode (the
// default): the router's BIRD peers with every node's BIRD, which announces the egress IPs of the
// ready replicas on its node. A replica's egress IP is in the router's kernel as a BIRD route via
// its node (no static lab route), and a client's traffic leaves with it; scaling and moving the
// gateway moves the routes; cutting the node withdraws them, through BFD (BIRD says why; the time
// is printed, never asserted); a config BIRD cannot take on one node (a BGPPeer whose password
// Secret holds a quote) is reported on that Node and by `egw status`, and changes no session or
// route anywhere; a killed router BIRD comes back (the runtime) and learns the routes again.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EGRESS_ROUTE_PROTO } from "./gateway-pod-actions.js";
import { infraNetns } from "./names.js";
import { ROUTER_BIRD_COMPONENT, routerProtocolName } from "./router-bird.js";
import { readManifest } from "./state.js";
import { isAlive } from "../util/background-process.js";
import type { RouterView } from "./router-routes.js";
import { eventually, runCmd } from "./testing/lab-cli.js";
import { labSession, nodeIP, type GatewayJson } from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;

const GW_NS = "edge";
const APP_NS = "shop";
const POOL_CIDR = "10.10.9.0/28";
const NODES = ["node-1", "node-2", "node-3"];

const setupYaml = (node: string, replicas: number): string =>
  [
    "apiVersion: v1",
    "kind: Namespace",
    `metadata: {name: ${GW_NS}}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    "metadata: {name: bgp}",
    `spec: {cidr: ${POOL_CIDR}, allowedUses: [EgressGateway], nodeSelector: "!all()"}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: out, namespace: ${GW_NS}}`,
    "spec:",
    `  replicas: ${replicas}`,
    "  ipPools: [{name: bgp}]",
    "  template:",
    "    spec:",
    "      terminationGracePeriodSeconds: 2",
    `      nodeSelector: {kubernetes.io/hostname: ${node}}`,
    "---",
    "apiVersion: v1",
    "kind: Namespace",
    "metadata:",
    `  name: ${APP_NS}`,
    "  annotations:",
    `    egress.egw.dev/selector: "egw.dev/gateway == 'out'"`,
    `    egress.egw.dev/namespaceSelector: "kubernetes.io/metadata.name == '${GW_NS}'"`,
    "---",
    "apiVersion: v1",
    "kind: Pod",
    `metadata: {name: client, namespace: ${APP_NS}}`,
    "spec: {nodeName: node-1}",
    "",
  ].join("\n");

interface NodeJson {
  status?: { bgp?: { error?: string; configApplied?: boolean; peers?: { name: string; state: string }[] } };
}

describe("BGP in the lab (root)", { skip: !isRoot && "needs root", timeout: 1_200_000 }, () => {
  const session = labSession("bg");
  const { lab, stateDir, egw, apply, runningPod, readyGateway, leavesAs } = session;
  const rtr = infraNetns(lab, "rtr");
  let cutNode: string | undefined;

  before(async () => {
    await session.up(3);
  });

  after(async () => {
    if (cutNode !== undefined) await egw("lab", "node", "restore", cutNode).catch(() => undefined);
    await session.down();
  });

  const routerView = async (): Promise<RouterView> =>
    JSON.parse(await egw("lab", "router", "routes", "-o", "json")) as RouterView;

  /** The router kernel's routes of one protocol: destination → next hop. */
  const kernelRoutes = async (proto: string): Promise<Map<string, string>> => {
    const r = await runCmd("ip", ["-n", rtr, "-j", "-4", "route", "show", "proto", proto]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout || "[]") as { dst: string; gateway?: string }[];
    return new Map(rows.map((row) => [row.dst, row.gateway ?? ""]));
  };

  /** Waits until the router's kernel routes exactly `ips` (by BGP) via `node`. */
  const routedVia = (ips: readonly string[], node: string): Promise<Map<string, string>> => {
    let last = "";
    return eventually(
      `the router to route ${ips.join(", ")} via ${node} by BGP, and nothing else`,
      async () => {
        const bird = await kernelRoutes("bird");
        last = JSON.stringify([...bird]);
        const exact = bird.size === ips.length && ips.every((ip) => bird.get(ip) === nodeIP(node));
        return exact ? bird : undefined;
      },
      { describeLast: () => `router kernel (proto bird): ${last}` },
    );
  };

  const replicas = async () =>
    (JSON.parse(await egw("get", "egw", "-n", GW_NS, "out", "-o", "json")) as GatewayJson).status?.replicas ??
    [];

  const allEstablished = (): Promise<RouterView> => {
    let last = "";
    return eventually(
      "the router's sessions with every node to be Established",
      async () => {
        const v = await routerView();
        last = JSON.stringify(v.sessions);
        return v.sessions.length === NODES.length && v.sessions.every((s) => s.state === "Established")
          ? v
          : undefined;
      },
      { describeLast: () => last },
    );
  };

  it("a replica's egress IP reaches the router by BGP (no static route) and traffic leaves with it", async () => {
    await apply(setupYaml("node-2", 1));
    await runningPod(APP_NS, "client");
    const ips = await readyGateway(GW_NS, "out", 1);
    await routedVia(ips, "node-2");
    assert.equal((await kernelRoutes(String(EGRESS_ROUTE_PROTO))).size, 0, "static lab routes on the router");
    const view = await routerView();
    const learned = view.routes.find((r) => r.prefix === `${ips[0]}/32`);
    assert.equal(learned?.node, "node-2");
    assert.equal(learned?.nextHop, nodeIP("node-2"));
    assert.equal(learned?.session, routerProtocolName("node-2"));
    assert.equal(learned?.inKernel, true);
    const text = await egw("lab", "router", "routes");
    assert.match(text, new RegExp(`${ips[0]?.replace(/\./g, "\\.")}/32\\s+node-2\\s+172\\.30\\.0\\.12`));
    await allEstablished();
    await leavesAs(APP_NS, "client", ips);
  });

  it("scaling adds routes and moving the gateway moves them to the new node", async () => {
    await apply(setupYaml("node-2", 2));
    const two = await readyGateway(GW_NS, "out", 2);
    await routedVia(two, "node-2");
    await leavesAs(APP_NS, "client", two);

    await apply(setupYaml("node-3", 2));
    const moved = await eventually("both replicas to run on node-3", async () => {
      const r = await replicas();
      const ready = r.filter((x) => x.ready && x.egressIP && x.node === "node-3");
      return r.length === 2 && ready.length === 2 ? ready.map((x) => x.egressIP ?? "").sort() : undefined;
    });
    await routedVia(moved, "node-3");
    await leavesAs(APP_NS, "client", moved);
  });

  it("a cut gateway node's routes are withdrawn by BFD, and come back after restore", async (t) => {
    const ips = (await replicas()).map((r) => r.egressIP ?? "").sort();
    await routedVia(ips, "node-3");
    cutNode = "node-3";
    await egw("lab", "node", "cut", "node-3");
    // From the cut command's return (its port is down by then; the CLI's own start-up not counted).
    const started = Date.now();
    await eventually(
      "the router to withdraw node-3's routes",
      async () => ((await kernelRoutes("bird")).size === 0 ? true : undefined),
      { intervalMs: 50 },
    );
    const withdrawnMs = Date.now() - started;
    t.diagnostic(`node-3 cut → its ${ips.length} route(s) gone from the router in ${withdrawnMs} ms`);
    // BIRD says why the session went: BFD, not the hold timer.
    const s = (await routerView()).sessions.find((x) => x.node === "node-3");
    assert.match(s?.info ?? "", /BFD session down/, JSON.stringify(s));
    const others = (await routerView()).sessions.filter((x) => x.node !== "node-3");
    assert.ok(
      others.every((x) => x.state === "Established"),
      JSON.stringify(others),
    );

    await egw("lab", "node", "restore", "node-3");
    cutNode = undefined;
    await allEstablished();
    const back = await readyGateway(GW_NS, "out", 2);
    await routedVia(back, "node-3");
    await leavesAs(APP_NS, "client", back);
  });

  it("a BGP config BIRD cannot take on one node is reported there and changes no session or route", async () => {
    const ips = (await replicas()).map((r) => r.egressIP ?? "").sort();
    await routedVia(ips, "node-3");
    // An operator pastes a password with a quote (BIRD's config cannot hold it) into the Secret of
    // a peer only node-3 has: node-3's agent must leave that peer out and say so.
    await apply(
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata: {name: edge-md5, namespace: egw-system}",
        `stringData: {password: 'pa"ss'}`,
        "---",
        "apiVersion: egw.dev/v1",
        "kind: BGPPeer",
        "metadata: {name: edge-md5}",
        // A second router on the underlay that only node-3 peers with.
        "spec: {peerIP: 172.30.0.3, asNumber: 64514, node: node-3, password: {secretKeyRef: {name: edge-md5, key: password}}}",
        "",
      ].join("\n"),
    );
    const error = await eventually("node-3 to report its BGP config error", async () => {
      const n = JSON.parse(await egw("get", "node", "node-3", "-o", "json")) as NodeJson;
      return n.status?.bgp?.error;
    });
    const status = await session.egw("status").catch((e: Error) => e.message);
    assert.match(status, /BGP on node-3: /, status);
    for (const node of ["node-1", "node-2"]) {
      const n = JSON.parse(await egw("get", "node", node, "-o", "json")) as NodeJson;
      assert.equal(
        n.status?.bgp?.error,
        undefined,
        `${node} reports an error: ${n.status?.bgp?.error ?? ""}`,
      );
    }
    // Every session stays up and node-3 keeps announcing with its last good config.
    await allEstablished();
    await routedVia(ips, "node-3");
    await leavesAs(APP_NS, "client", ips);
    assert.ok(error.length > 0);

    await egw("delete", "bgppeer", "edge-md5");
    await eventually("node-3's BGP error to clear", async () => {
      const n = JSON.parse(await egw("get", "node", "node-3", "-o", "json")) as NodeJson;
      return n.status?.bgp?.error === undefined ? true : undefined;
    });
    await allEstablished();
    await routedVia(ips, "node-3");
  });

  it("a killed router BIRD is started again by the runtime and learns the routes again", async () => {
    const ips = (await replicas()).map((r) => r.egressIP ?? "").sort();
    await routedVia(ips, "node-3");
    const before = readManifest(stateDir)?.processes[ROUTER_BIRD_COMPONENT]?.pid;
    assert.ok(before !== undefined && isAlive(before));
    process.kill(before, "SIGKILL");
    await eventually("the runtime to start the router's BIRD again", async () => {
      const pid = readManifest(stateDir)?.processes[ROUTER_BIRD_COMPONENT]?.pid;
      return pid !== undefined && pid !== before && isAlive(pid) ? pid : undefined;
    });
    await allEstablished();
    await routedVia(ips, "node-3");
    await leavesAs(APP_NS, "client", ips);
  });
});
