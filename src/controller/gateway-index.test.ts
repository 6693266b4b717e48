import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_OWNER } from "../api/well-known.js";
import { GARBAGE_KEY, GatewayIndex } from "./gateway-index.js";

const gw = (namespace: string, name: string): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { namespace, name },
});
const replica = (namespace: string, name: string, owner: string): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace, name, annotations: { [ANN_GATEWAY_OWNER]: owner } },
});
const allocation = (gateway: string): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPAllocation",
  metadata: { name: "10-10-1-1" },
  spec: { ip: "10.10.1.1", pool: "egress", owner: { namespace: "a", gateway, replica: `${gateway}-0` } },
});

describe("GatewayIndex", () => {
  it("queues the gateways an event touches", () => {
    const index = new GatewayIndex();
    assert.deepEqual(index.replace([gw("a", "one"), gw("a", "two")]), ["a/one", "a/two"]);
    assert.deepEqual(
      index.onEvent("EgressGateway", { type: "ADDED", object: gw("b", "three"), revision: "2" }),
      ["b/three"],
    );
    assert.deepEqual(
      index.onEvent("Pod", { type: "MODIFIED", object: replica("a", "one-0", "a/one"), revision: "3" }),
      ["a/one"],
    );
    // A pod claiming a gateway of another namespace is not that gateway's replica.
    assert.deepEqual(
      index.onEvent("Pod", { type: "ADDED", object: replica("x", "p", "a/one"), revision: "4" }),
      [],
    );
    assert.deepEqual(
      index.onEvent("IPAllocation", { type: "ADDED", object: allocation("two"), revision: "5" }),
      ["a/two"],
    );
    // A freed address or a changed node may let any gateway grow or move.
    assert.deepEqual(
      index.onEvent("IPAllocation", { type: "DELETED", object: allocation("two"), revision: "6" }),
      ["a/one", "a/two", "b/three"],
    );
    assert.deepEqual(
      index.onEvent("Node", { type: "MODIFIED", object: gw("", "n"), revision: "7" }).length,
      3,
    );
    assert.deepEqual(
      index.onEvent("EgressGateway", { type: "DELETED", object: gw("b", "three"), revision: "8" }),
      ["b/three"],
    );
    assert.equal(index.size, 2);
  });

  it("a RESYNC replaces the gateways, queues the vanished ones too, and a garbage sweep", () => {
    const index = new GatewayIndex();
    index.replace([gw("a", "one"), gw("a", "gone")]);
    assert.deepEqual(
      index.onEvent("EgressGateway", {
        type: "RESYNC",
        items: [gw("a", "one"), gw("a", "new")],
        revision: "9",
      }),
      ["a/one", "a/gone", "a/new", GARBAGE_KEY],
    );
    assert.deepEqual(index.all(), ["a/one", "a/new"]);
    assert.deepEqual(index.onEvent("Pod", { type: "RESYNC", items: [], revision: "10" }), [
      "a/one",
      "a/new",
      GARBAGE_KEY,
    ]);
  });
});
