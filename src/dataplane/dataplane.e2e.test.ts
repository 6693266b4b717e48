// End to end in network namespaces (root): a client node with one pod, two gateway replicas and an
// external server that reports the source address it sees. Everything is named with a random
// prefix and removed in after(), also when a test fails. Pod events between full reconciles are
// element updates; after each, the kernel's table must equal a fresh full render loaded into a
// scratch namespace.
import { connectionsScript, echoServerScript, streamScript } from "./testing/echo-scripts.js";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { macForIp } from "../calc/mac.js";
import type { AccessPlan } from "../calc/access/plan.js";
import type { GatewayHop, NodePlan, WorkloadPlan } from "../calc/plan.js";
import { MARK_MASK, TABLE_FIRST, VXLAN_DEVICE } from "./config.js";
import { GatewayDataplane } from "./gateway-dataplane.js";
import { withFreshSlots, type KernelNodePlan } from "./kernel-plan.js";
import { NodeDataplane, type ReconcileOptions } from "./node-dataplane.js";
import { renderGateway, type GatewayReplicaPlan } from "./render-gateway.js";
import { renderNode } from "./render-node.js";
import { netnsRunner, type Runner } from "./runner.js";
import { deleteNetns, inNs, lineFrom, Processes, sh } from "./testing/netns.js";
import { nftLoadsRefused } from "./testing/nft-faults.js";
import { buildGatewayTopology, gatewayTopology, leakCount } from "./testing/topology.js";

const PREFIX = `egwdp${randomBytes(3).toString("hex")}-`;
const T = gatewayTopology(PREFIX);
/** Where a fresh full render is loaded, to compare the node's table with. */
const FRESH = `${PREFIX}fresh`;
const { ns: NS, nodeIP: NODE_IP, podIP: POD_IP, server: SERVER, port: PORT, gateways: GW } = T;
/** The slot the dataplane gives the only gateway set: the first of the band. */
const SET_TABLE = TABLE_FIRST;

const processes = new Processes();

const SERVER_JS = echoServerScript(SERVER, PORT);

/** N sequential connections; prints a JSON array of what the server saw, or "error:<code>". */
const CLIENT_JS = connectionsScript(SERVER, PORT, 1500);

/** One long-lived connection: each stdin line is sent and its echo printed. */
const LONG_JS = streamScript(SERVER, PORT);

async function connections(n: number, local = ""): Promise<string[]> {
  const out = await sh(`ip netns exec ${NS.pod} node -e '${CLIENT_JS}' ${n} ${local}`);
  return JSON.parse(out) as string[];
}

/** The next stdout line of `child` containing `expect`. */
const nextLine = (child: Parameters<typeof lineFrom>[0], expect: string): Promise<string> =>
  lineFrom(child, (l) => l.includes(expect));

const hop = (g: (typeof GW)[number]): GatewayHop => ({
  replica: `egress/${g.ns}`,
  ip: g.ip,
  mac: macForIp(g.ip) ?? "",
  vtep: g.ip,
  egressIP: g.egress,
});

function nodePlan(routes: NodePlan["gatewaySets"][number]["routes"], blocked = false): NodePlan {
  const hops = routes.flatMap((r) => (r.action === "gateways" ? r.hops : []));
  return {
    node: "node1",
    nodeIP: NODE_IP,
    workloadCidrs: ["10.244.0.0/16"],
    workloads: [
      {
        namespace: "default",
        name: "client",
        ip: POD_IP,
        hostInterface: "ewpod1",
        gatewaySet: "set-a",
        ...(blocked ? { blocked: { reason: "test" } } : {}),
      },
    ],
    gatewaySets: [{ key: "set-a", routes }],
    tunnelPeers: [...new Map(hops.map((h) => [h.ip, h])).values()],
  };
}
const viaGateways = (...gws: (typeof GW)[number][]): NodePlan =>
  nodePlan([{ destination: "0.0.0.0/0", action: "gateways", hops: gws.map(hop) }]);

const gatewayPlan = (g: (typeof GW)[number]): GatewayReplicaPlan => ({
  replica: `egress/${g.ns}`,
  podIP: g.ip,
  egressIP: g.egress,
  uplink: "ext0",
  workloadCidrs: ["10.244.0.0/16"],
  nodes: [{ name: "node1", underlayIP: NODE_IP, podCidrs: ["10.244.1.0/24"] }],
  healthPort: 8080,
});

async function buildTopology(): Promise<void> {
  await buildGatewayTopology(T);
  // Foreign objects egw must never touch.
  await sh(`ip -n ${NS.node} rule add from 10.99.0.0/16 lookup 100 priority 500
    ip -n ${NS.node} route add unreachable 10.99.0.0/16 table 100
    ip -n ${NS.node} nexthop add id 77 via 172.31.0.100 dev ul0`);
  await sh(
    `ip netns exec ${NS.node} nft -f -`,
    "table inet foreign {\n  chain foreign_in {\n    type filter hook input priority 10; policy accept;\n  }\n}\n",
  );
  const server = processes.start(NS.ext, ["node", "-e", SERVER_JS]);
  await nextLine(server, "listening");
}

async function cleanup(): Promise<void> {
  processes.killAll();
  await deleteNetns([...Object.values(NS), FRESH]);
}

const byJson = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** nft JSON without handles and counter values, set elements in a fixed order. */
function normalized(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalized);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "handle") continue;
    if (k === "counter") out[k] = "counted";
    else out[k] = k === "elem" && Array.isArray(x) ? x.map(normalized).sort(byJson) : normalized(x);
  }
  return out;
}

/** What `table inet egw` holds in a namespace: chains, rules, sets and their elements. */
async function tableContent(ns: string): Promise<unknown[]> {
  const json = JSON.parse(await inNs(ns, "nft -j list table inet egw")) as { nftables: object[] };
  return json.nftables.filter((x) => !("metainfo" in x)).map(normalized);
}

/** The table a fresh full render of `plan` gives, loaded into the scratch namespace. */
async function freshContent(plan: KernelNodePlan): Promise<unknown[]> {
  const r = renderNode(plan);
  assert.ok(r.ok, r.ok ? "" : r.error.join("\n"));
  await inNs(FRESH, "nft -f -", r.value.nft);
  return tableContent(FRESH);
}

/** Rule handles by chain: they change when the table is loaded again, not when elements change. */
async function ruleHandles(ns: string): Promise<string> {
  const json = JSON.parse(await inNs(ns, "nft -a -j list table inet egw")) as {
    nftables: { rule?: { chain: string; handle: number } }[];
  };
  return json.nftables.flatMap((x) => (x.rule ? [`${x.rule.chain}#${x.rule.handle}`] : [])).join(" ");
}

describe("dataplane end to end (netns)", { concurrency: false }, () => {
  const node: Runner = netnsRunner(NS.node);
  const dp = new NodeDataplane(node);
  const egressIPs = new Set(GW.map((g) => g.egress));

  before(async () => {
    await buildTopology();
    await sh(`ip netns add ${FRESH}`);
  });
  after(async () => {
    dp.close();
    await cleanup();
  });

  const reconcileOk = async (plan: NodePlan, options: ReconcileOptions = {}, d = dp): Promise<number> => {
    const r = await d.reconcile(plan, options);
    assert.ok(r.ok, r.ok ? "" : r.error);
    return r.value.changes;
  };
  const assertOnlyVia = async (allowed: string[], n = 4): Promise<string[]> => {
    const seen = await connections(n);
    for (const s of seen)
      assert.ok(allowed.includes(s), `server saw ${s}, expected one of ${allowed.join(", ")}`);
    return seen;
  };

  it("rendered rulesets pass `nft -c`", async () => {
    const r = renderNode(withFreshSlots(viaGateways(...GW)));
    assert.ok(r.ok);
    await inNs(NS.node, "true");
    await sh(`ip netns exec ${NS.node} nft -c -f -`, r.value.nft);
    const g = renderGateway(gatewayPlan(GW[0]!));
    assert.ok(g.ok);
    await sh(`ip netns exec ${NS.gw1} nft -c -f -`, g.value.nft);
  });

  it("gateways come up and a second reconcile changes nothing", async () => {
    for (const g of GW) {
      const gdp = new GatewayDataplane(netnsRunner(g.ns));
      const first = await gdp.reconcile(gatewayPlan(g));
      assert.ok(first.ok, first.ok ? "" : first.error);
      assert.ok(first.value.changes > 0);
      const again = await new GatewayDataplane(netnsRunner(g.ns)).reconcile(gatewayPlan(g));
      assert.ok(again.ok, again.ok ? "" : again.error);
      assert.deepEqual(again.value.actions, []);
    }
  });

  it("steers the pod through both gateways, never leaving with the pod or node IP", async () => {
    assert.ok((await reconcileOk(viaGateways(...GW))) > 0);
    const seen = await assertOnlyVia([...egressIPs], 24);
    assert.deepEqual(new Set(seen), egressIPs, `24 connections should use both gateways: ${seen.join(" ")}`);
  });

  it("drops traffic with a spoofed source address", async () => {
    await inNs(NS.pod, "ip addr add 10.244.1.99/24 dev eth0");
    const seen = await connections(2, "10.244.1.99");
    assert.ok(
      seen.every((s) => s.startsWith("error:")),
      seen.join(" "),
    );
  });

  it("a restarted dataplane adopts the kernel state: no changes, established flows survive", async () => {
    const long = processes.start(NS.pod, ["node", "-e", LONG_JS]);
    long.stdin.write("hello-1\n");
    assert.match(await nextLine(long, "hello-1"), /hello-1/);
    const restarted = new NodeDataplane(node);
    const r = await restarted.reconcile(viaGateways(...GW));
    restarted.close();
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.deepEqual(r.value.actions, []);
    assert.equal(r.value.changes, 0);
    assert.equal(r.value.plan.gatewaySets[0]?.table, SET_TABLE, "the set kept its slot");
    long.stdin.write("hello-2\n");
    assert.match(await nextLine(long, "hello-2"), /hello-2/);
    long.kill("SIGKILL");
  });

  const groupOfDefault = async (): Promise<number | undefined> => {
    const routes = JSON.parse(await inNs(NS.node, `ip -json route show table ${SET_TABLE}`)) as {
      dst: string;
      nhid?: number;
    }[];
    return routes.find((r) => r.dst === "default")?.nhid;
  };

  it("removing a gateway moves new connections to the other, in the same resilient group", async () => {
    const group = await groupOfDefault();
    assert.notEqual(group, undefined);
    await reconcileOk(viaGateways(GW[0]!));
    assert.equal(await groupOfDefault(), group, "the group is updated in place, not re-created");
    await assertOnlyVia([GW[0]!.egress], 12);
    const nexthops = await inNs(NS.node, "ip -json nexthop show");
    assert.ok(!nexthops.includes(GW[1]!.ip), "the removed gateway's nexthop is deleted");
  });

  it("throw routes leave through the node's normal path", async () => {
    await reconcileOk(
      nodePlan([
        { destination: "0.0.0.0/0", action: "gateways", hops: [hop(GW[0]!)] },
        { destination: `${SERVER}/32`, action: "throw" },
      ]),
    );
    await assertOnlyVia([POD_IP], 2);
    await reconcileOk(viaGateways(...GW));
  });

  const hopId = async (ip: string): Promise<number | undefined> => {
    const all = JSON.parse(await inNs(NS.node, "ip -json nexthop show")) as {
      id: number;
      gateway?: string;
    }[];
    return all.find((n) => n.gateway === ip)?.id;
  };
  const drifts: [string, () => Promise<string>][] = [
    ["a deleted nft table", async () => "nft delete table inet egw"],
    ["a deleted route", async () => `ip route del table ${SET_TABLE} default`],
    ["a link flap", async () => `ip link set ${VXLAN_DEVICE} down; ip link set ${VXLAN_DEVICE} up`],
    ["a deleted nexthop", async () => `ip nexthop del id ${await hopId(GW[0]!.ip)}`],
    ["deleted neighbours", async () => `ip neigh flush dev ${VXLAN_DEVICE} nud permanent`],
    [
      "a deleted set element",
      async () => `echo "delete element inet egw egw_workload_pairs { \\"ewpod1\\" . ${POD_IP} }" | nft -f -`,
    ],
  ];
  for (const [what, cmd] of drifts) {
    it(`repairs ${what} on a full reconcile`, async () => {
      await inNs(NS.node, await cmd());
      assert.ok((await reconcileOk(viaGateways(...GW), { full: true })) > 0, "reconcile made repairs");
      await assertOnlyVia([...egressIPs]);
      assert.equal(
        await reconcileOk(viaGateways(...GW), { full: true }),
        0,
        "a second reconcile finds nothing to do",
      );
    });
  }

  it("fails closed when the set has no usable gateway: nothing reaches the outside", async () => {
    const before = await leakCount(T);
    await reconcileOk(
      nodePlan([{ destination: "0.0.0.0/0", action: "unreachable", reason: "no ready gateway" }]),
    );
    const seen = await connections(6);
    assert.ok(
      seen.every((s) => s.startsWith("error:")),
      seen.join(" "),
    );
    assert.equal(await leakCount(T), before, "the external side saw packets from the pod or node IP");
    const nexthops = await inNs(NS.node, "ip -json nexthop show");
    assert.ok(
      !nexthops.includes(GW[0]!.ip) && nexthops.includes('"id":77'),
      "our nexthops gone, foreign one kept",
    );
  });

  it("blocks a blocked workload's egress and counts it", async () => {
    await reconcileOk(viaGateways(...GW));
    await assertOnlyVia([...egressIPs], 2);
    const before = await leakCount(T);
    await reconcileOk(nodePlan([{ destination: "0.0.0.0/0", action: "gateways", hops: GW.map(hop) }], true));
    const seen = await connections(3);
    assert.ok(
      seen.every((s) => s.startsWith("error:")),
      seen.join(" "),
    );
    assert.equal(await leakCount(T), before);
    const listing = await inNs(NS.node, "nft list chain inet egw egw_forward");
    assert.match(listing, /ip saddr @egw_blocked ct direction original counter packets [1-9]/);
  });

  /** Workloads without veths: the table lists them, no packet of theirs is ever sent. */
  const workload = (n: number, extra: Partial<WorkloadPlan> = {}): WorkloadPlan => ({
    namespace: "default",
    name: `w${n}`,
    ip: `10.244.1.${n}`,
    hostInterface: `eww${n}`,
    gatewaySet: "set-a",
    ...extra,
  });
  /** The client's plan plus `pods`, and a policy for those pods allowing `selected` (an interval set). */
  const withPods = (pods: WorkloadPlan[], selected: string[]): NodePlan => {
    const access: AccessPlan = {
      problems: [],
      tiers: [
        {
          name: "default",
          defaultAction: "Deny",
          policies: [
            {
              kind: "GlobalNetworkPolicy",
              name: "to-pods",
              key: "gnp:to-pods",
              appliesTo: pods.map((w) => ({ key: `default/${w.name}`, hostInterface: w.hostInterface })),
              rules: [{ index: 0, action: "Allow", selected }],
            },
          ],
        },
      ],
    };
    const p = viaGateways(...GW);
    return { ...p, workloads: [...p.workloads, ...pods], access };
  };
  const spoofedCount = async (): Promise<number> => {
    const listing = await inNs(NS.node, "nft list chain inet egw egw_from_workload");
    return Number(/counter packets (\d+) bytes \d+ drop comment "spoofed source"/.exec(listing)?.[1] ?? -1);
  };

  it("applies pod events as element updates: the table equals a fresh render, rules stay, counters count on", async () => {
    const first = await dp.reconcile(
      withPods([workload(20), workload(21)], ["10.244.1.20/32", "10.244.1.21/32"]),
    );
    assert.ok(first.ok, first.ok ? "" : first.error);
    assert.ok(
      first.value.actions.some((a) => a.startsWith("nft -f (replace table")),
      "a new policy is a table replacement",
    );
    assert.deepEqual(await tableContent(NS.node), await freshContent(first.value.plan));
    await connections(1, "10.244.1.99");
    const handles = await ruleHandles(NS.node);
    const spoofed = await spoofedCount();
    assert.ok(spoofed > 0, "a spoofed packet was counted");

    const events: [string, NodePlan][] = [
      ["a pod leaves (its address leaves the merged interval)", withPods([workload(21)], ["10.244.1.21/32"])],
      [
        "pods come, next to each other",
        withPods(
          [workload(21), workload(22), workload(23, { gatewaySet: undefined })],
          ["10.244.1.21/32", "10.244.1.22/32", "10.244.1.23/32"],
        ),
      ],
      [
        "a pod is blocked",
        withPods(
          [
            workload(21, { blocked: { reason: "test" } }),
            workload(22),
            workload(23, { gatewaySet: undefined }),
          ],
          ["10.244.1.21/32", "10.244.1.22/32", "10.244.1.23/32"],
        ),
      ],
      ["pods leave from the middle of a merged interval", withPods([workload(22)], ["10.244.1.22/32"])],
      ["the last pod leaves", withPods([], [])],
    ];
    for (const [what, plan] of events) {
      const r = await dp.reconcile(plan);
      assert.ok(r.ok, `${what}: ${r.ok ? "" : r.error}`);
      assert.equal(r.value.actions.length, 1, `${what}: ${r.value.actions.join("; ")}`);
      assert.match(r.value.actions[0] ?? "", /^nft elements of table inet egw: /, what);
      assert.deepEqual(await tableContent(NS.node), await freshContent(r.value.plan), what);
    }
    assert.equal(await ruleHandles(NS.node), handles, "no rule was loaded again");
    assert.equal(await spoofedCount(), spoofed, "the counter kept its value");
    await connections(1, "10.244.1.99");
    assert.ok((await spoofedCount()) > spoofed, "and counts on");
    assert.ok((await reconcileOk(viaGateways(...GW), { full: true })) > 0, "the policy goes again");
  });

  it("a failed element update changes nothing, and the next reconcile replaces the table", async () => {
    let refuse = false;
    const refused = nftLoadsRefused(node);
    // No `start`: element updates go through `nft -f`, which this runner can make the kernel refuse.
    const flaky: Runner = {
      where: node.where,
      run: (argv, input) => (refuse ? refused : node).run(argv, input),
    };
    const other = new NodeDataplane(flaky);
    const adopted = await other.reconcile(viaGateways(...GW));
    assert.ok(adopted.ok, adopted.ok ? "" : adopted.error);
    assert.deepEqual(adopted.value.actions, [], "adopts the kernel");
    const before = await inNs(NS.node, "nft list table inet egw");
    refuse = true;
    const plan = withPods([workload(30)], ["10.244.1.30/32"]);
    const failed = await other.reconcile(plan);
    assert.equal(failed.ok, false);
    assert.equal(await inNs(NS.node, "nft list table inet egw"), before, "the kernel is unchanged");
    refuse = false;
    const repaired = await other.reconcile(plan);
    assert.ok(repaired.ok, repaired.ok ? "" : repaired.error);
    assert.ok(repaired.value.actions.some((a) => a.startsWith("nft -f (replace table")));
    assert.deepEqual(await tableContent(NS.node), await freshContent(repaired.value.plan));
    // `dp` did not see that: only a full reconcile may trust the kernel again.
    await reconcileOk(viaGateways(...GW), { full: true });
  });

  it("an element update that meets a hand-made change falls back to a replacement at once", async () => {
    assert.ok((await reconcileOk(withPods([workload(40)], []))) > 0);
    await inNs(NS.node, "nft -f -", 'delete element inet egw egw_workload_pairs { "eww40" . 10.244.1.40 }\n');
    const r = await dp.reconcile(withPods([], []));
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.match(r.value.actions[0] ?? "", /^nft element update failed, table read back: /);
    assert.ok(r.value.actions.some((a) => a.startsWith("nft -f (replace table")));
    assert.deepEqual(await tableContent(NS.node), await freshContent(r.value.plan));
    await reconcileOk(viaGateways(...GW));
    await assertOnlyVia([...egressIPs], 2);
  });

  it("returns an nft failure as a value and keeps the previous ruleset", async () => {
    await reconcileOk(viaGateways(...GW));
    const before = await inNs(NS.node, "nft list table inet egw");
    // A plan that needs a new table (one more workload), loaded through a runner the kernel refuses.
    const changed = viaGateways(...GW);
    changed.workloads.push({
      namespace: "default",
      name: "other",
      ip: "10.244.1.99",
      hostInterface: "ewpod9",
    });
    const r = await new NodeDataplane(nftLoadsRefused(node)).reconcile(changed);
    assert.equal(r.ok, false);
    assert.equal(await inNs(NS.node, "nft list table inet egw"), before);
    await assertOnlyVia([...egressIPs], 2);
  });

  it("rejects an invalid plan without touching the kernel", async () => {
    const bad = viaGateways(...GW);
    bad.gatewaySets[0]!.routes[0]!.destination = "0.0.0.0/33";
    const r = await dp.reconcile(bad);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /gatewaySets\[0\].*routes\[0\]\.destination "0\.0\.0\.0\/33"/);
    assert.equal(await reconcileOk(viaGateways(...GW)), 0);
  });

  it("never touched foreign rules, tables, nexthops or nft tables", async () => {
    const rules = await inNs(NS.node, "ip rule show");
    assert.match(rules, /500:\s+from 10\.99\.0\.0\/16 lookup 100/);
    assert.match(await inNs(NS.node, "ip route show table 100"), /unreachable 10\.99\.0\.0\/16/);
    assert.match(await inNs(NS.node, "ip nexthop show id 77"), /via 172\.31\.0\.100/);
    assert.match(await inNs(NS.node, "nft list tables"), /table inet foreign/);
    assert.match(rules, new RegExp(`fwmark 0x10000/0x${MARK_MASK.toString(16)} lookup ${SET_TABLE}`));
  });

  it("teardown removes everything egw owns", async () => {
    const r = await dp.teardown();
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.doesNotMatch(await inNs(NS.node, "ip rule show"), /fwmark/);
    assert.doesNotMatch(await inNs(NS.node, "nft list tables"), /inet egw$/m);
    assert.match(await inNs(NS.node, "nft list tables"), /table inet foreign/);
    assert.match(await inNs(NS.node, "ip nexthop show id 77"), /via 172\.31\.0\.100/);
  });
});
