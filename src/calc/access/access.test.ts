import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeNamespace, makeNode, makeWorkload, makeWorkloadPool } from "../fixtures.js";
import type { PodInput } from "../inputs.js";
import { computeNodePlan } from "../node-plan.js";
import { ClusterIndex, type Snapshot } from "../snapshot.js";
import { computeAccessPlan } from "./compute.js";
import { evaluateEgress, type Connection, type Verdict } from "./evaluate.js";
import type { NetworkPolicyInput, TierInput } from "./inputs.js";
import { allow, deny, globalNetworkPolicy, globalNetworkSet, networkPolicy, tier } from "./testing.js";

const WHOAMI = "198.18.0.10";
const DB = "198.19.0.20";

const pods = (): PodInput[] => [
  makeWorkload("shop", "web", { node: "n1", ip: "10.244.1.2", labels: { app: "web" }, hostInterface: "ew1" }),
  makeWorkload("shop", "batch", {
    node: "n1",
    ip: "10.244.1.3",
    labels: { app: "batch" },
    hostInterface: "ew2",
  }),
  makeWorkload("other", "client", {
    node: "n1",
    ip: "10.244.1.4",
    labels: { app: "client" },
    hostInterface: "ew3",
  }),
  makeWorkload("data", "pg-0", { node: "n2", ip: "10.244.2.2", labels: { app: "pg" } }),
];

function cluster(
  p: {
    tiers?: TierInput[];
    nps?: NetworkPolicyInput[];
    gnps?: NetworkPolicyInput[];
    sets?: Snapshot["globalNetworkSets"];
  },
  extraPods: PodInput[] = [],
): ClusterIndex {
  return ClusterIndex.fromSnapshot({
    nodes: [makeNode("n1", "172.30.0.1"), makeNode("n2", "172.30.0.2")],
    namespaces: [
      makeNamespace("shop", { labels: { team: "shop" } }),
      makeNamespace("other"),
      makeNamespace("data", { labels: { tier: "data" } }),
    ],
    pods: [...pods(), ...extraPods],
    egressGatewayPolicies: [],
    ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
    gatewayHealth: new Map(),
    tiers: p.tiers ?? [],
    networkPolicies: p.nps ?? [],
    globalNetworkPolicies: p.gnps ?? [],
    globalNetworkSets: p.sets ?? [],
  });
}

const tcp = (ip: string, port: number): Connection => ({ ip, port, protocol: "tcp" });
const udp = (ip: string, port: number): Connection => ({ ip, port, protocol: "udp" });

function verdict(index: ClusterIndex, pod: string, c: Connection): Verdict {
  const [ns = "", name = ""] = pod.split("/");
  const v = evaluateEgress(index, ns, name, c);
  assert.ok(v.ok, v.ok ? "" : v.error);
  return v.value;
}
const short = (index: ClusterIndex, pod: string, c: Connection): string => {
  const v = verdict(index, pod, c);
  const d = v.decision;
  const why =
    d.kind === "rule"
      ? `${d.ref.tier}/${d.ref.policy}#${d.ref.rule}`
      : d.kind === "tier-default"
        ? `${d.tier}/default`
        : d.kind;
  return `${v.verdict} ${why}`;
};

const shopDefaultDeny = globalNetworkPolicy("shop-egress", {
  namespaceSelector: "team == 'shop'",
  types: ["Egress"],
  egress: [allow({ nets: [`${WHOAMI}/32`], ports: [80] }, "TCP")],
});

describe("access policy semantics", () => {
  it("allows pods that no egress policy selects (the Kubernetes default)", () => {
    const index = cluster({ gnps: [shopDefaultDeny] });
    assert.equal(short(index, "other/client", tcp(DB, 5432)), "Allow no-policy");
  });

  it("a default-deny GNP for a namespace allows only its Allow rule", () => {
    const index = cluster({ gnps: [shopDefaultDeny] });
    assert.equal(short(index, "shop/web", tcp(WHOAMI, 80)), "Allow default/gnp:shop-egress#0");
    assert.equal(short(index, "shop/web", tcp(WHOAMI, 81)), "Deny default/default");
    assert.equal(short(index, "shop/web", tcp(DB, 5432)), "Deny default/default");
    assert.equal(short(index, "shop/web", udp(WHOAMI, 80)), "Deny default/default");
    assert.equal(short(index, "other/client", tcp(DB, 5432)), "Allow no-policy");
  });

  it("Log continues to the next rule and is reported", () => {
    const index = cluster({
      gnps: [
        globalNetworkPolicy("log-then-allow", {
          egress: [{ action: "Log", protocol: "TCP" }, allow()],
        }),
      ],
    });
    const v = verdict(index, "shop/web", tcp(DB, 1));
    assert.equal(v.verdict, "Allow");
    assert.deepEqual(v.logged, [{ tier: "default", policy: "gnp:log-then-allow", rule: 0, action: "Log" }]);
  });

  it("Pass leaves the tier; reversing the tier order changes the verdict", () => {
    const security: NetworkPolicyInput = globalNetworkPolicy("sec", {
      tier: "security",
      egress: [{ action: "Pass", destination: { nets: [`${DB}/32`] } }, allow()],
    });
    const app: NetworkPolicyInput = networkPolicy("shop", "app-deny", { tier: "app", egress: [deny()] });
    const forward = cluster({ tiers: [tier("security", 10), tier("app", 20)], gnps: [security], nps: [app] });
    // security passes db; app denies it. Everything else is allowed by security.
    assert.equal(short(forward, "shop/web", tcp(DB, 5432)), "Deny app/np:shop/app-deny#0");
    assert.equal(short(forward, "shop/web", tcp(WHOAMI, 80)), "Allow security/gnp:sec#1");
    const reversed = cluster({
      tiers: [tier("security", 30), tier("app", 20)],
      gnps: [security],
      nps: [app],
    });
    assert.equal(short(reversed, "shop/web", tcp(WHOAMI, 80)), "Deny app/np:shop/app-deny#0");
    const v = verdict(forward, "shop/web", tcp(DB, 5432));
    assert.deepEqual(v.passed, [{ tier: "security", policy: "gnp:sec", rule: 0, action: "Pass" }]);
  });

  it("applies the tier defaultAction when a policy selects the pod but no rule matches", () => {
    const onlyWhoami = globalNetworkPolicy("w", { tier: "t", egress: [allow({ nets: [`${WHOAMI}/32`] })] });
    const denyAll = globalNetworkPolicy("later", { tier: "u", egress: [deny()] });
    const deny1 = cluster({ tiers: [tier("t", 1), tier("u", 2)], gnps: [onlyWhoami, denyAll] });
    assert.equal(short(deny1, "shop/web", tcp(DB, 1)), "Deny t/default");
    const pass = cluster({ tiers: [tier("t", 1, "Pass"), tier("u", 2)], gnps: [onlyWhoami, denyAll] });
    assert.equal(short(pass, "shop/web", tcp(DB, 1)), "Deny u/gnp:later#0");
    assert.deepEqual(verdict(pass, "shop/web", tcp(DB, 1)).passed, [{ tier: "t", rule: "default" }]);
    // Only Pass defaults and no decision: the end of the tiers allows.
    const passOnly = cluster({ tiers: [tier("t", 1, "Pass")], gnps: [onlyWhoami] });
    assert.equal(short(passOnly, "shop/web", tcp(DB, 1)), "Allow all-tiers-passed");
  });

  it("skips a tier none of whose policies select the pod", () => {
    const index = cluster({
      tiers: [tier("t", 1), tier("u", 2)],
      gnps: [
        globalNetworkPolicy("batch-only", { tier: "t", selector: "app == 'batch'", egress: [deny()] }),
        globalNetworkPolicy("all", { tier: "u", egress: [allow()] }),
      ],
    });
    assert.equal(short(index, "shop/web", tcp(DB, 1)), "Allow u/gnp:all#0");
    assert.equal(short(index, "shop/batch", tcp(DB, 1)), "Deny t/gnp:batch-only#0");
  });

  it("orders policies by order (unset last), then by name", () => {
    const index = cluster({
      gnps: [
        globalNetworkPolicy("a-unordered", { egress: [deny()] }),
        globalNetworkPolicy("z-first", { order: 1, egress: [allow({ ports: [80] }, "TCP")] }),
        globalNetworkPolicy("b-second", { order: 2, egress: [{ action: "Pass", protocol: "UDP" }] }),
      ],
    });
    assert.equal(short(index, "shop/web", tcp(DB, 80)), "Allow default/gnp:z-first#0");
    assert.equal(short(index, "shop/web", tcp(DB, 81)), "Deny default/gnp:a-unordered#0");
    assert.equal(short(index, "shop/web", udp(DB, 81)), "Allow all-tiers-passed");
  });

  it("matches notNets, notPorts, port ranges and protocol numbers", () => {
    const index = cluster({
      gnps: [
        globalNetworkPolicy("p", {
          egress: [
            allow({ nets: ["198.18.0.0/15"], notNets: ["198.19.0.0/24"], ports: ["1000:2000", 80] }, 6),
            allow({ notPorts: ["1:1023"] }, "UDP"),
            allow(undefined, 1),
          ],
        }),
      ],
    });
    assert.equal(short(index, "shop/web", tcp(WHOAMI, 1500)), "Allow default/gnp:p#0");
    assert.equal(short(index, "shop/web", tcp(WHOAMI, 80)), "Allow default/gnp:p#0");
    assert.equal(short(index, "shop/web", tcp(WHOAMI, 2001)), "Deny default/default");
    assert.equal(short(index, "shop/web", tcp(DB, 1500)), "Deny default/default"); // notNets
    assert.equal(short(index, "shop/web", tcp("198.19.1.1", 1500)), "Allow default/gnp:p#0");
    assert.equal(short(index, "shop/web", udp(DB, 53)), "Deny default/default"); // notPorts
    assert.equal(short(index, "shop/web", udp(DB, 5353)), "Allow default/gnp:p#1");
    assert.equal(short(index, "shop/web", { ip: DB, protocol: "icmp" }), "Allow default/gnp:p#2");
    assert.equal(short(index, "shop/web", { ip: DB, protocol: 47 }), "Deny default/default");
  });

  it("a GNP applies to the namespaces its namespaceSelector picks; an NP to its own namespace", () => {
    const index = cluster({
      gnps: [globalNetworkPolicy("data-only", { namespaceSelector: "tier == 'data'", egress: [deny()] })],
      nps: [networkPolicy("other", "np", { egress: [deny({ ports: [443] }, "TCP")] })],
    });
    assert.equal(short(index, "data/pg-0", tcp(DB, 1)), "Deny default/gnp:data-only#0");
    assert.equal(short(index, "shop/web", tcp(DB, 443)), "Allow no-policy");
    assert.equal(short(index, "other/client", tcp(DB, 443)), "Deny default/np:other/np#0");
  });

  it("destination selectors follow pod IPs as pods come and go", () => {
    const policy = networkPolicy("shop", "to-pg", {
      types: ["Egress"],
      egress: [allow({ selector: "app == 'pg'", namespaceSelector: "tier == 'data'" }, "TCP")],
    });
    const index = cluster({ nps: [policy] });
    assert.equal(short(index, "shop/web", tcp("10.244.2.2", 5432)), "Allow default/np:shop/to-pg#0");
    assert.equal(short(index, "shop/web", tcp("10.244.2.3", 5432)), "Deny default/default");
    index.upsertPod(makeWorkload("data", "pg-1", { node: "n2", ip: "10.244.2.3", labels: { app: "pg" } }));
    assert.equal(short(index, "shop/web", tcp("10.244.2.3", 5432)), "Allow default/np:shop/to-pg#0");
    index.deletePod("data", "pg-0");
    assert.equal(short(index, "shop/web", tcp("10.244.2.2", 5432)), "Deny default/default");
    // Without namespaceSelector an NP's selector stays in its own namespace.
    const own = cluster({
      nps: [networkPolicy("shop", "own", { egress: [allow({ selector: "all()" })], types: ["Egress"] })],
    });
    assert.equal(short(own, "shop/web", tcp("10.244.1.3", 1)), "Allow default/np:shop/own#0");
    assert.equal(short(own, "shop/web", tcp("10.244.2.2", 1)), "Deny default/default");
  });

  it("selects GlobalNetworkSets by label (GNP selector, or namespaceSelector global())", () => {
    const sets = [
      globalNetworkSet("partners", { kind: "partner" }, ["203.0.113.0/24", "2001:db8::/32"]),
      globalNetworkSet("other", { kind: "other" }, ["192.0.2.0/24"]),
    ];
    const gnp = cluster({
      sets,
      gnps: [globalNetworkPolicy("g", { egress: [allow({ selector: "kind == 'partner'" })] })],
    });
    assert.equal(short(gnp, "shop/web", tcp("203.0.113.9", 443)), "Allow default/gnp:g#0");
    assert.equal(short(gnp, "shop/web", tcp("192.0.2.1", 443)), "Deny default/default");
    const np = cluster({
      sets,
      nps: [
        networkPolicy("shop", "n", {
          egress: [allow({ selector: "kind == 'other'", namespaceSelector: "global()" })],
        }),
      ],
    });
    assert.equal(short(np, "shop/web", tcp("192.0.2.1", 443)), "Allow default/np:shop/n#0");
    assert.equal(short(np, "shop/web", tcp("203.0.113.9", 443)), "Deny default/default");
  });

  it("infers types as Calico does", () => {
    // No rules and no types: Ingress only, so egress is untouched.
    const ingressOnly = cluster({ gnps: [globalNetworkPolicy("i", {})] });
    assert.equal(short(ingressOnly, "shop/web", tcp(DB, 1)), "Allow no-policy");
    // types Egress with no rules: selects the pod, nothing acts, the tier denies.
    const egress = cluster({ gnps: [globalNetworkPolicy("e", { types: ["Egress"] })] });
    assert.equal(short(egress, "shop/web", tcp(DB, 1)), "Deny default/default");
    // Egress rules present: Egress inferred.
    const inferred = cluster({
      gnps: [globalNetworkPolicy("r", { egress: [allow({ ports: [80] }, "TCP")] })],
    });
    assert.equal(short(inferred, "shop/web", tcp(DB, 1)), "Deny default/default");
    // Explicit types without Egress: egress rules are not enforced.
    const explicit = cluster({ gnps: [globalNetworkPolicy("x", { types: ["Ingress"], egress: [deny()] })] });
    assert.equal(short(explicit, "shop/web", tcp(DB, 1)), "Allow no-policy");
  });

  it("fails closed on an invalid rule and reports it", () => {
    const index = cluster({
      gnps: [globalNetworkPolicy("bad", { egress: [allow({ ports: ["90:80"] }, "TCP"), allow()] })],
    });
    assert.equal(short(index, "shop/web", tcp(DB, 1)), "Deny default/gnp:bad#0");
    const plan = computeAccessPlan(index, [index.pod("shop", "web")!]);
    assert.match(
      plan.problems.join("\n"),
      /GlobalNetworkPolicy "bad": spec\.egress\[0\]\.destination\.ports\[0\] "90:80"/,
    );
  });

  it("treats IPv6-only nets and domains as matching nothing on the IPv4 dataplane", () => {
    const index = cluster({
      gnps: [
        globalNetworkPolicy("v6", {
          egress: [deny({ nets: ["2001:db8::/32"] }), deny({ domains: ["example.com"] }), allow()],
        }),
      ],
    });
    assert.equal(short(index, "shop/web", tcp(DB, 1)), "Allow default/gnp:v6#2");
  });

  it("reports unknown pods, bad destinations and bad protocols as errors", () => {
    const index = cluster({});
    assert.equal(evaluateEgress(index, "shop", "nope", tcp(DB, 1)).ok, false);
    assert.equal(evaluateEgress(index, "shop", "web", tcp("2001:db8::1", 1)).ok, false);
    assert.equal(evaluateEgress(index, "shop", "web", { ip: DB, protocol: "gre" }).ok, false);
  });

  it("puts an access plan in the NodePlan only when policies exist, for the node's workloads", () => {
    assert.equal(computeNodePlan(cluster({}), "n1").access, undefined);
    const plan = computeNodePlan(cluster({ gnps: [shopDefaultDeny] }), "n1");
    assert.ok(plan.access);
    assert.deepEqual(
      plan.access.tiers.map((t) => [t.name, t.defaultAction, t.policies.map((p) => [p.key, p.appliesTo])]),
      [
        [
          "default",
          "Deny",
          [
            [
              "gnp:shop-egress",
              [
                { key: "shop/batch", hostInterface: "ew2" },
                { key: "shop/web", hostInterface: "ew1" },
              ],
            ],
          ],
        ],
      ],
    );
    assert.deepEqual(plan.access.tiers[0]?.policies[0]?.rules, [
      { index: 0, action: "Allow", protocol: 6, nets: [`${WHOAMI}/32`], ports: [{ from: 80, to: 80 }] },
    ]);
    // A policy that selects no workload of the node is left out.
    assert.deepEqual(computeNodePlan(cluster({ gnps: [shopDefaultDeny] }), "n2").access?.tiers, []);
  });
});
