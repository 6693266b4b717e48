import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IPPoolInput, PodInput } from "../calc/inputs.js";
import { gatewayPod, ipPool, node } from "../daemon/testing/objects.js";
import { buildGatewayPlan, type GatewayNodeInput } from "./plan.js";

const replica = { namespace: "egress", name: "gw-0" };
const gw = gatewayPod({
  ...replica,
  node: "n2",
  ip: "10.244.2.5",
  gateway: "gw",
  egressIP: "10.10.0.1",
}) as PodInput;
const nodes = [
  node("n2", "172.30.0.2", "10.244.2.0/24"),
  node("n1", "172.30.0.1", "10.244.1.0/24"),
] as GatewayNodeInput[];
const pools = [
  ipPool("pods", "10.244.0.0/16"),
  ipPool("egress", "10.10.0.0/24", ["EgressGateway"]),
] as IPPoolInput[];

describe("buildGatewayPlan", () => {
  it("builds the replica's plan from its pod, the nodes and the workload pools", () => {
    const r = buildGatewayPlan({ replica, pod: gw, nodes, pools, uplink: "eth0", healthPort: 8080 });
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.deepEqual(r.value.plan, {
      replica: "egress/gw-0",
      podIP: "10.244.2.5",
      egressIP: "10.10.0.1",
      uplink: "eth0",
      workloadCidrs: ["10.244.0.0/16"],
      nodes: [
        { name: "n1", underlayIP: "172.30.0.1", podCidrs: ["10.244.1.0/24"] },
        { name: "n2", underlayIP: "172.30.0.2", podCidrs: ["10.244.2.0/24"] },
      ],
      healthPort: 8080,
    });
    assert.deepEqual(r.value.warnings, []);
  });

  it("fails on problems with its own pod, naming the pod and the field", () => {
    const cases: [PodInput | undefined, RegExp][] = [
      [undefined, /Pod egress\/gw-0 does not exist/],
      [{ ...gw, metadata: { ...gw.metadata, annotations: {} } }, /has no annotation egw.dev\/egress-ip/],
      [
        { ...gw, metadata: { ...gw.metadata, annotations: { "egw.dev/egress-ip": "x" } } },
        /"x" must be an IPv4 address/,
      ],
      [{ ...gw, status: { phase: "Pending" } }, /has no status.podIP yet/],
    ];
    for (const [pod, re] of cases) {
      const r = buildGatewayPlan({ replica, pod, nodes, pools, uplink: "eth0", healthPort: 8080 });
      assert.equal(r.ok, false);
      assert.match(r.ok ? "" : r.error, re);
    }
  });

  it("leaves out broken nodes and pools with a warning instead of failing", () => {
    const broken = [
      ...nodes,
      { metadata: { name: "n3" } },
      node("n4", "172.30.0.4", "10.244.4.0/33"),
    ] as GatewayNodeInput[];
    const r = buildGatewayPlan({
      replica,
      pod: gw,
      nodes: broken,
      pools: [...pools, ipPool("bad", "10.300.0.0/16")] as IPPoolInput[],
      uplink: "eth0",
      healthPort: 8080,
    });
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.plan.nodes.map((n) => n.name),
      ["n1", "n2", "n4"],
    );
    assert.equal(r.value.warnings.length, 4, r.value.warnings.join("\n"));
    assert.match(r.value.warnings.join("\n"), /Node n3: status.addresses has no IPv4 InternalIP/);
    assert.match(r.value.warnings.join("\n"), /IPPool bad: spec.cidr "10.300.0.0\/16"/);
  });
});
