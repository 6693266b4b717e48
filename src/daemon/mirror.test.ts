import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLES } from "../api/examples.js";
import type { Resource } from "../api/meta.js";
import { MemoryStore } from "../datastore/memory.js";
import { describeObject, malformed } from "./input-check.js";
import { ResourceMirror } from "./mirror.js";
import { settle } from "./testing/fake-clock.js";
import { egressGateway, ipPool, node, pod } from "./testing/objects.js";

describe("malformed", () => {
  it("accepts well-formed objects of every kind the daemons read", () => {
    assert.equal(malformed("Node", node("n1", "172.30.0.1", "10.244.1.0/24")), undefined);
    assert.equal(malformed("IPPool", ipPool("p", "10.244.0.0/16")), undefined);
    assert.equal(malformed("Pod", pod({ namespace: "a", name: "b", node: "n1", ip: "10.0.0.1" })), undefined);
    for (const [name, obj] of Object.entries(EXAMPLES))
      assert.equal(malformed(obj.kind, obj), undefined, `example ${name}`);
  });

  it("accepts fields other writers add that the schema does not declare, in metadata, spec and status", () => {
    const p = pod({ namespace: "a", name: "b", node: "n1", ip: "10.0.0.1" });
    const kubelet = {
      ...p,
      metadata: {
        ...p.metadata,
        generation: 3,
        ownerReferences: [{ kind: "ReplicaSet" }],
        deletionTimestamp: "x",
      },
      spec: { ...(p.spec as object), restartPolicy: "Always" },
      status: {
        ...(p.status as object),
        podIPs: [{ ip: "10.0.0.1" }],
        conditions: [{ type: "PodScheduled", status: "True", lastProbeTime: null, observedGeneration: 3 }],
        containerStatuses: [],
      },
    } as unknown as Resource;
    assert.equal(malformed("Pod", kubelet), undefined);
    const n = node("n1", "172.30.0.1");
    const real = {
      ...n,
      status: { ...(n.status as object), capacity: { cpu: "4" }, nodeInfo: {} },
    } as Resource;
    assert.equal(malformed("Node", real), undefined);
    const gw = egressGateway("egress", "gw");
    const withStatus = {
      ...gw,
      status: {
        replicas: [{ name: "gw-0", node: "n1", egressIP: "10.10.0.1", ready: true, since: "now" }],
        conditions: [{ type: "Ready", status: "True", reason: "AllReplicasReady", lastTransitionTime: "t" }],
        observedGeneration: 2,
      },
    } as unknown as Resource;
    assert.equal(malformed("EgressGateway", withStatus), undefined);
  });

  it("names the object, the field path and what is expected", () => {
    const p = pod({ namespace: "a", name: "b", node: "n1", ip: "10.0.0.1" });
    (p.status as Record<string, unknown>).podIP = 17;
    assert.equal(malformed("Pod", p), "Pod a/b: status.podIP: 17 is not valid: expected a string");
    assert.match(
      malformed("Node", { apiVersion: "v1", kind: "Node", metadata: {} }) ?? "",
      /^Node \(no name\): metadata\.name: is required: expected a string$/,
    );
    assert.equal(malformed("Pod", null), "Pod: not an object");
    assert.match(
      malformed("EgressGatewayPolicy", {
        apiVersion: "egw.dev/v1",
        kind: "EgressGatewayPolicy",
        metadata: { name: "p" },
        spec: { rules: [{ gateway: { selector: "all()", namespaceSelector: "all()", maxNextHops: "2" } }] },
      }) ?? "",
      /^EgressGatewayPolicy p: spec\.rules\[0\]\.gateway\.maxNextHops: "2" is not valid: expected an integer/,
    );
    const labels = pod({ namespace: "a", name: "c", node: "n1", ip: "10.0.0.2" });
    (labels.metadata as unknown as Record<string, unknown>).labels = "x";
    assert.match(
      malformed("Pod", labels) ?? "",
      /^Pod a\/c: metadata\.labels: "x" is not valid: expected a map/,
    );
    assert.match(
      malformed("Widget", { metadata: { name: "w" } }) ?? "",
      /Widget w: Widget is not a kind egw knows/,
    );
    assert.equal(describeObject("Pod", { metadata: { name: "x", namespace: "y" } }), "Pod y/x");
  });

  it("never throws, whatever is stored", () => {
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 20_000; i++) deep = (deep.x = {}) as Record<string, unknown>;
    for (const v of [undefined, 1, "x", [], { metadata: 7 }])
      assert.equal(typeof malformed("Node", v), "string");
    assert.equal(malformed("Node", { ...node("n", "1.2.3.4"), spec: top }), undefined, "x is not declared");
    assert.equal(typeof malformed("Node", { ...node("n", "1.2.3.4"), spec: { podCIDRs: top } }), "string");
  });
});

describe("ResourceMirror", () => {
  it("lists, follows the watch, and applies a RESYNC by difference", async () => {
    const server = new MemoryStore({ historyLimit: 1000 });
    const writer = server.client();
    const reader = server.client();
    for (const o of [node("a", "172.30.0.1"), node("b", "172.30.0.2")])
      assert.ok((await writer.create(o)).ok);
    const seen = new Map<string, Resource>();
    const log: string[] = [];
    const mirror = new ResourceMirror(reader, [{ kind: "Node" }], {
      upsert: (_k, o) => void seen.set(o.metadata.name, o),
      remove: (_k, o) => {
        seen.delete(o.metadata.name);
        log.push(`remove ${o.metadata.name}`);
      },
      changed: () => log.push("changed"),
      skipped: (_k, p) => log.push(`skipped ${p}`),
      resynced: (k) => log.push(`resync ${k}`),
    });
    assert.ok((await mirror.start()).ok);
    assert.deepEqual([...seen.keys()].sort(), ["a", "b"]);

    assert.ok((await writer.create(node("c", "172.30.0.3"))).ok);
    await settle();
    assert.ok(seen.has("c"));

    // Miss events while disconnected, with the history compacted: the watch must RESYNC.
    reader.disconnect();
    assert.ok((await writer.delete({ kind: "Node", name: "a" })).ok);
    assert.ok((await writer.create(node("d", "172.30.0.4"))).ok);
    assert.ok(
      (
        await writer.create({
          apiVersion: "v1",
          kind: "Node",
          metadata: { name: "e", labels: "x" },
        } as unknown as Resource)
      ).ok,
    );
    server.compact();
    reader.reconnect();
    await settle(10);
    assert.ok(log.includes("resync Node"), log.join("; "));
    assert.deepEqual([...seen.keys()].sort(), ["b", "c", "d"]);
    assert.ok(log.some((l) => l.startsWith("skipped Node e: metadata.labels")));
    await mirror.stop();
  });

  it("fails start() with the kind that could not be listed", async () => {
    const client = new MemoryStore().client();
    client.disconnect();
    const mirror = new ResourceMirror(client, [{ kind: "Pod" }], {
      upsert: () => undefined,
      remove: () => undefined,
      changed: () => undefined,
      skipped: () => undefined,
    });
    const r = await mirror.start();
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /cannot list Pod/);
  });
});
