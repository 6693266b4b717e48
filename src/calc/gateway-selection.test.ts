import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makePolicy,
  makeWorkload,
  makeWorkloadPool,
  policyAnnotations,
  selectorAnnotations,
} from "./fixtures.js";
import { resolveWorkloadEgress, type WorkloadEgress } from "./gateway-selection.js";
import type { NamespaceInput, NodeInput, PodInput } from "./inputs.js";
import type { DestinationRoute } from "./plan.js";
import { ClusterIndex } from "./snapshot.js";

const SHARED = "egw.dev/gateway == 'shared'";
const IN_EGRESS = "kubernetes.io/metadata.name == 'egress'";

/** egress/shared-0..3 on n2/n3, payments/pay-0 on n2; workloads go on n1. */
function cluster(extra: { namespaces?: NamespaceInput[]; pods?: PodInput[] } = {}): ClusterIndex {
  const sharedReplicas = [0, 1, 2, 3].map((i) =>
    makeGatewayPod("egress", `shared-${i}`, {
      node: i % 2 === 0 ? "n2" : "n3",
      ip: `10.128.0.${10 + i}`,
      egressIP: `10.10.0.${10 + i}`,
      gateway: "shared",
    }),
  );
  return ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", "172.30.0.1"), makeNode("n2", "172.30.0.2"), makeNode("n3", "172.30.0.3")],
    namespaces: [
      makeNamespace("egress"),
      makeNamespace("payments"),
      makeNamespace("shop"),
      ...(extra.namespaces ?? []),
    ],
    pods: [
      ...sharedReplicas,
      makeGatewayPod("payments", "pay-0", {
        node: "n2",
        ip: "10.128.1.1",
        egressIP: "10.10.1.1",
        gateway: "pay",
      }),
      ...(extra.pods ?? []),
    ],
    egressGatewayPolicies: [
      makePolicy("split", [
        {
          destination: { cidr: "198.18.20.0/24" },
          gateway: { selector: SHARED, namespaceSelector: IN_EGRESS },
        },
        { gateway: { selector: "egw.dev/gateway == 'pay'", namespaceSelector: "all()" } },
        { destination: { cidr: "198.18.30.0/24" }, description: "direct" },
      ]),
      makePolicy("partial", [
        {
          destination: { cidr: "198.18.20.0/24" },
          gateway: { selector: SHARED, namespaceSelector: IN_EGRESS },
        },
      ]),
      makePolicy("broken", [{ destination: { cidr: "198.18.20.1/24" } }]),
    ],
    ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
    gatewayHealth: new Map(),
  });
}

let nextIP = 1;
const workload = (ns: string, name: string, annotations?: Record<string, string>): PodInput =>
  makeWorkload(ns, name, {
    node: "n1",
    ip: `10.244.0.${nextIP++ % 250}`,
    ...(annotations ? { annotations } : {}),
  });

function resolve(index: ClusterIndex, ns: string, name: string): WorkloadEgress {
  const pod = index.pod(ns, name);
  assert.ok(pod, `pod ${ns}/${name} exists`);
  return resolveWorkloadEgress(index, pod, pod.spec?.nodeName ?? "");
}

function routes(e: WorkloadEgress): DestinationRoute[] {
  assert.equal(e.kind, "gateways", JSON.stringify(e));
  return e.kind === "gateways" ? e.routes : [];
}

const hopNames = (r: DestinationRoute | undefined): string[] =>
  r?.action === "gateways" ? r.hops.map((h) => h.replica) : [];

describe("gateway selection by annotations", () => {
  it("gives pods without annotations no gateway", () => {
    const index = cluster({ pods: [workload("shop", "plain")] });
    assert.deepEqual(resolve(index, "shop", "plain"), { kind: "none" });
  });

  it("defaults the namespace selector to the pod's own namespace", () => {
    const sel = selectorAnnotations("egw.dev/gateway == 'pay'");
    const index = cluster({ pods: [workload("payments", "a", sel), workload("shop", "b", sel)] });
    assert.deepEqual(hopNames(routes(resolve(index, "payments", "a"))[0]), ["payments/pay-0"]);
    const other = routes(resolve(index, "shop", "b"));
    assert.equal(other[0]?.action, "unreachable", "the pay gateway lives in payments, not shop");
  });

  it("reaches gateways in other namespaces through namespaceSelector (shared gateway)", () => {
    const index = cluster({
      namespaces: [
        makeNamespace("team-a", {
          annotations: selectorAnnotations(SHARED, { namespaceSelector: IN_EGRESS }),
        }),
      ],
      pods: [workload("team-a", "a")],
    });
    const [r] = routes(resolve(index, "team-a", "a"));
    assert.equal(r?.destination, "0.0.0.0/0");
    assert.deepEqual(hopNames(r), [
      "egress/shared-0",
      "egress/shared-1",
      "egress/shared-2",
      "egress/shared-3",
    ]);
    const hop = r?.action === "gateways" ? r.hops[0] : undefined;
    assert.deepEqual(hop, {
      replica: "egress/shared-0",
      ip: "10.128.0.10",
      mac: "a2:2a:0a:80:00:0a",
      vtep: "10.128.0.10",
      egressIP: "10.10.0.10",
    });
  });

  it("blocks only the pod with a bad selector annotation, naming the annotation and column", () => {
    const index = cluster({
      namespaces: [
        makeNamespace("mixed", {
          annotations: selectorAnnotations(SHARED, { namespaceSelector: IN_EGRESS }),
        }),
      ],
      pods: [
        workload("mixed", "bad", selectorAnnotations("app == ")),
        workload("mixed", "good"),
        workload("shop", "plain"),
      ],
    });
    const bad = resolve(index, "mixed", "bad");
    assert.equal(bad.kind, "blocked");
    assert.match(
      bad.kind === "blocked" ? bad.reason : "",
      /^pod annotation egress\.egw\.dev\/selector: selector "app ==": .* at column \d+$/,
    );
    assert.equal(routes(resolve(index, "mixed", "good"))[0]?.action, "gateways");
    assert.deepEqual(resolve(index, "shop", "plain"), { kind: "none" });
  });

  it("blocks a pod whose namespaceSelector annotation does not parse", () => {
    const index = cluster({
      pods: [workload("shop", "x", selectorAnnotations(SHARED, { namespaceSelector: "(((" }))],
    });
    const e = resolve(index, "shop", "x");
    assert.equal(e.kind, "blocked");
    assert.match(e.kind === "blocked" ? e.reason : "", /namespaceSelector/);
  });

  it("fails closed with unreachable when the selector matches nothing", () => {
    const index = cluster({
      pods: [workload("shop", "x", selectorAnnotations("egw.dev/gateway == 'nope'"))],
    });
    const [r] = routes(resolve(index, "shop", "x"));
    assert.equal(r?.action, "unreachable");
    assert.match(r?.action === "unreachable" ? r.reason : "", /no gateway replica matches selector/);
  });
});

describe("EgressGatewayPolicy", () => {
  it("routes by longest prefix: a gateway set per destination, throw for rules without gateway", () => {
    const index = cluster({ pods: [workload("shop", "p", policyAnnotations("split"))] });
    const rs = routes(resolve(index, "shop", "p"));
    assert.deepEqual(
      rs.map((r) => [r.destination, r.action]),
      [
        ["198.18.20.0/24", "gateways"],
        ["198.18.30.0/24", "throw"],
        ["0.0.0.0/0", "gateways"],
      ],
    );
    assert.equal(hopNames(rs[0]).length, 4);
    assert.deepEqual(hopNames(rs[2]), ["payments/pay-0"]);
  });

  it("sends destinations the policy does not cover the normal way (explicit throw 0.0.0.0/0)", () => {
    const index = cluster({ pods: [workload("shop", "p", policyAnnotations("partial"))] });
    assert.deepEqual(
      routes(resolve(index, "shop", "p")).map((r) => [r.destination, r.action]),
      [
        ["198.18.20.0/24", "gateways"],
        ["0.0.0.0/0", "throw"],
      ],
    );
  });

  it("blocks pods naming a policy that does not exist (never node SNAT)", () => {
    const index = cluster({ pods: [workload("shop", "p", policyAnnotations("missing"))] });
    const e = resolve(index, "shop", "p");
    assert.equal(e.kind, "blocked");
    assert.match(e.kind === "blocked" ? e.reason : "", /EgressGatewayPolicy "missing", which does not exist/);
  });

  it("blocks pods naming an invalid policy, with the field path", () => {
    const index = cluster({ pods: [workload("shop", "p", policyAnnotations("broken"))] });
    const e = resolve(index, "shop", "p");
    assert.match(
      e.kind === "blocked" ? e.reason : "",
      /EgressGatewayPolicy "broken": spec\.rules\[0\]\.destination\.cidr "198\.18\.20\.1\/24" has host bits set/,
    );
  });

  it("starts routing through the policy as soon as it is created", () => {
    const index = cluster({ pods: [workload("shop", "p", policyAnnotations("later"))] });
    assert.equal(resolve(index, "shop", "p").kind, "blocked");
    index.upsertPolicy(
      makePolicy("later", [{ gateway: { selector: SHARED, namespaceSelector: IN_EGRESS } }]),
    );
    assert.equal(routes(resolve(index, "shop", "p"))[0]?.action, "gateways");
  });

  it("prefers replicas on the client's node with PreferNodeLocal", () => {
    const index = cluster({
      pods: [
        makeGatewayPod("egress", "shared-local", {
          node: "n1",
          ip: "10.128.0.99",
          egressIP: "10.10.0.99",
          gateway: "shared",
        }),
        workload("shop", "p", policyAnnotations("local")),
      ],
    });
    index.upsertPolicy(
      makePolicy("local", [
        { gateway: { selector: SHARED, namespaceSelector: IN_EGRESS }, gatewayPreference: "PreferNodeLocal" },
      ]),
    );
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), ["egress/shared-local"]);
    index.setGatewayHealth("egress/shared-local", false);
    assert.equal(
      hopNames(routes(resolve(index, "shop", "p"))[0]).length,
      4,
      "falls back to all healthy replicas",
    );
  });
});

describe("replica choice", () => {
  const shared = (max: number) =>
    selectorAnnotations(SHARED, { namespaceSelector: IN_EGRESS, maxNextHops: max });

  it("excludes unhealthy, terminating and not-running replicas; unpolled counts as healthy", () => {
    const index = cluster({ pods: [workload("shop", "p", shared(0))] });
    const before = resolve(index, "shop", "p");
    index.setGatewayHealth("egress/shared-0", false);
    index.setGatewayHealth("egress/shared-3", true);
    index.upsertPod(
      makeGatewayPod("egress", "shared-1", {
        node: "n3",
        ip: "10.128.0.11",
        egressIP: "10.10.0.11",
        gateway: "shared",
        terminating: true,
      }),
    );
    index.upsertPod(
      makeGatewayPod("egress", "shared-2", {
        node: "n2",
        ip: "10.128.0.12",
        egressIP: "10.10.0.12",
        gateway: "shared",
        phase: "Pending",
      }),
    );
    const after = resolve(index, "shop", "p");
    assert.deepEqual(hopNames(routes(after)[0]), ["egress/shared-3"]);
    assert.equal(
      after.kind === "gateways" && after.key,
      before.kind === "gateways" && before.key,
      "health does not change the set's key",
    );
  });

  it("goes unreachable, with the reasons, when no replica is usable", () => {
    const index = cluster({ pods: [workload("shop", "p", shared(0))] });
    for (let i = 0; i < 4; i++) index.setGatewayHealth(`egress/shared-${i}`, false);
    const [r] = routes(resolve(index, "shop", "p"));
    assert.equal(r?.action, "unreachable");
    assert.match(
      r?.action === "unreachable" ? r.reason : "",
      /none of the 4 gateway replicas .* is usable \(egress\/shared-0: failed readiness polling/,
    );
  });

  it("picks maxNextHops replicas deterministically and spreads workloads across them", () => {
    const pods = Array.from({ length: 400 }, (_, i) => workload("shop", `w${i}`, shared(1)));
    const a = cluster({ pods });
    const b = cluster({ pods: [...pods].reverse() });
    const uses = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const hops = hopNames(routes(resolve(a, "shop", `w${i}`))[0]);
      assert.equal(hops.length, 1);
      assert.deepEqual(
        hopNames(routes(resolve(b, "shop", `w${i}`))[0]),
        hops,
        "same choice from another index",
      );
      uses.set(hops[0]!, (uses.get(hops[0]!) ?? 0) + 1);
    }
    assert.equal(uses.size, 4);
    for (const [replica, n] of uses)
      assert.ok(n > 50 && n < 150, `${replica} chosen by ${n} of 400 (expected about 100)`);
  });

  it("picks exactly maxNextHops distinct replicas when fewer than all", () => {
    const index = cluster({ pods: [workload("shop", "p", shared(3))] });
    const hops = hopNames(routes(resolve(index, "shop", "p"))[0]);
    assert.equal(new Set(hops).size, 3);
  });

  it("moves only the workloads that used a replica when it is removed", () => {
    const pods = Array.from({ length: 100 }, (_, i) => workload("shop", `w${i}`, shared(1)));
    const index = cluster({ pods });
    const before = pods.map((p) => hopNames(routes(resolve(index, "shop", p.metadata.name))[0])[0]);
    index.deletePod("egress", "shared-0");
    pods.forEach((p, i) => {
      const now = hopNames(routes(resolve(index, "shop", p.metadata.name))[0])[0];
      if (before[i] !== "egress/shared-0") assert.equal(now, before[i]);
      else assert.notEqual(now, "egress/shared-0");
    });
  });

  it("keeps a workload's picked set key while its picked replica is only unhealthy, routing via a healthy one", () => {
    const index = cluster({ pods: [workload("shop", "p", shared(1))] });
    const before = resolve(index, "shop", "p");
    const picked = hopNames(routes(before)[0])[0]!;
    index.setGatewayHealth(picked, false);
    const after = resolve(index, "shop", "p");
    assert.equal(after.kind === "gateways" && after.key, before.kind === "gateways" && before.key);
    const now = hopNames(routes(after)[0]);
    assert.equal(now.length, 1);
    assert.notEqual(now[0], picked);
  });
});

describe("zone preference (PreferSameZone)", () => {
  const ZONE = "topology.kubernetes.io/zone";
  /** n1, n2 in zone-a; n3, n4 in zone-b; n5 without a zone. egress/zoned-<n> on each of n1..n4. */
  function zoned(extra: PodInput[] = []): ClusterIndex {
    const node = (name: string, i: number, zone?: string): NodeInput => ({
      metadata: { name, ...(zone === undefined ? {} : { labels: { [ZONE]: zone } }) },
      status: { addresses: [{ type: "InternalIP", address: `172.30.0.${10 + i}` }] },
    });
    const replicas = [1, 2, 3, 4].map((i) =>
      makeGatewayPod("egress", `zoned-${i}`, {
        node: `n${i}`,
        ip: `10.128.0.${20 + i}`,
        egressIP: `10.10.0.${20 + i}`,
        gateway: "zoned",
      }),
    );
    return ClusterIndex.fromSnapshot({
      nodes: [
        node("n1", 1, "zone-a"),
        node("n2", 2, "zone-a"),
        node("n3", 3, "zone-b"),
        node("n4", 4, "zone-b"),
        node("n5", 5),
      ],
      namespaces: [makeNamespace("egress"), makeNamespace("shop")],
      pods: [...replicas, ...extra],
      egressGatewayPolicies: [
        makePolicy("same-zone", [
          {
            gateway: { selector: "egw.dev/gateway == 'zoned'", namespaceSelector: IN_EGRESS },
            gatewayPreference: "PreferSameZone",
          },
        ]),
      ],
      ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
      gatewayHealth: new Map(),
    });
  }
  const sameZone = (
    opts: { maxNextHops?: number; gatewayPreference?: string } = {},
  ): Record<string, string> =>
    selectorAnnotations("egw.dev/gateway == 'zoned'", {
      namespaceSelector: IN_EGRESS,
      gatewayPreference: "PreferSameZone",
      ...opts,
    });
  const on = (node: string, name: string, annotations: Record<string, string>): PodInput =>
    makeWorkload("shop", name, { node, ip: `10.244.9.${nextIP++ % 250}`, annotations });

  it("uses the replicas in the client's zone, from a policy rule and from the annotation", () => {
    const index = zoned([
      on("n1", "policy-a", policyAnnotations("same-zone")),
      on("n3", "policy-b", policyAnnotations("same-zone")),
      on("n2", "ann-a", sameZone()),
      on("n4", "ann-b", sameZone()),
    ]);
    const inA = ["egress/zoned-1", "egress/zoned-2"];
    const inB = ["egress/zoned-3", "egress/zoned-4"];
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "policy-a"))[0]), inA);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "ann-a"))[0]), inA);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "policy-b"))[0]), inB);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "ann-b"))[0]), inB);
  });

  it("gives clients of one zone one gateway set, whatever their node", () => {
    const index = zoned([on("n1", "a1", sameZone()), on("n2", "a2", sameZone()), on("n3", "b", sameZone())]);
    const key = (name: string): string => {
      const e = resolve(index, "shop", name);
      return e.kind === "gateways" ? e.key : "";
    };
    assert.equal(key("a1"), key("a2"));
    assert.notEqual(key("a1"), key("b"));
  });

  it("falls back to other zones while no same-zone replica is usable, and keeps the set's key", () => {
    const index = zoned([on("n1", "p", sameZone())]);
    const before = resolve(index, "shop", "p");
    index.setGatewayHealth("egress/zoned-1", false);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), ["egress/zoned-2"], "one is enough");
    index.setGatewayHealth("egress/zoned-2", false);
    const after = resolve(index, "shop", "p");
    assert.deepEqual(hopNames(routes(after)[0]), ["egress/zoned-3", "egress/zoned-4"]);
    assert.equal(after.kind === "gateways" && after.key, before.kind === "gateways" && before.key);
    index.setGatewayHealth("egress/zoned-2", true);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), ["egress/zoned-2"], "back in zone");
  });

  it("uses other zones when the same-zone replicas are gone or draining", () => {
    const index = zoned([on("n1", "p", sameZone())]);
    index.deletePod("egress", "zoned-1");
    index.upsertPod(
      makeGatewayPod("egress", "zoned-2", {
        node: "n2",
        ip: "10.128.0.22",
        egressIP: "10.10.0.22",
        gateway: "zoned",
        terminating: true,
      }),
    );
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), ["egress/zoned-3", "egress/zoned-4"]);
  });

  it("with maxNextHops picks within the zone, and a picked replica that fails is replaced from the zone", () => {
    const pods = [1, 2, 3, 4, 5, 6].map((i) => on("n1", `w${i}`, sameZone({ maxNextHops: 1 })));
    const index = zoned(pods);
    const picks = new Set<string>();
    for (let i = 1; i <= 6; i++) {
      const hops = hopNames(routes(resolve(index, "shop", `w${i}`))[0]);
      assert.equal(hops.length, 1);
      assert.ok(hops[0] === "egress/zoned-1" || hops[0] === "egress/zoned-2", `w${i}: ${hops[0]}`);
      picks.add(hops[0] ?? "");
    }
    assert.equal(picks.size, 2, "workloads spread over the zone's replicas");
    index.setGatewayHealth("egress/zoned-1", false);
    for (let i = 1; i <= 6; i++)
      assert.deepEqual(hopNames(routes(resolve(index, "shop", `w${i}`))[0]), ["egress/zoned-2"], `w${i}`);
  });

  it("follows a node's zone label when it changes", () => {
    const index = zoned([on("n1", "p", sameZone())]);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), ["egress/zoned-1", "egress/zoned-2"]);
    index.upsertNode({
      metadata: { name: "n1", labels: { [ZONE]: "zone-b" } },
      status: { addresses: [{ type: "InternalIP", address: "172.30.0.11" }] },
    });
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), [
      "egress/zoned-1",
      "egress/zoned-3",
      "egress/zoned-4",
    ]);
  });

  it("uses every replica for a client whose node has no zone label", () => {
    const index = zoned([on("n5", "p", sameZone())]);
    assert.equal(hopNames(routes(resolve(index, "shop", "p"))[0]).length, 4);
  });

  it("blocks a workload whose gatewayPreference annotation is not valid, naming it", () => {
    const index = zoned([on("n1", "typo", sameZone({ gatewayPreference: "SameZone" }))]);
    const e = resolve(index, "shop", "typo");
    assert.equal(e.kind, "blocked");
    assert.equal(
      e.kind === "blocked" && e.reason,
      'pod annotation egress.egw.dev/gatewayPreference: "SameZone" is not valid: use None, PreferNodeLocal or PreferSameZone',
    );
  });

  it("reads PreferNodeLocal from the annotation too", () => {
    const index = zoned([on("n3", "p", sameZone({ gatewayPreference: "PreferNodeLocal" }))]);
    assert.deepEqual(hopNames(routes(resolve(index, "shop", "p"))[0]), ["egress/zoned-3"]);
  });
});
