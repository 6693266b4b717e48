import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../util/random.js";
import { makeNamespace, makeNode, makeWorkload, makeWorkloadPool } from "../fixtures.js";
import type { NamespaceInput, PodInput } from "../inputs.js";
import { computeNodePlan } from "../node-plan.js";
import { ClusterIndex, type Snapshot } from "../snapshot.js";
import { computeAccessPlan } from "./compute.js";
import type { GlobalNetworkSetInput, NetworkPolicyInput } from "./inputs.js";
import { allow, deny, globalNetworkPolicy, globalNetworkSet, networkPolicy } from "./testing.js";

const NAMESPACES = ["shop", "other", "data"];
const APPS = ["web", "db", "batch", "cache"];
const PHASES = ["Running", "Running", "Running", "Pending", "Succeeded", "Failed"];

const gnps: NetworkPolicyInput[] = [
  globalNetworkPolicy("to-web", {
    order: 1,
    selector: "all()",
    types: ["Egress"],
    egress: [allow({ selector: "app == 'web'" }), deny({ selector: "app in {'db', 'cache'}" })],
  }),
  globalNetworkPolicy("to-shop", {
    order: 2,
    selector: "app == 'batch'",
    egress: [
      allow({ namespaceSelector: "team == 'shop'" }),
      allow({ namespaceSelector: "team == 'shop'", selector: "app == 'db'" }),
      allow({ namespaceSelector: "global()", selector: "kind == 'ext'" }),
      allow({ namespaceSelector: "all()" }),
    ],
  }),
  globalNetworkPolicy("to-sets", {
    order: 3,
    selector: "has(app)",
    egress: [allow({ selector: "kind == 'ext' || app == 'cache'" }), deny()],
  }),
];
const nps: NetworkPolicyInput[] = [
  networkPolicy("shop", "local", {
    selector: "all()",
    egress: [allow({ selector: "app == 'db'" }), allow({ selector: "all()" })],
  }),
];

describe("access plan on an incrementally maintained index", () => {
  it("equals the plan of a fresh index after random pod adds, deletes and relabels", () => {
    const rand = seededRandom(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const namespaces = new Map<string, NamespaceInput>(
      NAMESPACES.map((n) => [n, makeNamespace(n, n === "shop" ? { labels: { team: "shop" } } : {})]),
    );
    let sets: GlobalNetworkSetInput[] = [
      globalNetworkSet("ext-a", { kind: "ext" }, ["198.51.100.0/24", "203.0.113.7"]),
      globalNetworkSet("ext-b", { app: "cache" }, ["192.0.2.0/25"]),
    ];
    const pods = new Map<string, PodInput>();
    const randomPod = (ns: string, name: string): PodInput =>
      makeWorkload(ns, name, {
        node: pick(["n1", "n2"]),
        // A small address pool, so pods share IPs (host network, reuse before delete).
        ip: rand() < 0.05 ? "not-an-ip" : `10.244.0.${Math.floor(rand() * 24)}`,
        labels: rand() < 0.1 ? {} : { app: pick(APPS) },
        phase: pick(PHASES),
        hostInterface: `ew-${name}`,
      });
    const snapshot = (): Snapshot => ({
      nodes: [makeNode("n1", "172.30.0.1"), makeNode("n2", "172.30.0.2")],
      namespaces: [...namespaces.values()],
      pods: [...pods.values()],
      egressGatewayPolicies: [],
      ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
      gatewayHealth: new Map(),
      networkPolicies: nps,
      globalNetworkPolicies: gnps,
      globalNetworkSets: sets,
    });
    for (let i = 0; i < 20; i++) {
      const ns = pick(NAMESPACES);
      const pod = randomPod(ns, `p${i}`);
      pods.set(`${ns}/p${i}`, pod);
    }
    const index = ClusterIndex.fromSnapshot(snapshot());
    const plans = (ix: ClusterIndex): string =>
      JSON.stringify([
        computeAccessPlan(ix, ix.allPods()),
        computeNodePlan(ix, "n1").access,
        computeNodePlan(ix, "n2").access,
      ]);
    assert.equal(plans(index), plans(ClusterIndex.fromSnapshot(snapshot())));

    for (let step = 0; step < 600; step++) {
      const r = rand();
      const keys = [...pods.keys()];
      if (r < 0.3 || keys.length === 0) {
        const ns = pick(NAMESPACES);
        const name = `p${Math.floor(rand() * 40)}`;
        const pod = randomPod(ns, name);
        pods.set(`${ns}/${name}`, pod);
        index.upsertPod(pod);
      } else if (r < 0.5) {
        const key = pick(keys);
        const [ns = "", name = ""] = key.split("/");
        pods.delete(key);
        index.deletePod(ns, name);
      } else if (r < 0.9) {
        // Relabel, or change phase / IP: a new object for the same pod.
        const old = pods.get(pick(keys))!;
        const pod: PodInput =
          rand() < 0.6
            ? { ...old, metadata: { ...old.metadata, labels: rand() < 0.1 ? {} : { app: pick(APPS) } } }
            : randomPod(old.metadata.namespace ?? "default", old.metadata.name);
        pods.set(`${pod.metadata.namespace}/${pod.metadata.name}`, pod);
        index.upsertPod(pod);
      } else if (r < 0.95) {
        // A namespace relabel.
        const name = pick(NAMESPACES);
        const ns = makeNamespace(name, rand() < 0.5 ? { labels: { team: "shop" } } : {});
        namespaces.set(name, ns);
        index.upsertNamespace(ns);
      } else {
        // A GlobalNetworkSet change.
        const set = globalNetworkSet("ext-c", rand() < 0.5 ? { kind: "ext" } : { app: "web" }, [
          `192.0.2.${128 + Math.floor(rand() * 64)}`,
        ]);
        sets = [...sets.filter((s) => s.metadata.name !== "ext-c"), set];
        index.upsertGlobalNetworkSet(set);
      }
      if (step % 3 === 0 || step > 570) {
        assert.equal(plans(index), plans(ClusterIndex.fromSnapshot(snapshot())), `after step ${step}`);
      }
    }
  });

  it("drops cached destinations of deleted policies and resolves re-added ones afresh", () => {
    const pod = (name: string, ip: string, app: string): PodInput =>
      makeWorkload("shop", name, { node: "n1", ip, labels: { app }, hostInterface: `ew-${name}` });
    const index = ClusterIndex.fromSnapshot({
      nodes: [makeNode("n1", "172.30.0.1")],
      namespaces: [makeNamespace("shop")],
      pods: [pod("a", "10.244.0.1", "web")],
      egressGatewayPolicies: [],
      ipPools: [],
      gatewayHealth: new Map(),
      globalNetworkPolicies: [gnps[0]!],
    });
    const selected = (): string[] | undefined =>
      computeAccessPlan(index, index.allPods()).tiers[0]?.policies[0]?.rules[0]?.selected;
    assert.deepEqual(selected(), ["10.244.0.1/32"]);
    index.deleteGlobalNetworkPolicy("to-web");
    index.upsertPod(pod("b", "10.244.0.2", "web"));
    index.upsertGlobalNetworkPolicy(gnps[0]!);
    assert.deepEqual(selected(), ["10.244.0.1/32", "10.244.0.2/32"]);
  });
});
