// A NodePlan placed in the kernel: slots filled in, overflowing sets blocked (fail closed) and
// reported, workloads and addresses the IPv4 dataplane cannot hold left out and reported.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GatewayHop, NodePlan } from "../calc/plan.js";
import { MAX_GATEWAY_SETS, TABLE_FIRST } from "./band.js";
import { kernelPlanOf } from "./kernel-plan.js";
import { renderNode } from "./render-node.js";
import { assignSlots } from "./slots.js";

const hop = (ip: string): GatewayHop => ({
  replica: `egress/${ip}`,
  ip,
  mac: "a2:2a:0a:80:00:01",
  vtep: ip,
  egressIP: "10.10.0.1",
});

const base: NodePlan = {
  node: "n1",
  nodeIP: "172.30.0.1",
  workloadCidrs: ["10.244.0.0/16"],
  workloads: [],
  gatewaySets: [],
  tunnelPeers: [],
};

describe("kernelPlanOf", () => {
  it("fills in each set's mark and table, sorted by table", () => {
    const plan: NodePlan = {
      ...base,
      workloads: [{ namespace: "a", name: "w", ip: "10.244.1.2", hostInterface: "ew1", gatewaySet: "x" }],
      gatewaySets: [
        { key: "x", routes: [{ destination: "0.0.0.0/0", action: "throw" }] },
        { key: "y", routes: [{ destination: "0.0.0.0/0", action: "throw" }] },
      ],
    };
    const { plan: placed, problems } = kernelPlanOf(plan, {
      slots: new Map([
        ["x", 2],
        ["y", 1],
      ]),
      overflow: new Set(),
    });
    assert.deepEqual(
      placed.gatewaySets.map((s) => [s.key, s.mark, s.table]),
      [
        ["y", 0x10000, TABLE_FIRST],
        ["x", 0x20000, TABLE_FIRST + 1],
      ],
    );
    assert.deepEqual(problems, []);
    assert.equal(placed.workloads[0], plan.workloads[0], "an unchanged workload is the same object");
  });

  it("blocks the workloads of sets beyond the band (fail closed) and says so", () => {
    const keys = Array.from({ length: MAX_GATEWAY_SETS + 1 }, (_, i) => `k${String(i).padStart(5, "0")}`);
    const last = keys[keys.length - 1] ?? "";
    const plan: NodePlan = {
      ...base,
      workloads: keys.map((key, i) => ({
        namespace: "a",
        name: `w${i}`,
        ip: `10.244.${i >> 8}.${i & 255}`,
        hostInterface: `ew${i}`,
        gatewaySet: key,
      })),
      gatewaySets: keys.map((key, i) => ({
        key,
        routes: [
          {
            destination: "0.0.0.0/0",
            action: "gateways",
            hops: [hop(i === keys.length - 1 ? "10.128.0.9" : "10.128.0.1")],
          },
        ],
      })),
      tunnelPeers: [hop("10.128.0.1"), hop("10.128.0.9")],
    };
    const { plan: placed, problems } = kernelPlanOf(plan, assignSlots(keys, new Map()));
    assert.equal(placed.gatewaySets.length, MAX_GATEWAY_SETS);
    const blocked = placed.workloads.filter((w) => w.blocked);
    assert.deepEqual(
      blocked.map((w) => w.name),
      [`w${MAX_GATEWAY_SETS}`],
    );
    assert.equal(blocked[0]?.gatewaySet, undefined);
    assert.match(
      blocked[0]?.blocked?.reason ?? "",
      /node "n1" needs more than 4095 distinct gateway sets; egress is blocked/,
    );
    assert.deepEqual(problems, [
      `gateway set ${last}: no slot left in egw's band; egress of its 1 workload(s) is blocked`,
      // Sets take slots before pins: the full band leaves the remaining replica unpinned.
      "gateway replica egress/10.128.0.1: no slot left in egw's band to pin its connections; " +
        "they follow their set's nexthop group (a change of the group moves them)",
    ]);
    assert.deepEqual(placed.pins, []);
    assert.deepEqual(
      placed.tunnelPeers.map((h) => h.ip),
      ["10.128.0.1"],
      "the blocked set's replica is no peer",
    );
    assert.equal(plan.workloads[MAX_GATEWAY_SETS]?.gatewaySet, last, "the NodePlan is not changed");
  });

  it("leaves out workloads the kernel would reject, naming pod and field", () => {
    const plan: NodePlan = {
      ...base,
      workloads: [
        { namespace: "a", name: "ok", ip: "10.244.1.2", hostInterface: "ew1" },
        { namespace: "a", name: "badip", ip: "10.244.1.300", hostInterface: "ew2" },
        { namespace: "a", name: "badif", ip: "10.244.1.4", hostInterface: "this-name-is-way-too-long" },
      ],
    };
    const { plan: placed, problems } = kernelPlanOf(plan, assignSlots([], new Map()));
    assert.deepEqual(
      placed.workloads.map((w) => w.name),
      ["ok"],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? "", /Pod a\/badip: status.podIP "10.244.1.300" is not an IPv4 address/);
    assert.match(problems[1] ?? "", /Pod a\/badif: status.hostInterface/);
    assert.ok(renderNode(placed).ok, "what is left renders");
  });

  it("keeps a gateway replica's valid egress IP as a source and leaves out an invalid one", () => {
    const plan: NodePlan = {
      ...base,
      workloads: [
        {
          namespace: "egress",
          name: "g-0",
          ip: "10.244.1.9",
          hostInterface: "ewgw",
          extraSourceIPs: ["10.10.0.5"],
        },
        {
          namespace: "egress",
          name: "g-1",
          ip: "10.244.1.10",
          hostInterface: "ewgw1",
          extraSourceIPs: ["nope"],
        },
      ],
    };
    const { plan: placed, problems } = kernelPlanOf(plan, assignSlots([], new Map()));
    assert.deepEqual(
      placed.workloads.map((w) => [w.name, w.extraSourceIPs]),
      [
        ["g-0", ["10.10.0.5"]],
        ["g-1", undefined],
      ],
    );
    assert.deepEqual(problems, [
      'Pod egress/g-1: extra source address "nope" is not an IPv4 address; left out',
    ]);
    const r = renderNode(placed);
    assert.ok(r.ok);
    assert.match(r.value.nft, /"ewgw" \. 10\.10\.0\.5/);
  });
});
