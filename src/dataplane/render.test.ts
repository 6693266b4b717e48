import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { GatewayHop } from "../calc/plan.js";
import type { KernelNodePlan } from "./kernel-plan.js";
import {
  LIVENESS_RULE_PRIORITY,
  LIVENESS_TABLE,
  MARK_MASK,
  RULE_PRIORITY_FIRST,
  TABLE_FIRST,
} from "./config.js";
import { renderGateway, type GatewayReplicaPlan } from "./render-gateway.js";
import { renderNode } from "./render-node.js";
import { chain, is, rule, vmap, verdictMap, type Table } from "./nft/objects.js";
import { Tracer, type Packet } from "./nft/trace.js";
import { Transaction } from "./nft/transaction.js";

const hop = (n: number): GatewayHop => ({
  replica: `egress/gw-${n}`,
  ip: `10.244.9.${n}`,
  mac: `a2:2a:0a:f4:09:0${n}`,
  vtep: `172.30.0.${n}`,
  egressIP: `10.10.0.${n}`,
});

const plan = (): KernelNodePlan => ({
  node: "n1",
  nodeIP: "172.30.0.10",
  workloadCidrs: ["10.244.0.0/16"],
  workloads: [
    { namespace: "a", name: "p1", ip: "10.244.1.10", hostInterface: "ew0001", gatewaySet: "s1" },
    {
      namespace: "a",
      name: "p2",
      ip: "10.244.1.11",
      hostInterface: "ew0002",
      blocked: { reason: "bad selector" },
    },
    { namespace: "b", name: "p3", ip: "10.244.1.12", hostInterface: "ew0003" },
  ],
  gatewaySets: [
    {
      key: "s1",
      mark: 1 << 16,
      table: TABLE_FIRST,
      routes: [
        { destination: "0.0.0.0/0", action: "gateways", hops: [hop(2), hop(1)] },
        { destination: "198.18.30.0/24", action: "throw" },
      ],
    },
    {
      key: "s2",
      mark: 2 << 16,
      table: TABLE_FIRST + 1,
      routes: [{ destination: "0.0.0.0/0", action: "unreachable", reason: "none ready" }],
    },
  ],
  tunnelPeers: [hop(1), hop(2)],
  pins: [
    { replica: "egress/gw-1", ip: "10.244.9.1", mark: 3 << 16, table: TABLE_FIRST + 2 },
    { replica: "egress/gw-2", ip: "10.244.9.2", mark: 4 << 16, table: TABLE_FIRST + 3 },
  ],
});

describe("renderNode", () => {
  it("renders an atomic table replacement with anti-spoofing, steering and fail-closed rules", () => {
    const r = renderNode(plan());
    assert.ok(r.ok);
    const nft = r.value.nft;
    assert.match(nft, /^table inet egw\ndelete table inet egw\ntable inet egw \{\n/);
    assert.match(nft, /"ew0001" \. 10\.244\.1\.10/);
    assert.match(
      nft,
      /map egw_pod_set \{ type ipv4_addr : verdict; elements = \{ 10\.244\.1\.10 : jump egw_set_20001 \} \}/,
    );
    assert.match(nft, /set egw_blocked \{ type ipv4_addr; elements = \{ 10\.244\.1\.11 \} \}/);
    assert.match(nft, /iifname "ew\*" jump egw_from_workload/);
    assert.match(nft, /iifname != @egw_workload_ifaces counter drop/);
    assert.match(nft, /iifname \. ip saddr != @egw_workload_pairs counter drop/);
    assert.match(nft, /ct state new ip daddr != @egw_cluster_cidrs ip saddr vmap @egw_pod_set/);
    // Marks keep every bit outside egw's mask.
    assert.match(
      nft,
      /meta mark set meta mark and 0xf000ffff or 0x00010000 ct mark set ct mark and 0xf000ffff or 0x00010000 accept/,
    );
    assert.match(nft, /iifname "ew\*" jump egw_policy/);
    assert.doesNotMatch(nft, /10\.244\.1\.12 : jump/, "a workload without a set is not steered");
    assert.equal(r.value.shape.sets.egw_workload_pairs, 3);
  });

  it("renders routing objects: one rule per set and pool, resilient groups, throw and unreachable", () => {
    const r = renderNode(plan());
    assert.ok(r.ok);
    const d = r.value.desired;
    assert.equal(d.link.name, "egw.vxlan");
    assert.equal(d.link.mac, "a2:2a:ac:1e:00:0a");
    assert.deepEqual(d.rules, [
      {
        priority: RULE_PRIORITY_FIRST,
        from: "10.244.0.0/16",
        mark: 1 << 16,
        mask: MARK_MASK,
        table: TABLE_FIRST,
      },
      {
        priority: RULE_PRIORITY_FIRST,
        from: "10.244.0.0/16",
        mark: 2 << 16,
        mask: MARK_MASK,
        table: TABLE_FIRST + 1,
      },
      // Pins: one rule per pin and pool.
      {
        priority: RULE_PRIORITY_FIRST,
        from: "10.244.0.0/16",
        mark: 3 << 16,
        mask: MARK_MASK,
        table: TABLE_FIRST + 2,
      },
      {
        priority: RULE_PRIORITY_FIRST,
        from: "10.244.0.0/16",
        mark: 4 << 16,
        mask: MARK_MASK,
        table: TABLE_FIRST + 3,
      },
      // Liveness: BFD from the node's own address takes the tunnel.
      {
        priority: LIVENESS_RULE_PRIORITY,
        from: "172.30.0.10/32",
        ipproto: "udp",
        table: LIVENESS_TABLE,
        dport: 3784,
      },
      // …and the reverse-path lookup of a replica's BFD packet (ports swapped) finds the tunnel.
      {
        priority: LIVENESS_RULE_PRIORITY,
        from: "172.30.0.10/32",
        ipproto: "udp",
        table: LIVENESS_TABLE,
        sport: 3784,
      },
    ]);
    assert.deepEqual(d.groups, [{ key: "20001 0.0.0.0/0", hops: ["10.244.9.1", "10.244.9.2"] }]);
    assert.deepEqual(
      d.routes.map((x) => `${x.table} ${x.dst} ${x.kind}${x.kind === "via" ? ` ${x.gateway}` : ""}`),
      [
        "20001 0.0.0.0/0 group",
        "20001 198.18.30.0/24 throw",
        "20002 0.0.0.0/0 unreachable",
        "20003 0.0.0.0/0 via 10.244.9.1",
        "20004 0.0.0.0/0 via 10.244.9.2",
        "20000 10.244.9.1/32 via 10.244.9.1",
        "20000 10.244.9.2/32 via 10.244.9.2",
      ],
    );
    assert.deepEqual(
      d.peers.map((p) => `${p.ip}>${p.vtep}`),
      ["10.244.9.1>172.30.0.1", "10.244.9.2>172.30.0.2"],
    );
    assert.equal(d.sysctls["net/ipv4/fib_multipath_hash_policy"], "1");
  });

  it("is deterministic: the same plan renders the same hash", () => {
    const a = renderNode(plan());
    const b = renderNode(plan());
    assert.ok(a.ok && b.ok);
    assert.equal(a.value.shape.hash, b.value.shape.hash);
  });

  it("lists every problem of a bad plan by field path", () => {
    const p = plan();
    p.gatewaySets[0]!.mark = 0x1;
    p.gatewaySets[1]!.table = 254;
    p.workloads[0]!.hostInterface = 'ew"; drop';
    p.workloads[1]!.ip = "10.244.1";
    const r = renderNode(p);
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.error;
    assert.ok(
      errors.some((e) => /gatewaySets\[0\] \(s1\): mark 0x00000001 must be non-zero and inside/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /gatewaySets\[1\] \(s2\): table 254 is outside/.test(e)));
    assert.ok(errors.some((e) => /workloads\[0\] \(a\/p1\): hostInterface/.test(e)));
    assert.ok(errors.some((e) => /workloads\[1\] \(a\/p2\): ip "10\.244\.1"/.test(e)));
  });

  it("rejects interface prefixes that could escape the nft quote", () => {
    const r = renderNode(plan(), { workloadInterfacePrefixes: ['x" accept'] });
    assert.equal(r.ok, false);
  });
});

describe("renderNode: pinning", () => {
  const table = (): Table => {
    const r = renderNode(plan());
    assert.ok(r.ok, r.ok ? "" : r.error.join("\n"));
    return r.value.table;
  };
  const newFromP1 = (p: Partial<Packet> = {}): Packet => ({
    iif: "ew0001",
    saddr: "10.244.1.10",
    daddr: "198.18.0.1",
    l4proto: 6,
    dport: 443,
    ct: { state: "new", direction: "original", mark: 0 },
    mark: 0,
    oif: "egw.vxlan",
    nexthop: "10.244.9.2",
    ...p,
  });
  const PIN_1 = 3 << 16;
  const PIN_2 = 4 << 16;

  it("writes the pin of the replica routing chose into a new connection's ct mark, after the policy", () => {
    const t = table();
    const tracer = new Tracer([t]);
    const first = tracer.trace(newFromP1());
    assert.ok(first.ok, first.ok ? "" : first.error);
    assert.equal(first.value.verdict, "accept");
    assert.equal(first.value.mark, 1 << 16, "routed by the set's table (its nexthop group)");
    assert.equal(first.value.ctMark, PIN_2, "pinned to the replica the group chose");
    const other = tracer.trace(newFromP1({ nexthop: "10.244.9.1" }));
    assert.ok(other.ok);
    assert.equal(other.value.ctMark, PIN_1);
    // Not through the tunnel, or a next hop that is no tunnel peer: the set's mark stays.
    for (const p of [newFromP1({ oif: "eth0" }), newFromP1({ nexthop: "10.244.9.9" })]) {
      const r = tracer.trace(p);
      assert.ok(r.ok);
      assert.equal(r.value.ctMark, 1 << 16);
    }
    const text = renderNode(plan());
    assert.ok(text.ok);
    assert.match(
      text.value.nft,
      /chain egw_forward_pin \{\n\s+type filter hook forward priority filter \+ 10; policy accept;/,
    );
    assert.match(text.value.nft, /ct state new oifname "egw\.vxlan" rt ip nexthop vmap @egw_pin/);
    assert.match(text.value.nft, /10\.244\.9\.1 : jump egw_pin_20003, 10\.244\.9\.2 : jump egw_pin_20004/);
  });

  it("routes established connections and their replies by the pin; a pin that is gone fails closed", () => {
    const tracer = new Tracer([table()]);
    const est = (mark: number, p: Partial<Packet> = {}) =>
      tracer.trace(newFromP1({ ct: { state: "established", direction: "original", mark }, ...p }));
    const kept = est(PIN_2);
    assert.ok(kept.ok);
    assert.equal(kept.value.verdict, "accept");
    assert.equal(kept.value.mark, PIN_2, "the pin's table routes it: via its replica alone");
    const reply = est(PIN_2, { iif: "egw.vxlan", saddr: "198.18.0.1", daddr: "10.244.1.10", oif: "ew0001" });
    assert.ok(reply.ok);
    assert.equal(reply.value.mark, PIN_2, "replies carry the pin mark for the reverse-path check");
    const gone = est(5 << 16);
    assert.ok(gone.ok);
    assert.equal(gone.value.verdict, "drop");
    assert.ok(gone.value.hits.some((h) => h.comment === "gateway set gone: fail closed"));
  });

  it("is an error, not a silent miss, for a traced packet that says nothing of routing", () => {
    const { nexthop: _nexthop, ...unrouted } = newFromP1();
    const r = new Tracer([table()]).trace(unrouted);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /no routing decision \(rt ip nexthop\)/);
  });

  it("is refused by the nft model in a chain that runs before routing", () => {
    const bad: Table = {
      name: "egw",
      objects: [
        verdictMap("egw_pin", ["ipv4_addr"], []),
        chain("egw_pre", [rule([is("oifname", "egw.vxlan")], [], vmap("rt ip nexthop", "egw_pin"))], {
          type: "filter",
          hook: "prerouting",
          priority: { base: "filter", offset: 0 },
          policy: "accept",
        }),
      ],
    };
    assert.match(new Transaction().replaceTable(bad).error ?? "", /rt ip nexthop in a prerouting chain/);
  });

  it("keeps the table's outline when a replica drains (group to retained): routing changes, nft does not", () => {
    const drained = plan();
    const set = drained.gatewaySets[0];
    assert.ok(set !== undefined && set.routes[0]?.action === "gateways");
    set.routes[0] = { destination: "0.0.0.0/0", action: "gateways", hops: [hop(1)] };
    set.retained = [{ ...hop(2), why: "draining" }];
    const a = renderNode(plan());
    const b = renderNode(drained);
    assert.ok(a.ok && b.ok);
    assert.equal(a.value.shape.hash, b.value.shape.hash);
    assert.deepEqual(a.value.table, b.value.table);
    assert.notDeepEqual(a.value.desired.groups, b.value.desired.groups);
  });
});

describe("renderGateway", () => {
  const gw: GatewayReplicaPlan = {
    replica: "egress/gw-1",
    podIP: "10.244.9.1",
    egressIP: "10.10.0.1",
    uplink: "eth0",
    workloadCidrs: ["10.244.0.0/16"],
    nodes: [
      { name: "n1", underlayIP: "172.30.0.10", podCidrs: ["10.244.1.0/24"] },
      { name: "n2", underlayIP: "172.30.0.11", podCidrs: ["10.244.2.0/24", "10.244.3.0/26"] },
    ],
    healthPort: 8080,
  };

  it("accepts only node tunnels and health checks, forwards only workload traffic, SNATs to the egress IP", () => {
    const r = renderGateway(gw);
    assert.ok(r.ok);
    const nft = r.value.nft;
    assert.match(nft, /type filter hook input priority filter; policy drop;/);
    assert.match(nft, /udp dport 4790 ip saddr @egw_nodes accept/);
    assert.match(nft, /tcp dport 8080 accept/);
    assert.match(nft, /type filter hook forward priority filter; policy drop;/);
    assert.match(nft, /iifname "egw\.vxlan" oifname "eth0" ip saddr @egw_workload_cidrs accept/);
    assert.match(
      nft,
      /iifname "egw\.vxlan" oifname "eth0" ip saddr @egw_workload_cidrs snat ip to 10\.10\.0\.1/,
    );
    assert.doesNotMatch(nft, /masquerade/);
    assert.match(nft, /elements = \{ 172\.30\.0\.10, 172\.30\.0\.11 \}/);
  });

  it("routes each node's pods back through the tunnel with derived MACs", () => {
    const r = renderGateway(gw);
    assert.ok(r.ok);
    assert.deepEqual(r.value.routes, [
      { dst: "10.244.1.0/24", via: "172.30.0.10" },
      { dst: "10.244.2.0/24", via: "172.30.0.11" },
      { dst: "10.244.3.0/26", via: "172.30.0.11" },
    ]);
    assert.deepEqual(r.value.peers[0], { ip: "172.30.0.10", mac: "a2:2a:ac:1e:00:0a", vtep: "172.30.0.10" });
    assert.equal(r.value.link.local, "10.244.9.1");
    assert.equal(r.value.link.mac, "a2:2a:0a:f4:09:01");
    assert.deepEqual(r.value.address, { ip: "10.10.0.1", dev: "eth0", label: "eth0:egw" });
  });

  it("takes BFD through the tunnel: its own packets to nodes, and the reverse-path lookup of theirs", () => {
    const r = renderGateway(gw);
    assert.ok(r.ok);
    assert.match(r.value.nft, /iifname "egw\.vxlan" udp dport 3784 accept/);
    assert.deepEqual(r.value.liveness.rules, [
      { priority: 111, from: "10.244.9.1/32", ipproto: "udp", table: 20000, dport: 3784 },
      { priority: 111, from: "10.244.9.1/32", ipproto: "udp", table: 20000, sport: 3784 },
    ]);
    assert.deepEqual(
      r.value.liveness.routes.map((x) => `${x.table} ${x.dst} ${x.kind === "via" ? x.gateway : x.kind}`),
      ["20000 172.30.0.10/32 172.30.0.10", "20000 172.30.0.11/32 172.30.0.11"],
    );
  });

  it("routes no liveness packet via its own address (a replica acting as its own node)", () => {
    const r = renderGateway({
      ...gw,
      nodes: [...gw.nodes, { name: "self", underlayIP: "10.244.9.1", podCidrs: [] }],
    });
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.liveness.routes.map((x) => x.dst),
      ["172.30.0.10/32", "172.30.0.11/32"],
    );
  });

  it("reports bad input by field", () => {
    const r = renderGateway({
      ...gw,
      egressIP: "nope",
      nodes: [{ name: "n1", underlayIP: "x", podCidrs: ["10.0.0.1/8"] }],
    });
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.error;
    assert.ok(errors.some((e) => /egressIP "nope"/.test(e)));
    assert.ok(errors.some((e) => /nodes\[0\] \(n1\)\.underlayIP "x"/.test(e)));
    assert.ok(errors.some((e) => /nodes\[0\] \(n1\)\.podCidrs\[0\]/.test(e)));
  });
});
