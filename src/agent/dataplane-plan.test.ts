import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterIndex } from "../calc/index.js";
import type { PodInput } from "../calc/inputs.js";
import type { NodePlan } from "../calc/plan.js";
import type { DataplaneWorkload } from "../dataplane/render-node.js";
import { toDataplanePlan } from "./dataplane-plan.js";
import { gatewayPod } from "../daemon/testing/objects.js";

const base: NodePlan = {
  node: "n1",
  nodeIP: "172.30.0.1",
  workloadCidrs: ["10.244.0.0/16"],
  workloads: [
    { namespace: "a", name: "ok", ip: "10.244.1.2", hostInterface: "ew1" },
    { namespace: "a", name: "badip", ip: "10.244.1.300", hostInterface: "ew2" },
    { namespace: "a", name: "badif", ip: "10.244.1.4", hostInterface: "this-name-is-way-too-long" },
  ],
  gatewaySets: [],
  tunnelPeers: [],
};

describe("toDataplanePlan", () => {
  it("leaves out workloads the kernel would reject, naming pod and field", () => {
    const { plan, problems } = toDataplanePlan(base, new ClusterIndex(), "n1");
    assert.deepEqual(
      plan.workloads.map((w) => w.name),
      ["ok"],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? "", /Pod a\/badip: status.podIP "10.244.1.300"/);
    assert.match(problems[1] ?? "", /Pod a\/badif: status.hostInterface/);
  });

  it("adds local gateway replicas as workloads that may send from their egress IP", () => {
    const index = new ClusterIndex();
    const gw = { namespace: "egress", node: "n1", ip: "10.244.1.9", hostInterface: "ewgw", gateway: "g" };
    index.upsertPod(gatewayPod({ ...gw, name: "g-0", egressIP: "10.10.0.5" }) as PodInput);
    index.upsertPod(
      gatewayPod({
        ...gw,
        name: "g-1",
        ip: "10.244.1.10",
        hostInterface: "ewgw1",
        egressIP: "nope",
      }) as PodInput,
    );
    index.upsertPod(gatewayPod({ ...gw, name: "g-2", node: "n2", egressIP: "10.10.0.6" }) as PodInput);
    const { plan, problems } = toDataplanePlan({ ...base, workloads: [] }, index, "n1");
    const ws = plan.workloads as DataplaneWorkload[];
    assert.deepEqual(
      ws.map((w) => [w.name, w.extraSourceIPs]),
      [
        ["g-0", ["10.10.0.5"]],
        ["g-1", undefined],
      ],
    );
    assert.match(problems.join("\n"), /egress\/g-1: annotation egw.dev\/egress-ip "nope"/);
  });
});
