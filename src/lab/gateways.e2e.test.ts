// End to end (root): egress gateways in a 3-node lab, driven through the egw CLI with the YAML in
// examples/. One lab serves every scenario (bringing one up is the slow part); each scenario
// checks the source IP the external hosts see: whoami (198.18.10.10, 198.18.30.10) and db.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDatastore } from "../datastore/connect.js";
import { EGRESS_ROUTE_PROTO } from "./gateway-pod-actions.js";
import { infraNetns, nodeNetns } from "./names.js";
import { isAlive } from "../util/background-process.js";
import { readManifest } from "./state.js";
import { egwOk, eventually, repoRoot, runCmd } from "./testing/lab-cli.js";
import { nftCounterPackets } from "./testing/policy-helpers.js";
import {
  DB,
  labSession,
  nodeIP,
  WHOAMI,
  WHOAMI_B,
  type GatewayJson,
  type PodJson,
} from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;

describe("egress gateways in the lab (root)", { skip: !isRoot && "needs root", timeout: 900_000 }, () => {
  const session = labSession("g");
  const { lab, stateDir, env, egw, sourceSeen, manyConnections, runningPod, readyGateway, leavesAs } =
    session;
  const example = (file: string): string => join(repoRoot, "examples", file);
  const rtr = infraNetns(lab, "rtr");
  const NODE_IP: Record<string, string> = Object.fromEntries(
    ["node-1", "node-2", "node-3"].map((n) => [n, nodeIP(n)]),
  );

  before(async () => {
    await session.up(3);
  });

  after(async () => {
    await session.down();
  });

  it("egw up runs the controller and one agent per node, reported by egw status", async () => {
    const status = await egw("status");
    for (const c of ["controller", "agent-node-1", "agent-node-2", "agent-node-3"])
      assert.match(status, new RegExp(`${c}\\s+\\d+\\s+running`));
  });

  it("shared gateway: pods in two namespaces leave only with that gateway's egress IPs", async () => {
    await egw("apply", "-f", example("shared-gateway.yaml"));
    const ips = await readyGateway("egress", "shared", 2);
    for (const ip of ips) assert.match(ip, /^10\.10\.0\.[0-7]$/);
    for (const ns of ["team-a", "team-b"]) {
      await leavesAs(ns, "app", ips);
      const seen = await manyConnections(ns, "app", WHOAMI, 10);
      assert.deepEqual(
        seen.filter((s) => !ips.includes(s)),
        [],
        `${ns}/app left with another IP: ${seen.join(" ")}`,
      );
    }
    // The gateway's replicas and their nodes, and the pod's view of its gateways.
    const row = (await egw("get", "egressgateways", "-n", "egress")).split("\n")[1] ?? "";
    assert.match(row, /^shared\s+2\/2\s+Ready\s+/);
    for (const ip of ips) assert.ok(row.includes(ip), `${ip} missing from: ${row}`);
    const described = await egw("describe", "pod", "-n", "team-a", "app");
    assert.match(described, /Egress: via gateways/);
    for (const ip of ips) assert.match(described, new RegExp(`egress IP ${ip.replace(/\./g, "\\.")}`));
  });

  it("gateway per namespace: payments leaves from its own pool, and only payments passes the db firewall", async () => {
    await egw("apply", "-f", example("per-namespace.yaml"));
    const [ip] = await readyGateway("payments", "payments", 1);
    assert.match(ip ?? "", /^10\.10\.1\.[0-7]$/);
    await leavesAs("payments", "api", [ip ?? ""]);
    // A pod of another namespace on the same node: default node SNAT.
    await egwOk(
      env,
      ["apply", "-f", "-"],
      "apiVersion: v1\nkind: Pod\nmetadata: {name: neighbour, namespace: default}\nspec: {nodeName: node-1}\n",
    );
    const api = await runningPod("payments", "api");
    const neighbour = await runningPod("default", "neighbour");
    assert.equal(api.spec?.nodeName, neighbour.spec?.nodeName, "both pods on the same node");
    await leavesAs("default", "neighbour", [NODE_IP[neighbour.spec?.nodeName ?? ""] ?? ""]);

    await egw("lab", "firewall", "allow", "--host", "db", "10.10.1.0/29");
    assert.equal(await sourceSeen("payments", "api", DB), `db: hello ${ip}`);
    assert.equal(await sourceSeen("default", "neighbour", DB), undefined, "the neighbour must not reach db");
    const log = await eventually("the firewall log to show both attempts", async () => {
      const text = await egw("lab", "firewall", "log");
      return text.includes(`ACCEPT  ${ip}:`) && /DROP\s+172\.30\.0\.11:/.test(text) ? text : undefined;
    });
    assert.match(log, /ACCEPT/);
    await egw("lab", "firewall", "revoke", "--host", "db", "10.10.1.0/29");
  });

  it("gateway per deployment: two pods of one namespace leave with different egress IPs", async () => {
    await egw("apply", "-f", example("per-deployment.yaml"));
    const [frontend] = await readyGateway("shop", "frontend", 1);
    const [checkout] = await readyGateway("shop", "checkout", 1);
    assert.ok(frontend && checkout);
    assert.notEqual(frontend, checkout);
    assert.equal(await leavesAs("shop", "frontend-1", [frontend]), frontend);
    assert.equal(await leavesAs("shop", "checkout-1", [checkout]), checkout);
    for (const [pod, ip] of [
      ["frontend-1", frontend],
      ["checkout-1", checkout],
    ] as const) {
      const seen = await manyConnections("shop", pod, WHOAMI, 5);
      assert.deepEqual(new Set(seen), new Set([ip]), `${pod}: ${seen.join(" ")}`);
    }
  });

  it("per destination: one policy sends db through gateway A, the default route through B, 198.18.30.0/24 through none", async () => {
    await egw("apply", "-f", example("per-destination.yaml"));
    const [a] = await readyGateway("routing", "db-egress", 1);
    const [b] = await readyGateway("routing", "internet", 1);
    assert.ok(a && b && a !== b);
    const client = await runningPod("routing", "client");
    const nodeIP = NODE_IP[client.spec?.nodeName ?? ""] ?? "";

    await leavesAs("routing", "client", [b], WHOAMI);
    await leavesAs("routing", "client", [nodeIP], WHOAMI_B);
    await egw("lab", "firewall", "allow", "--host", "db", `${a}/32`);
    await leavesAs("routing", "client", [`db: hello ${a}`], DB);
    await egw("lab", "firewall", "revoke", "--host", "db", `${a}/32`);

    const described = await egw("describe", "pod", "-n", "routing", "client");
    assert.match(described, /EgressGatewayPolicy "by-destination"/);
    assert.match(described, /198\.18\.20\.0\/24: 1 gateway\(s\)/);
    assert.match(described, /198\.18\.30\.0\/24: no gateway/);
  });

  it("fail closed: once a pod's gateway is deleted its connections fail and nothing leaves from its node or pod IP", async () => {
    const pod = await runningPod("shop", "frontend-1");
    const nodeIP = NODE_IP[pod.spec?.nodeName ?? ""] ?? "";
    const table = `egwt_${lab.replace(/-/g, "_")}`;
    const counted = await runCmd(
      "ip",
      ["netns", "exec", rtr, "nft", "-f", "-"],
      [
        `table inet ${table} {`,
        `  counter egwt_leak { }`,
        `  chain egwt_forward {`,
        `    type filter hook forward priority filter - 10; policy accept;`,
        `    ip saddr { ${nodeIP}, ${pod.status?.podIP ?? ""} } counter name "egwt_leak"`,
        `  }`,
        `}`,
        ``,
      ].join("\n"),
    );
    assert.equal(counted.code, 0, counted.stderr);
    const leaked = (): Promise<number> => nftCounterPackets(rtr, table, "egwt_leak");
    assert.equal(await leaked(), 0);

    const [frontendIP] = await readyGateway("shop", "frontend", 1);
    await egw("delete", "egressgateway", "-n", "shop", "frontend");
    await eventually("frontend-1's connections to fail", async () =>
      (await sourceSeen("shop", "frontend-1", WHOAMI)) === undefined ? true : undefined,
    );
    const attempts = await manyConnections("shop", "frontend-1", WHOAMI, 10);
    assert.deepEqual(attempts, Array<string>(10).fill(""), `connections got through: ${attempts.join(" ")}`);
    assert.equal(await leaked(), 0, "the router saw packets from the pod's node or pod IP");
    // Control: the counter does count what the node itself sends out.
    const nodeIndex = Number((pod.spec?.nodeName ?? "").replace("node-", ""));
    const direct = await runCmd("ip", [
      "netns",
      "exec",
      nodeNetns(lab, nodeIndex),
      "curl",
      "-s",
      "-m",
      "3",
      WHOAMI,
    ]);
    assert.equal(direct.stdout.trim(), nodeIP);
    assert.ok((await leaked()) > 0, "the leak counter counts nothing at all");
    // The other deployment keeps its gateway.
    const [checkout] = await readyGateway("shop", "checkout", 1);
    assert.equal(await sourceSeen("shop", "checkout-1", WHOAMI), checkout);
    assert.match(await egw("describe", "pod", "-n", "shop", "frontend-1"), /UNREACHABLE \(fail closed\)/);
    await runCmd("ip", ["netns", "exec", rtr, "nft", "delete", "table", "inet", table]);
    // The replica's egress-IP route and its gateway process went with it.
    await eventually("the router route to the deleted replica's egress IP to go", async () => {
      const routes = await runCmd("ip", ["-n", rtr, "route", "show", "proto", String(EGRESS_ROUTE_PROTO)]);
      return routes.code === 0 && !routes.stdout.includes(`${frontendIP} `) ? true : undefined;
    });
    await eventually("the deleted replica's gateway process to be forgotten", async () => {
      const manifest = readManifest(stateDir);
      assert.ok(manifest, `no lab manifest in ${stateDir}`);
      return Object.keys(manifest.processes).some((c) => c.startsWith("gateway.shop.frontend"))
        ? undefined
        : true;
    });
  });

  it("the runtime starts a gateway again when its process dies", async () => {
    const component = "gateway.egress.shared-0";
    const before = readManifest(stateDir)?.processes[component]?.pid;
    assert.ok(before !== undefined && isAlive(before), `${component} is not running`);
    process.kill(before, "SIGKILL");
    const after = await eventually(`${component} to run again`, async () => {
      const pid = readManifest(stateDir)?.processes[component]?.pid;
      return pid !== undefined && pid !== before && isAlive(pid) ? pid : undefined;
    });
    assert.match(
      await egw("status"),
      new RegExp(`${component.replace(/\./g, "\\.")}\\s+${after}\\s+running`),
    );
    const ips = await readyGateway("egress", "shared", 2);
    await leavesAs("team-a", "app", ips);
  });

  it("load balancing: 40 connections from one pod use both replicas' egress IPs", async () => {
    await egw("apply", "-f", example("load-balancing.yaml"));
    const ips = await readyGateway("balanced", "balanced", 2);
    await leavesAs("balanced", "client", ips);
    // Both replicas in the pod's gateway set (the agents polled them ready).
    await eventually("describe to list both replicas", async () => {
      const d = await egw("describe", "pod", "-n", "balanced", "client");
      return ips.every((ip) => d.includes(`egress IP ${ip} `)) ? true : undefined;
    });
    const seen = await manyConnections("balanced", "client", WHOAMI, 40);
    assert.deepEqual(
      seen.filter((s) => !ips.includes(s)),
      [],
      `unexpected answers: ${seen.join(" ")}`,
    );
    assert.deepEqual(
      new Set(seen),
      new Set(ips),
      `40 connections used only ${[...new Set(seen)].join(", ")}`,
    );
  });

  it("bad input: a pod with a bad selector is blocked (and says why), others are not; a gateway on a missing pool gets a clear status and no replica", async () => {
    // egw apply rejects the annotation; a Kubernetes API server would not (it does not know
    // egw's annotations), so the pod is written to the datastore directly, as kubectl would.
    const manifest = readManifest(stateDir);
    const store = openDatastore({ type: "etcd", etcdEndpoints: [manifest?.etcdEndpoint ?? ""] });
    assert.ok(store.ok);
    try {
      const created = await store.value.create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "bad-selector",
          namespace: "default",
          annotations: { "egress.egw.dev/selector": "egw.dev/gateway == " },
        },
        spec: { nodeName: "node-2" },
      });
      assert.ok(created.ok, created.ok ? "" : created.error.message);
    } finally {
      await store.value.close();
    }
    await egwOk(
      env,
      ["apply", "-f", "-"],
      [
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: fine, namespace: default}",
        "spec: {nodeName: node-2}",
        "---",
        "apiVersion: egw.dev/v1",
        "kind: EgressGateway",
        "metadata: {name: nopool, namespace: default}",
        "spec:",
        "  ipPools: [{name: missing-pool}]",
        "",
      ].join("\n"),
    );
    await runningPod("default", "bad-selector");
    await leavesAs("default", "fine", [NODE_IP["node-2"] ?? ""]);
    await eventually("the badly annotated pod to be blocked", async () =>
      (await sourceSeen("default", "bad-selector", WHOAMI)) === undefined ? true : undefined,
    );
    const attempts = await manyConnections("default", "bad-selector", WHOAMI, 3);
    assert.deepEqual(attempts, ["", "", ""]);
    const described = await egw("describe", "pod", "-n", "default", "bad-selector");
    assert.match(described, /Egress: BLOCKED \(fail closed\)/);
    assert.match(described, /egress\.egw\.dev\/selector/);
    assert.equal(await sourceSeen("default", "fine", WHOAMI), NODE_IP["node-2"]);

    const gw = await eventually("a Degraded status on EgressGateway nopool", async () => {
      const g = JSON.parse(await egw("get", "egw", "-n", "default", "nopool", "-o", "json")) as GatewayJson;
      const degraded = g.status?.conditions?.find((c) => c.type === "Degraded");
      return degraded?.status === "True" ? { g, degraded } : undefined;
    });
    assert.equal(gw.degraded.reason, "PoolNotFound");
    assert.match(gw.degraded.message ?? "", /IPPool "missing-pool" does not exist/);
    assert.deepEqual(gw.g.status?.replicas ?? [], []);
    const listed = JSON.parse(await egw("get", "pods", "-n", "default", "-o", "json")) as {
      items: PodJson[];
    };
    assert.deepEqual(
      listed.items.filter((p) => p.metadata.annotations?.["egw.dev/gateway-owner"] === "default/nopool"),
      [],
    );
    assert.match(await egw("get", "egw", "-n", "default"), /nopool\s+0\/1\s+PoolNotFound/);
  });
});
