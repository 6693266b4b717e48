// The agent's egress access policy wiring (Tier, NetworkPolicy, GlobalNetworkPolicy,
// GlobalNetworkSet → ClusterIndex → NodePlan.access) and its health on the Node
// (EgwAgentReady), over the memory datastore, the fake dataplane and a fake clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import type { NodePlan } from "../calc/plan.js";
import { FakeNodeDataplane } from "../dataplane/fake.js";
import type { NodeReconcileReport } from "../dataplane/node-dataplane.js";
import { err, type Result } from "../util/result.js";
import { agentConditionOf } from "./node-status.js";
import { must, startAgentOn } from "./testing/harness.js";
import { namespace, node, pod } from "../daemon/testing/objects.js";

const egw = (kind: string, name: string, spec: unknown, ns?: string, labels?: Record<string, string>) =>
  ({
    apiVersion: "egw.dev/v1",
    kind,
    metadata: { name, ...(ns ? { namespace: ns } : {}), ...(labels ? { labels } : {}) },
    spec,
  }) as Resource;

/** The access plan last applied (a function: assertions must not narrow it for later reads). */
const accessOf = (d: FakeNodeDataplane) => d.last?.access;

/** Fails every reconcile whose plan has egress policy while `broken` (an nft load that fails). */
class PolicyFailingDataplane extends FakeNodeDataplane {
  broken = false;
  override async reconcile(plan: NodePlan): Promise<Result<NodeReconcileReport, string>> {
    if (this.broken && (plan.access?.tiers.length ?? 0) > 0)
      return err("nft -f: Error: Could not process rule: Message too long");
    return super.reconcile(plan);
  }
}

async function setup() {
  const started = await startAgentOn(
    [
      node("node1", "172.30.0.1", "10.244.1.0/24"),
      namespace("shop"),
      namespace("backend"),
      pod({ namespace: "shop", name: "web", node: "node1", ip: "10.244.1.10", hostInterface: "ewweb" }),
      pod({
        namespace: "backend",
        name: "db-1",
        node: "node2",
        ip: "10.244.2.20",
        hostInterface: "ewdb1",
        labels: { role: "db" },
      }),
    ],
    new PolicyFailingDataplane(),
    { poll: { intervalMs: 0 } },
  );
  const { store, clock } = started;
  const settle = () => clock.advance(100);
  const condition = async () => {
    const n = await store.get({ kind: "Node", name: "node1" });
    assert.ok(n.ok);
    return agentConditionOf(n.value);
  };
  return { ...started, settle, condition };
}

const SHOP_DEFAULT_DENY = egw("GlobalNetworkPolicy", "shop-egress", {
  namespaceSelector: "kubernetes.io/metadata.name == 'shop'",
  selector: "all()",
  egress: [{ action: "Allow", protocol: "TCP", destination: { nets: ["198.18.10.10/32"], ports: [80] } }],
});

describe("Agent: egress access policy", () => {
  it("feeds Tier, NetworkPolicy, GlobalNetworkPolicy and GlobalNetworkSet into the node's plan, and follows updates and deletes", async () => {
    const { store, dataplane, agent, settle } = await setup();
    assert.equal(accessOf(dataplane), undefined, "no policy yet: no access plan");

    await must(store, SHOP_DEFAULT_DENY);
    await settle();
    let access = accessOf(dataplane);
    assert.deepEqual(
      access?.tiers.map((t) => [t.name, t.policies.map((p) => [p.key, p.appliesTo.map((w) => w.key)])]),
      [["default", [["gnp:shop-egress", ["shop/web"]]]]],
    );
    assert.deepEqual(access?.tiers[0]?.policies[0]?.rules[0]?.nets, ["198.18.10.10/32"]);

    // A tier ordered before default, a namespaced policy in it, a destination selector that picks
    // pods of another namespace and a GlobalNetworkSet.
    await must(store, egw("Tier", "security", { order: 100 }));
    await must(
      store,
      egw("GlobalNetworkSet", "partners", { nets: ["203.0.113.0/24"] }, undefined, { partner: "yes" }),
    );
    await must(
      store,
      egw(
        "NetworkPolicy",
        "to-db",
        {
          tier: "security",
          selector: "all()",
          egress: [
            { action: "Allow", destination: { selector: "role == 'db'", namespaceSelector: "all()" } },
            { action: "Allow", destination: { selector: "partner == 'yes'", namespaceSelector: "global()" } },
            { action: "Pass" },
          ],
        },
        "shop",
      ),
    );
    await settle();
    access = accessOf(dataplane);
    assert.deepEqual(
      access?.tiers.map((t) => t.name),
      ["security", "default"],
    );
    const toDb = access?.tiers[0]?.policies[0];
    assert.equal(toDb?.key, "np:shop/to-db");
    assert.deepEqual(toDb?.rules[0]?.selected, ["10.244.2.20/32"]);
    assert.deepEqual(toDb?.rules[1]?.selected, ["203.0.113.0/24"]);

    // Pods come and go: the selected IPs follow without touching the policy; sets too.
    await must(
      store,
      pod({
        namespace: "backend",
        name: "db-2",
        node: "node2",
        ip: "10.244.2.21",
        hostInterface: "ewdb2",
        labels: { role: "db" },
      }),
    );
    const set = await store.get({ kind: "GlobalNetworkSet", name: "partners" });
    assert.ok(set.ok);
    assert.ok((await store.update({ ...set.value, spec: { nets: ["198.51.100.0/24"] } })).ok);
    await settle();
    assert.deepEqual(accessOf(dataplane)?.tiers[0]?.policies[0]?.rules[0]?.selected, [
      "10.244.2.20/32",
      "10.244.2.21/32",
    ]);
    assert.deepEqual(accessOf(dataplane)?.tiers[0]?.policies[0]?.rules[1]?.selected, ["198.51.100.0/24"]);
    assert.ok((await store.delete({ kind: "Pod", namespace: "backend", name: "db-1" })).ok);
    await settle();
    assert.deepEqual(accessOf(dataplane)?.tiers[0]?.policies[0]?.rules[0]?.selected, ["10.244.2.21/32"]);

    // Reordering the tier moves it after default.
    const tier = await store.get({ kind: "Tier", name: "security" });
    assert.ok(tier.ok);
    assert.ok((await store.update({ ...tier.value, spec: { order: 2_000_000 } })).ok);
    await settle();
    assert.deepEqual(
      accessOf(dataplane)?.tiers.map((t) => t.name),
      ["default", "security"],
    );

    // Deletes: each kind by its own key.
    assert.ok((await store.delete({ kind: "NetworkPolicy", namespace: "shop", name: "to-db" })).ok);
    assert.ok((await store.delete({ kind: "GlobalNetworkSet", name: "partners" })).ok);
    assert.ok((await store.delete({ kind: "Tier", name: "security" })).ok);
    await settle();
    assert.deepEqual(
      accessOf(dataplane)?.tiers.map((t) => t.name),
      ["default"],
    );
    assert.ok((await store.delete({ kind: "GlobalNetworkPolicy", name: "shop-egress" })).ok);
    await settle();
    assert.equal(accessOf(dataplane), undefined, "the last policy is gone");
    await agent.stop();
  });

  it("logs each policy problem once, and skips malformed policy objects without stopping", async () => {
    const { store, clock, dataplane, log, agent, settle } = await setup();
    // Written around `egw apply` (which rejects both): an unknown tier and a broken shape.
    await must(
      store,
      egw("GlobalNetworkPolicy", "orphan", { tier: "missing", egress: [{ action: "Deny" }] }),
    );
    const malformed = egw("GlobalNetworkPolicy", "broken", { egress: "not-a-list" });
    await must(store, malformed);
    await settle();
    await clock.advance(10_000); // a resync recomputes the same plan
    await settle();
    const problems = log.records.filter((r) => r.msg === "egress policy problem");
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(String(problems[0]?.problem), /Tier "missing" does not exist/);
    assert.ok(
      log.records.some(
        (r) =>
          r.msg === "skipping malformed object" &&
          /GlobalNetworkPolicy broken: spec\.egress/.test(String(r.problem)),
      ),
    );
    assert.match(agent.metricsText().body, /egw_agent_policy_problems 1/);
    // The valid policy is enforced (fail closed in the unknown tier), the node keeps working.
    assert.deepEqual(
      accessOf(dataplane)?.tiers.map((t) => t.name),
      ["missing"],
    );
    assert.equal(agent.healthz().status, 200);

    await must(store, egw("Tier", "missing", {}));
    await settle();
    assert.ok(log.records.some((r) => r.msg === "egress policy problems resolved"));
    await agent.stop();
  });
});

describe("Agent: health on the Node (EgwAgentReady)", () => {
  it("says True once programmed; a failing nft load turns it False with the error, the old state stays, and it recovers", async () => {
    const { store, dataplane, log, agent, settle, condition } = await setup();
    const ready = await condition();
    assert.equal(ready?.status, "True");
    assert.equal(ready?.reason, "Programmed");
    const applied = dataplane.applied.length;

    dataplane.broken = true;
    await must(store, SHOP_DEFAULT_DENY);
    await settle();
    const failed = await condition();
    assert.equal(failed?.status, "False");
    assert.equal(failed?.reason, "ReconcileFailed");
    assert.match(failed?.message ?? "", /Message too long; the kernel keeps its previous egress state/);
    assert.equal(dataplane.applied.length, applied, "nothing new was applied");
    assert.equal(agent.healthz().status, 503);
    assert.ok(
      log.records.some((r) => r.level === "error" && /Message too long/.test(String(r.error))),
      "the agent log has the error",
    );
    // The rest of the Node is untouched.
    const n = await store.get({ kind: "Node", name: "node1" });
    assert.ok(n.ok);
    assert.deepEqual((n.value.status as { addresses?: unknown }).addresses, [
      { type: "InternalIP", address: "172.30.0.1" },
    ]);

    dataplane.broken = false;
    await settle();
    await settle(); // the retry timer (500 ms) or the Node event, whichever first
    const back = await eventuallyCondition(condition, "True", settle);
    assert.equal(back.reason, "Programmed");
    assert.ok(accessOf(dataplane) !== undefined, "the policy is programmed now");
    await agent.stop();
  });

  it("does not rewrite an unchanged condition", async () => {
    const { store, clock, agent, settle } = await setup();
    const before = await store.get({ kind: "Node", name: "node1" });
    assert.ok(before.ok);
    await clock.advance(30_000); // three resyncs
    await settle();
    const after = await store.get({ kind: "Node", name: "node1" });
    assert.ok(after.ok);
    assert.equal(after.value.metadata.resourceVersion, before.value.metadata.resourceVersion);
    await agent.stop();
  });
});

async function eventuallyCondition(
  read: () => Promise<ReturnType<typeof agentConditionOf>>,
  status: string,
  step: () => Promise<void>,
) {
  for (let i = 0; i < 50; i++) {
    const c = await read();
    if (c?.status === status) return c;
    await step();
  }
  assert.fail(`EgwAgentReady never became ${status}`);
}
