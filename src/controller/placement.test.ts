import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateResource } from "../api/validate.js";
import type { EgressGateway } from "../api/schemas/egress.js";
import { leastLoaded, nodeLoad, placement } from "./placement.js";
import type { NodeView, ReplicaView } from "./views.js";

const ZONE = "topology.kubernetes.io/zone";

const gateway = (name = "gw"): EgressGateway => {
  const v = validateResource({
    apiVersion: "egw.dev/v1",
    kind: "EgressGateway",
    metadata: { name, namespace: "egress" },
    spec: { replicas: 1, ipPools: [{ name: "egress" }] },
  });
  if (!v.ok) assert.fail(JSON.stringify(v.error));
  return v.value as EgressGateway;
};

const node = (name: string, zone?: string): NodeView => ({
  name,
  labels: zone === undefined ? {} : { [ZONE]: zone },
});

const onNode = (name: string, n: string): ReplicaView => ({ name, node: n, labels: {}, annotations: {} });

/** Places `count` new replicas one after the other, as gateway-actions does. */
const placeMany = (
  gw: string,
  nodes: readonly NodeView[],
  count: number,
  existing: readonly ReplicaView[] = [],
): string[] => {
  const p = placement(gateway(gw), nodes, count + existing.length);
  const load = nodeLoad(p, existing);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = leastLoaded(`egress/${gw}`, load, p.zoneOf);
    load.set(n, (load.get(n) ?? 0) + 1);
    out.push(n);
  }
  return out;
};

const zonesOf = (nodes: readonly NodeView[], placed: readonly string[]): string[] =>
  placed.map((n) => nodes.find((x) => x.name === n)?.labels[ZONE] ?? "").sort();

describe("placement across zones", () => {
  const fourInTwo = [
    node("node-1", "zone-a"),
    node("node-2", "zone-b"),
    node("node-3", "zone-a"),
    node("node-4", "zone-b"),
  ];

  it("puts two replicas in two zones and four on four nodes", () => {
    for (const gw of ["a", "b", "c", "shared", "payments"]) {
      assert.deepEqual(zonesOf(fourInTwo, placeMany(gw, fourInTwo, 2)), ["zone-a", "zone-b"], gw);
      assert.equal(new Set(placeMany(gw, fourInTwo, 4)).size, 4, gw);
    }
  });

  it("spreads across zones before nodes, even when a zone has more nodes", () => {
    const lopsided = [
      node("node-1", "zone-a"),
      node("node-2", "zone-a"),
      node("node-3", "zone-a"),
      node("node-4", "zone-b"),
    ];
    for (const gw of ["a", "b", "c", "d"]) {
      assert.deepEqual(zonesOf(lopsided, placeMany(gw, lopsided, 2)), ["zone-a", "zone-b"], gw);
      assert.deepEqual(
        zonesOf(lopsided, placeMany(gw, lopsided, 4)),
        ["zone-a", "zone-a", "zone-b", "zone-b"],
        gw,
      );
    }
  });

  it("counts the replicas that already run", () => {
    const existing = [onNode("gw-0", "node-1")];
    assert.deepEqual(zonesOf(fourInTwo, placeMany("gw", fourInTwo, 1, existing)), ["zone-b"]);
    const two = [onNode("gw-0", "node-1"), onNode("gw-1", "node-2")];
    const third = placeMany("gw", fourInTwo, 1, two);
    assert.ok(
      third[0] === "node-3" || third[0] === "node-4",
      `third replica on an empty node, got ${third[0]}`,
    );
  });

  it("decides the same way every time, and single replicas of different gateways use both zones", () => {
    assert.deepEqual(placeMany("x", fourInTwo, 3), placeMany("x", fourInTwo, 3));
    const zones = new Set<string>();
    for (let i = 0; i < 20; i++)
      for (const z of zonesOf(fourInTwo, placeMany(`gw-${i}`, fourInTwo, 1))) zones.add(z);
    assert.deepEqual([...zones].sort(), ["zone-a", "zone-b"]);
  });

  it("without zone labels places exactly as plain least-loaded placement", () => {
    const plain = [node("node-1"), node("node-2"), node("node-3")];
    for (const gw of ["a", "b", "c", "d", "e"]) {
      const p = placement(gateway(gw), plain, 5);
      const withZones = new Map(nodeLoad(p, []));
      const without = new Map(nodeLoad(p, []));
      for (let i = 0; i < 5; i++) {
        const a = leastLoaded(`egress/${gw}`, withZones, p.zoneOf);
        const b = leastLoaded(`egress/${gw}`, without);
        assert.equal(a, b, `${gw}, replica ${i}`);
        withZones.set(a, (withZones.get(a) ?? 0) + 1);
        without.set(b, (without.get(b) ?? 0) + 1);
      }
    }
  });

  it("treats unlabelled nodes as one zone of their own", () => {
    const mixed = [node("node-1", "zone-a"), node("node-2", "zone-a"), node("node-3"), node("node-4")];
    for (const gw of ["a", "b", "c"]) {
      assert.deepEqual(zonesOf(mixed, placeMany(gw, mixed, 2)), ["", "zone-a"], gw);
    }
  });

  it("only uses eligible nodes' zones", () => {
    const p = placement(gateway(), [node("node-1", "zone-a"), node("node-2", "zone-b")], 1);
    assert.deepEqual(
      [...p.zoneOf],
      [
        ["node-1", "zone-a"],
        ["node-2", "zone-b"],
      ],
    );
  });
});
