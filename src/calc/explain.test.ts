import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { explainWorkload, formatExplanation } from "./explain.js";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makePolicy,
  makeWorkload,
  policyAnnotations,
  selectorAnnotations,
} from "./fixtures.js";
import { ClusterIndex } from "./snapshot.js";

function cluster(): ClusterIndex {
  return ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", "172.30.0.1"), makeNode("n2", "172.30.0.2")],
    namespaces: [
      makeNamespace("egress"),
      makeNamespace("payments", { annotations: selectorAnnotations("egw.dev/gateway == 'pay'") }),
    ],
    pods: [
      makeGatewayPod("payments", "pay-0", {
        node: "n2",
        ip: "10.128.0.1",
        egressIP: "10.10.1.1",
        gateway: "pay",
      }),
      makeGatewayPod("egress", "a-0", { node: "n2", ip: "10.128.0.2", egressIP: "10.10.2.1", gateway: "a" }),
      makeWorkload("payments", "api", { node: "n1", ip: "10.244.0.1" }),
      makeWorkload("payments", "split", {
        node: "n1",
        ip: "10.244.0.2",
        annotations: policyAnnotations("split"),
      }),
      makeWorkload("payments", "typo", {
        node: "n1",
        ip: "10.244.0.3",
        annotations: policyAnnotations("nope"),
      }),
      makeWorkload("egress", "plain", { node: "n1", ip: "10.244.0.4" }),
    ],
    egressGatewayPolicies: [
      makePolicy("split", [
        {
          destination: { cidr: "198.18.20.0/24" },
          gateway: { selector: "egw.dev/gateway == 'a'", namespaceSelector: "all()" },
        },
        { destination: { cidr: "198.18.30.0/24" } },
      ]),
    ],
    ipPools: [],
    gatewayHealth: new Map([["payments/pay-0", true]]),
  });
}

describe("explainWorkload", () => {
  it("shows the gateway replicas and egress IPs a pod leaves with, and where the choice came from", () => {
    const e = explainWorkload(cluster(), "payments", "api");
    assert.ok(e.ok);
    assert.equal(e.value.kind, "gateways");
    if (e.value.kind !== "gateways") return;
    assert.match(
      e.value.source,
      /^namespace annotation egress\.egw\.dev\/selector "egw\.dev\/gateway == 'pay'" \(gateways in the pod's own namespace\)$/,
    );
    assert.deepEqual(e.value.destinations, [
      {
        destination: "0.0.0.0/0",
        action: "gateways",
        gateways: [
          {
            replica: "payments/pay-0",
            node: "n2",
            podIP: "10.128.0.1",
            egressIP: "10.10.1.1",
            health: "ready",
          },
        ],
      },
    ]);
  });

  it("explains per-destination policy routes, including uncovered destinations", () => {
    const e = explainWorkload(cluster(), "payments", "split");
    assert.ok(e.ok);
    const lines = formatExplanation(e.value);
    assert.deepEqual(lines, [
      "Egress: via gateways",
      `  Source: EgressGatewayPolicy "split" (pod annotation egress.egw.dev/egressGatewayPolicy)`,
      "  198.18.20.0/24: 1 gateway(s)",
      "    egress/a-0 on n2: egress IP 10.10.2.1 (pod IP 10.128.0.2, not polled yet)",
      "  198.18.30.0/24: no gateway (policy rule without gateway: normal path)",
      "  0.0.0.0/0: no gateway (not covered by the policy: normal path)",
    ]);
  });

  it("explains blocked pods, pods without gateway, replicas and unknown pods", () => {
    const index = cluster();
    const typo = explainWorkload(index, "payments", "typo");
    assert.ok(typo.ok && typo.value.kind === "blocked");
    assert.match(
      formatExplanation(typo.value).join("\n"),
      /BLOCKED[\s\S]*EgressGatewayPolicy "nope", which does not exist/,
    );
    const plain = explainWorkload(index, "egress", "plain");
    assert.ok(plain.ok);
    assert.match(formatExplanation(plain.value)[0] ?? "", /no gateway \(node SNAT\)/);
    const replica = explainWorkload(index, "payments", "pay-0");
    assert.deepEqual(replica, { ok: true, value: { kind: "gateway-replica", owner: "payments/pay" } });
    assert.deepEqual(explainWorkload(index, "x", "y"), { ok: false, error: 'pod "x/y" not found' });
  });
});
