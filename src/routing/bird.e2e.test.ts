// End to end (root, BIRD 2): a node-like namespace runs BIRD configured only through
// bird-control.ts with configs from bird-config.ts, next to a process holding <node IP>:3784 as
// the egw agent's liveness endpoint does; a peer namespace runs BIRD as a router (multihop BGP
// and BFD, learned routes into its kernel). Checks that the router learns the node's /32s with
// their communities; that adding and removing a /32 by reconfiguring keeps the session up (same
// Established-since on the router); that a config BIRD refuses changes nothing (file and routes
// stay) and one that cannot be configured puts the previous file back; that the node's state
// reads as typed values (session, exported routes, BFD Up). Waits have generous guards, nothing
// is timed. Everything is removed in after(), also when a test fails.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deleteNetns, Processes, run, sh, waitFor } from "../dataplane/testing/netns.js";
import { renderNodeBirdConfig, type BirdNodeConfig } from "./bird-config.js";
import { applyConfig, readRoutes, readState } from "./bird-control.js";
import { bgpStateOf, parseProtocols } from "./bird-status.js";

const PREFIX = `egwrt${randomBytes(3).toString("hex")}-`;
const NS = { node: `${PREFIX}node`, router: `${PREFIX}rtr` };
const LINK = "up0";
const NODE_IP = "10.217.0.2";
const ROUTER_IP = "10.217.0.1";

const dir = mkdtempSync(join(tmpdir(), "egw-bird-e2e-"));
const NODE = { config: join(dir, "node.conf"), socket: join(dir, "node.ctl") };
const ROUTER = { config: join(dir, "router.conf"), socket: join(dir, "router.ctl") };

// The router side as the lab router runs it: multihop sessions (the nodes' mode), connected
// routes in BIRD's table so next hops resolve, only BGP routes into the kernel.
const ROUTER_CONF = `log stderr all;
router id ${ROUTER_IP};
protocol device {}
protocol direct { ipv4; interface "*"; }
protocol bfd { accept ipv4 multihop; }
protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
protocol bgp node1 {
  local ${ROUTER_IP} as 64513;
  neighbor ${NODE_IP} as 64512;
  multihop;
  hold time 9; keepalive time 3;
  error wait time 1,10;
  bfd { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
  ipv4 { import all; export none; };
}
`;

const nodeConfig = (prefixes: string[]): BirdNodeConfig => ({
  nodeIP: NODE_IP,
  asNumber: 64512,
  listenPort: 179,
  peers: [
    {
      name: "lab-router",
      ip: ROUTER_IP,
      asNumber: 64513,
      holdTimeSeconds: 9,
      bfd: { intervalMs: 100, multiplier: 3 },
    },
  ],
  announce: prefixes.map((prefix) => ({
    prefix,
    communities: [{ type: "standard", parts: [64512, 100], text: "64512:100" }],
  })),
});

const render = (c: BirdNodeConfig): string => {
  const r = renderNodeBirdConfig(c);
  assert.ok(r.ok, r.ok ? "" : r.error.join("; "));
  return r.value;
};

const processes = new Processes();

/** The router's kernel routes to egress IPs: "10.10.0.1 via 10.217.0.2". */
const kernelRoutes = async (): Promise<string[]> =>
  (await sh(`ip -n ${NS.router} -4 route show proto bird`))
    .split("\n")
    .map((l) => l.replace(/\s+dev .*$/, "").trim())
    .filter((l) => l !== "")
    .sort();

/** The router's session with the node: BGP state and since (a dropped session gets a new since). */
const routerSession = async (): Promise<{ state: string; since: string } | undefined> => {
  const r = await run(["birdc", "-s", ROUTER.socket, "show", "protocols", "node1"]);
  const p = parseProtocols(r.out).find((x) => x.name === "node1");
  return p === undefined ? undefined : { state: bgpStateOf(p) ?? "", since: p.since };
};

const waitForKernelRoutes = (want: string[]): Promise<true> =>
  waitFor(`router kernel routes ${want.join(", ")}`, async () =>
    JSON.stringify(await kernelRoutes()) === JSON.stringify(want) ? true : undefined,
  );

describe("BIRD on a node, configured through bird-control", { concurrency: false }, () => {
  let established: { state: string; since: string } | undefined;

  before(async () => {
    const which = await run(["sh", "-c", "command -v bird && command -v birdc"]);
    assert.equal(
      which.code,
      0,
      "bird and birdc are needed: run scripts/install-system-deps.sh (package bird2)",
    );
    await sh(`ip netns add ${NS.node} && ip netns add ${NS.router}`);
    await sh(
      [
        `ip -n ${NS.node} link add ${LINK} type veth peer name ${LINK} netns ${NS.router}`,
        `ip -n ${NS.node} addr add ${NODE_IP}/24 dev ${LINK}`,
        `ip -n ${NS.router} addr add ${ROUTER_IP}/24 dev ${LINK}`,
        ...[NS.node, NS.router].flatMap((ns) => [
          `ip -n ${ns} link set lo up`,
          `ip -n ${ns} link set ${LINK} up`,
        ]),
      ].join(" && "),
    );
    // What the egw agent's liveness endpoint does on every node: <node IP>:3784, no SO_REUSEADDR.
    const holder = processes.start(NS.node, [
      process.execPath,
      "-e",
      `const s = require("node:dgram").createSocket("udp4");
       s.on("error", (e) => { console.log("error " + e.code); process.exit(1); });
       s.bind({ port: 3784, address: "${NODE_IP}", exclusive: true }, () => console.log("bound"));`,
    ]);
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once("data", (b: Buffer) =>
        b.toString().startsWith("bound") ? resolve() : reject(new Error(b.toString())),
      );
    });
    // The node starts with the config it has before its agent runs: no peers, nothing announced.
    writeFileSync(NODE.config, render({ ...nodeConfig([]), peers: [] }));
    writeFileSync(ROUTER.config, ROUTER_CONF);
    processes.start(NS.node, ["bird", "-f", "-c", NODE.config, "-s", NODE.socket]);
    processes.start(NS.router, ["bird", "-f", "-c", ROUTER.config, "-s", ROUTER.socket]);
    await waitFor("both BIRDs answer", async () => {
      const a = await run(["birdc", "-s", NODE.socket, "show", "status"]);
      const b = await run(["birdc", "-s", ROUTER.socket, "show", "status"]);
      return a.code === 0 && b.code === 0 ? true : undefined;
    });
  });

  after(async () => {
    processes.killAll();
    await deleteNetns([NS.node, NS.router]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies a config with a peer and a /32: the router learns it with its community, BFD is up", async () => {
    const r = await applyConfig(
      { socket: NODE.socket, configPath: NODE.config },
      render(nodeConfig(["10.10.0.1/32"])),
    );
    assert.ok(r.ok, r.ok ? "" : `${r.error.step}: ${r.error.message}`);
    await waitForKernelRoutes([`10.10.0.1 via ${NODE_IP}`]);
    established = await routerSession();
    assert.equal(established?.state, "Established");
    const routes = await readRoutes({ socket: ROUTER.socket });
    assert.ok(routes.ok);
    const learned = routes.value.find((x) => x.prefix === "10.10.0.1/32");
    assert.equal(learned?.attributes["BGP.community"], "(64512,100)");
    assert.deepEqual(learned?.nexthops, [{ via: NODE_IP, dev: LINK }]);
    const state = await waitFor("the node's BFD session Up", async () => {
      const s = await readState({ socket: NODE.socket });
      return s.ok && s.value.bfd.some((b) => b.ip === ROUTER_IP && b.state === "Up") ? s.value : undefined;
    });
    const peer = state.protocols.find((p) => p.name === "peer.lab-router");
    assert.equal(peer?.bgp?.state, "Established");
    assert.equal(peer?.routes?.exported, 1);
    assert.equal(peer?.description, "BGPPeer lab-router");
    // BIRD's BFD never took 3784 from the endpoint: it only listens for multihop sessions.
    const sockets = await sh(`ip netns exec ${NS.node} ss -uanp`);
    assert.doesNotMatch(
      sockets
        .split("\n")
        .filter((l) => l.includes("bird"))
        .join("\n"),
      /:3784\b/,
    );
  });

  it("adds and removes a /32 by reconfiguring, without the session going down", async () => {
    const add = await applyConfig(
      { socket: NODE.socket, configPath: NODE.config },
      render(nodeConfig(["10.10.0.1/32", "10.10.0.2/32"])),
    );
    assert.ok(add.ok);
    await waitForKernelRoutes([`10.10.0.1 via ${NODE_IP}`, `10.10.0.2 via ${NODE_IP}`]);
    const remove = await applyConfig(
      { socket: NODE.socket, configPath: NODE.config },
      render(nodeConfig(["10.10.0.2/32"])),
    );
    assert.ok(remove.ok);
    await waitForKernelRoutes([`10.10.0.2 via ${NODE_IP}`]);
    assert.deepEqual(await routerSession(), established, "the same session, established since the start");
  });

  it("refuses a config BIRD cannot parse: the file, the session and the routes stay", async () => {
    const before = readFileSync(NODE.config, "utf8");
    const bad = `${render(nodeConfig(["10.10.0.3/32"]))}\nprotocol bgp broken { local as 99999999999; }\n`;
    const r = await applyConfig({ socket: NODE.socket, configPath: NODE.config }, bad);
    assert.ok(!r.ok);
    assert.equal(r.error.step, "check");
    assert.match(r.error.message, /Number out of range/);
    assert.equal(readFileSync(NODE.config, "utf8"), before);
    assert.deepEqual(await kernelRoutes(), [`10.10.0.2 via ${NODE_IP}`]);
    assert.deepEqual(await routerSession(), established);
  });

  it("puts the previous file back when BIRD cannot be told to reload", async () => {
    const before = readFileSync(NODE.config, "utf8");
    const r = await applyConfig(
      { socket: join(dir, "no-such.ctl"), configPath: NODE.config },
      render(nodeConfig(["10.10.0.4/32"])),
    );
    assert.ok(!r.ok);
    assert.equal(r.error.step, "configure");
    assert.equal(readFileSync(NODE.config, "utf8"), before);
    const state = await readState({ socket: join(dir, "no-such.ctl") });
    assert.ok(!state.ok);
    assert.equal(state.error.step, "read");
    // The running BIRD still announces what it did.
    assert.deepEqual(await kernelRoutes(), [`10.10.0.2 via ${NODE_IP}`]);
  });
});
