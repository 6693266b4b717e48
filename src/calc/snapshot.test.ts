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
import type { EgressGatewayPolicyInput, NamespaceInput, NodeInput, PodInput } from "./inputs.js";
import { podKeyOf } from "./inputs.js";
import { computeNodePlan } from "./node-plan.js";
import { ClusterIndex } from "./snapshot.js";
import { seededRandom } from "../util/random.js";

const NODES = ["n1", "n2", "n3"];
const NAMESPACES = ["egress", "a", "b", "c"];
const GATEWAYS = ["red", "blue"];

/** Random changes over a small universe, applied both to a model and to one long-lived index. */
function randomWorld(seed: number) {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const nodes = new Map<string, NodeInput>();
  const namespaces = new Map<string, NamespaceInput>();
  const pods = new Map<string, PodInput>();
  const policies = new Map<string, EgressGatewayPolicyInput>();
  const health = new Map<string, boolean>();
  const index = new ClusterIndex();
  index.upsertIPPool(makeWorkloadPool("pods", "10.244.0.0/16"));

  const annotations = (): Record<string, string> | undefined =>
    pick([
      undefined,
      selectorAnnotations(`egw.dev/gateway == '${pick(GATEWAYS)}'`),
      selectorAnnotations(`egw.dev/gateway == '${pick(GATEWAYS)}'`, {
        namespaceSelector: "all()",
        maxNextHops: pick([0, 1, 2]),
      }),
      selectorAnnotations(`egw.dev/gateway == '${pick(GATEWAYS)}'`, { namespaceSelector: "all()" }),
      selectorAnnotations("bad == "),
      policyAnnotations(pick(["p1", "p2", "p3"])),
    ]);

  const steps: (() => void)[] = [
    () => {
      const name = pick(NODES);
      const node = makeNode(name, `172.30.0.${1 + Math.floor(rand() * 3)}`);
      nodes.set(name, node);
      index.upsertNode(node);
    },
    () => {
      if (rand() > 0.3) return; // rare: a deleted node takes its replicas out of service
      const name = pick(NODES);
      nodes.delete(name);
      index.deleteNode(name);
    },
    () => {
      const name = pick(NAMESPACES);
      const a = annotations();
      const ns = makeNamespace(name, {
        labels: { tier: pick(["x", "y"]) },
        ...(a ? { annotations: a } : {}),
      });
      namespaces.set(name, ns);
      index.upsertNamespace(ns);
    },
    () => {
      const name = pick(NAMESPACES);
      namespaces.delete(name);
      index.deleteNamespace(name);
    },
    () => {
      const ns = pick(NAMESPACES);
      const gw = pick(GATEWAYS);
      const p = makeGatewayPod(ns, `${gw}-${Math.floor(rand() * 3)}`, {
        node: pick(NODES),
        ip: `10.128.0.${1 + Math.floor(rand() * 200)}`,
        egressIP: `10.10.0.${1 + Math.floor(rand() * 200)}`,
        gateway: gw,
        phase: rand() < 0.1 ? "Pending" : "Running",
        terminating: rand() < 0.1,
      });
      pods.set(podKeyOf(p), p);
      index.upsertPod(p);
    },
    ...[1, 2, 3].map(() => () => {
      const a = annotations();
      const p = makeWorkload(pick(NAMESPACES), `w${Math.floor(rand() * 12)}`, {
        node: pick(NODES),
        ip: `10.244.0.${1 + Math.floor(rand() * 200)}`,
        ...(a ? { annotations: a } : {}),
      });
      pods.set(podKeyOf(p), p);
      index.upsertPod(p);
    }),
    ...[1, 2].map(() => () => {
      const keys = [...pods.keys()];
      if (keys.length === 0) return;
      const key = pick(keys);
      const [ns, name] = key.split("/") as [string, string];
      pods.delete(key);
      index.deletePod(ns, name);
    }),
    () => {
      const name = pick(["p1", "p2", "p3"]);
      const p = makePolicy(name, [
        { destination: { cidr: "198.18.0.0/16" } },
        {
          gateway: {
            selector: `egw.dev/gateway == '${pick(GATEWAYS)}'`,
            namespaceSelector: pick(["all()", "tier == 'x'"]),
          },
        },
      ]);
      policies.set(name, p);
      index.upsertPolicy(p);
    },
    () => {
      const name = pick(["p1", "p2", "p3"]);
      policies.delete(name);
      index.deletePolicy(name);
    },
    ...[1, 2].map(() => () => {
      const keys = [...pods.keys()].filter((k) => k.includes("red") || k.includes("blue"));
      if (keys.length === 0) return;
      const key = pick(keys);
      const value = pick([true, false, undefined]);
      if (value === undefined) health.delete(key);
      else health.set(key, value);
      index.setGatewayHealth(key, value);
    }),
  ];
  // Start from a populated cluster so most changes land where gateways are usable.
  for (const name of NODES) {
    const node = makeNode(name, `172.30.0.${NODES.indexOf(name) + 1}`);
    nodes.set(name, node);
    index.upsertNode(node);
  }
  for (const name of NAMESPACES) {
    const ns = makeNamespace(name, { labels: { tier: "x" } });
    namespaces.set(name, ns);
    index.upsertNamespace(ns);
  }

  return {
    step: () => pick(steps)(),
    index,
    rebuild: () =>
      ClusterIndex.fromSnapshot({
        nodes: [...nodes.values()],
        namespaces: [...namespaces.values()],
        pods: [...pods.values()],
        egressGatewayPolicies: [...policies.values()],
        ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
        gatewayHealth: health,
      }),
  };
}

describe("ClusterIndex incremental updates", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`gives the same indexes and plans as a full rebuild (seed ${seed}, 300 random changes)`, () => {
      const world = randomWorld(seed);
      let compared = 0;
      for (let i = 0; i < 300; i++) {
        world.step();
        // Compute on the long-lived index at every step so its caches are exercised.
        const incremental = NODES.map((node) => computeNodePlan(world.index, node));
        if (i % 10 !== 9) continue;
        const full = world.rebuild();
        assert.deepEqual(world.index.debugState(), full.debugState(), `indexes differ after step ${i}`);
        assert.deepEqual(
          incremental,
          NODES.map((node) => computeNodePlan(full, node)),
          `plans differ after step ${i}`,
        );
        compared++;
      }
      assert.equal(compared, 30);
    });
  }

  it("keeps derived results across Node writes calc cannot see, and drops them when labels or addresses change", () => {
    const index = new ClusterIndex();
    const node = (
      labels: Record<string, string>,
      ip: string,
      extra: Record<string, unknown> = {},
    ): NodeInput =>
      ({
        metadata: { name: "n1", labels },
        status: { addresses: [{ type: "InternalIP", address: ip }], ...extra },
      }) as NodeInput;
    let computed = 0;
    const probe = (): number => index.memo("test-probe", () => ++computed);
    index.upsertNode(node({ zone: "a" }, "172.30.0.11"));
    probe();
    // An agent's status write (liveness, conditions) with the same labels and addresses.
    index.upsertNode(
      node({ zone: "a" }, "172.30.0.11", { gatewayLiveness: [{ replica: "g/x", state: "Up" }] }),
    );
    probe();
    assert.equal(computed, 1);
    index.upsertNode(node({ zone: "b" }, "172.30.0.11"));
    probe();
    assert.equal(computed, 2);
    index.upsertNode(node({ zone: "b" }, "172.30.0.12"));
    probe();
    assert.equal(computed, 3);
  });

  it("indexes pods by node and moves them when they are rescheduled", () => {
    const index = new ClusterIndex();
    const p = makeWorkload("a", "w", { node: "n1", ip: "10.244.0.1" });
    index.upsertPod(p);
    assert.deepEqual([...index.podsOnNode("n1")], [p]);
    const moved = makeWorkload("a", "w", { node: "n2", ip: "10.244.0.1" });
    index.upsertPod(moved);
    assert.deepEqual([...index.podsOnNode("n1")], []);
    assert.deepEqual([...index.podsOnNode("n2")], [moved]);
    index.deletePod("a", "w");
    assert.deepEqual(index.counts().pods, 0);
  });

  it("adds kubernetes.io/metadata.name to namespace labels when missing", () => {
    const index = new ClusterIndex();
    index.upsertNamespace({ metadata: { name: "x", labels: { team: "t" } } });
    assert.deepEqual(index.namespaceLabels("x"), { team: "t", "kubernetes.io/metadata.name": "x" });
    assert.deepEqual(index.namespaceLabels("unknown"), { "kubernetes.io/metadata.name": "unknown" });
  });
});
