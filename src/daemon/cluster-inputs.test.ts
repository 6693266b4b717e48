// Datastore objects → ClusterIndex in one place: malformed objects are skipped and reported, and
// an index fed one watch event at a time (the agent) equals one loaded in one go (the CLI).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { computeNodePlan } from "../calc/node-plan.js";
import { ClusterIndex } from "../calc/snapshot.js";
import { MemoryStore } from "../datastore/memory.js";
import {
  CALC_KINDS,
  clusterInputsOf,
  isCalcKind,
  readClusterInputs,
  removeInput,
  upsertInput,
} from "./cluster-inputs.js";
import { ResourceMirror } from "./mirror.js";
import { settle } from "./testing/fake-clock.js";
import { clientPod, gatewayPod, ipPool, namespace, node, pod } from "./testing/objects.js";

const gnp = (name: string): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "GlobalNetworkPolicy",
  metadata: { name },
  spec: {
    selector: "all()",
    types: ["Egress"],
    egress: [{ action: "Allow", destination: { nets: ["198.18.0.0/16"] } }],
  },
});

const cluster = (): Resource[] => [
  node("node1", "172.30.0.1", "10.244.1.0/24"),
  node("gwnode", "172.30.0.2", "10.244.2.0/24"),
  namespace("default"),
  namespace("egress"),
  ipPool("pods", "10.244.0.0/16"),
  gatewayPod({
    namespace: "egress",
    name: "gw-a",
    node: "gwnode",
    ip: "10.244.2.10",
    gateway: "gw",
    egressIP: "10.10.0.1",
  }),
  clientPod({
    namespace: "default",
    name: "client",
    node: "node1",
    ip: "10.244.1.10",
    hostInterface: "ewclient",
    gateway: "gw",
    gatewayNamespace: "egress",
  }),
  gnp("allow-test-net"),
];

const broken = (): Resource => {
  const p = pod({
    namespace: "default",
    name: "broken",
    node: "node1",
    ip: "10.244.1.11",
    hostInterface: "ewbroken",
  });
  (p.status as Record<string, unknown>).podIP = 11;
  return p;
};

const byKind = (objects: readonly Resource[]): Record<string, Resource[]> => {
  const out: Record<string, Resource[]> = {};
  for (const o of objects) (out[o.kind] ??= []).push(o);
  return out;
};

describe("cluster inputs", () => {
  it("reads the kinds calc needs, in dependency order", () => {
    assert.deepEqual(CALC_KINDS.slice(0, 5), ["Node", "Namespace", "IPPool", "EgressGatewayPolicy", "Pod"]);
    assert.ok(isCalcKind("GlobalNetworkSet") && !isCalcKind("EgressGateway") && !isCalcKind("toString"));
  });

  it("puts well-formed objects into the index and reports malformed ones with kind, name and field", () => {
    const inputs = clusterInputsOf(byKind([...cluster(), broken()]));
    assert.deepEqual(inputs.skipped, [
      "Pod default/broken: status.podIP: 11 is not valid: expected a string",
    ]);
    assert.equal(inputs.objects.Pod.length, 2);
    assert.equal(inputs.index.pod("default", "broken"), undefined);
    const plan = computeNodePlan(inputs.index, "node1");
    assert.deepEqual(
      plan.workloads.map((w) => w.name),
      ["client"],
    );
    assert.equal(plan.access?.tiers.length, 1, "access policy came through the same path");
  });

  it("removes what it upserted", () => {
    const index = new ClusterIndex();
    for (const o of cluster()) if (isCalcKind(o.kind)) upsertInput(index, o.kind, o);
    for (const o of cluster()) if (isCalcKind(o.kind)) removeInput(index, o.kind, o);
    assert.deepEqual(index.counts(), new ClusterIndex().counts());
  });

  it("gives a watch-fed index (the agent) and a listed one (egw explain, describe) the same plan", async () => {
    const server = new MemoryStore({ historyLimit: 1000 });
    const writer = server.client();
    for (const o of [...cluster().slice(0, 5), broken()]) assert.ok((await writer.create(o)).ok);
    const watched = new ClusterIndex();
    const skipped: string[] = [];
    const mirror = new ResourceMirror(
      server.client(),
      CALC_KINDS.map((kind) => ({ kind })),
      {
        upsert: (kind, o) => (isCalcKind(kind) ? upsertInput(watched, kind, o) : undefined),
        remove: (kind, o) => (isCalcKind(kind) ? removeInput(watched, kind, o) : undefined),
        changed: () => undefined,
        skipped: (_kind, p) => void skipped.push(p),
      },
    );
    assert.ok((await mirror.start()).ok);
    for (const o of cluster().slice(5)) assert.ok((await writer.create(o)).ok);
    await settle(5);
    const listed = await readClusterInputs(server.client());
    assert.ok(listed.ok);
    assert.deepEqual(skipped, listed.value.skipped);
    assert.deepEqual(computeNodePlan(watched, "node1"), computeNodePlan(listed.value.index, "node1"));
    await mirror.stop();
  });
});
