import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { explainWorkload } from "./explain.js";
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
      makeGatewayPod("egress", "a-1", { node: "n1", ip: "10.128.0.3", egressIP: "10.10.2.2", gateway: "a" }),
      makeGatewayPod("egress", "a-2", { node: "n2", ip: "10.128.0.4", egressIP: "10.10.2.3", gateway: "a" }),
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
      makeWorkload("egress", "two", {
        node: "n1",
        ip: "10.244.0.5",
        annotations: selectorAnnotations("egw.dev/gateway == 'a'", { maxNextHops: 2 }),
      }),
      makeWorkload("egress", "near", {
        node: "n1",
        ip: "10.244.0.6",
        annotations: policyAnnotations("near"),
      }),
    ],
    egressGatewayPolicies: [
      makePolicy("split", [
        {
          destination: { cidr: "198.18.20.0/24" },
          gateway: { selector: "egw.dev/gateway == 'a'", namespaceSelector: "all()" },
        },
        { destination: { cidr: "198.18.30.0/24" } },
      ]),
      makePolicy("near", [
        {
          destination: { cidr: "0.0.0.0/0" },
          gateway: { selector: "egw.dev/gateway == 'a'", namespaceSelector: "all()" },
          gatewayPreference: "PreferNodeLocal",
        },
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
        choice: {
          selector: 'egw.dev/gateway == "pay"',
          namespaceSelector: 'kubernetes.io/metadata.name == "payments"',
          maxNextHops: 0,
          preference: "None",
          candidates: 1,
          preferred: false,
          fallback: false,
        },
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
    assert.ok(e.ok && e.value.kind === "gateways");
    assert.equal(
      e.value.source,
      'EgressGatewayPolicy "split" (pod annotation egress.egw.dev/egressGatewayPolicy)',
    );
    const [covered, noGateway, uncovered] = e.value.destinations;
    assert.ok(covered?.action === "gateways");
    assert.equal(covered.destination, "198.18.20.0/24");
    assert.deepEqual(
      covered.gateways.map((g) => g.replica),
      ["egress/a-0", "egress/a-1", "egress/a-2"],
    );
    assert.equal(covered.choice?.namespaceSelector, "all()");
    assert.deepEqual(noGateway, {
      destination: "198.18.30.0/24",
      action: "throw",
      why: "policy rule without gateway: normal path",
    });
    assert.deepEqual(uncovered, {
      destination: "0.0.0.0/0",
      action: "throw",
      why: "not covered by the policy: normal path",
    });
  });

  it("says which replicas maxNextHops picked and where node-local preference looked, without internal keys", () => {
    const index = cluster();
    const two = explainWorkload(index, "egress", "two");
    assert.ok(two.ok && two.value.kind === "gateways");
    const picked = two.value.destinations[0];
    assert.ok(picked?.action === "gateways");
    assert.equal(picked.choice?.maxNextHops, 2);
    assert.equal(picked.choice?.candidates, 3);
    assert.equal(picked.choice?.picked?.length, 2);
    assert.deepEqual(
      picked.gateways.map((g) => g.replica),
      picked.choice?.picked,
    );
    const near = explainWorkload(index, "egress", "near");
    assert.ok(near.ok && near.value.kind === "gateways");
    const local = near.value.destinations[0];
    assert.ok(local?.action === "gateways");
    assert.deepEqual(local.choice, {
      selector: 'egw.dev/gateway == "a"',
      namespaceSelector: "all()",
      maxNextHops: 0,
      preference: "PreferNodeLocal",
      candidates: 1,
      preferred: true,
      fallback: false,
    });
    assert.deepEqual(
      local.gateways.map((g) => `${g.replica} on ${g.node}`),
      ["egress/a-1 on n1"],
    );
    assert.doesNotMatch(JSON.stringify([two, near]), /sel=|pick=|max=/);
  });

  it("explains blocked pods, pods without gateway, replicas and unknown pods", () => {
    const index = cluster();
    const typo = explainWorkload(index, "payments", "typo");
    assert.ok(typo.ok && typo.value.kind === "blocked");
    assert.match(typo.value.reason, /EgressGatewayPolicy "nope", which does not exist/);
    const plain = explainWorkload(index, "egress", "plain");
    assert.ok(plain.ok && plain.value.kind === "no-gateway");
    assert.match(plain.value.summary, /no gateway \(node SNAT\)/);
    const replica = explainWorkload(index, "payments", "pay-0");
    assert.deepEqual(replica, { ok: true, value: { kind: "gateway-replica", owner: "payments/pay" } });
    assert.deepEqual(explainWorkload(index, "x", "y"), { ok: false, error: 'pod "x/y" not found' });
  });
});
