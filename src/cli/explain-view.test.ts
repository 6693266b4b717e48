import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import type { Resource } from "../api/meta.js";
import { allow, globalNetworkPolicy } from "../calc/access/testing.js";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makeWorkload,
  makeWorkloadPool,
  selectorAnnotations,
} from "../calc/fixtures.js";
import { ClusterIndex, type Snapshot } from "../calc/snapshot.js";
import { MemoryStore } from "../datastore/memory.js";
import { ok } from "../util/result.js";
import { register } from "./commands/explain.js";
import { createContext, type CliIO } from "./context.js";
import { explainConnection, formatConnectionExplanation, parseTarget } from "./explain-view.js";

const snapshot = (): Snapshot => ({
  nodes: [makeNode("n1", "172.30.0.1")],
  namespaces: [makeNamespace("shop"), makeNamespace("egress")],
  pods: [
    makeWorkload("shop", "web", {
      node: "n1",
      ip: "10.244.1.2",
      annotations: selectorAnnotations("egw.dev/gateway == 'red'", { namespaceSelector: "all()" }),
    }),
    makeGatewayPod("egress", "red-0", {
      node: "n1",
      ip: "10.244.9.1",
      egressIP: "10.10.0.1",
      gateway: "red",
    }),
  ],
  egressGatewayPolicies: [],
  ipPools: [makeWorkloadPool("pods", "10.244.0.0/16")],
  gatewayHealth: new Map(),
  globalNetworkPolicies: [
    globalNetworkPolicy("shop-egress", {
      namespaceSelector: "kubernetes.io/metadata.name == 'shop'",
      egress: [allow({ nets: ["198.18.0.10/32"], ports: [80] }, "TCP")],
    }),
  ],
});

describe("egw explain", () => {
  it("parses --to targets and rejects bad ones with examples", () => {
    assert.deepEqual(parseTarget("198.18.0.10:80"), ok({ ip: "198.18.0.10", port: 80, protocol: "tcp" }));
    assert.deepEqual(parseTarget("198.18.0.10:53/UDP"), ok({ ip: "198.18.0.10", port: 53, protocol: "udp" }));
    assert.deepEqual(parseTarget("198.18.0.10/icmp"), ok({ ip: "198.18.0.10", protocol: "icmp" }));
    for (const bad of ["198.18.0.10", "198.18.0.10:0", "x:80", "198.18.0.10:80/gre", "198.18.0.10:1/icmp"]) {
      const r = parseTarget(bad);
      assert.equal(r.ok, false, bad);
      assert.match(r.ok ? "" : r.error, /e\.g\. 198\.18\.0\.10:443\/tcp/);
    }
  });

  it("names the deciding rule and the gateway and egress IP of an allowed connection", () => {
    const x = explainConnection(ClusterIndex.fromSnapshot(snapshot()), "shop", "web", {
      ip: "198.18.0.10",
      port: 80,
      protocol: "tcp",
    });
    assert.ok(x.ok);
    const text = formatConnectionExplanation(x.value).join("\n");
    assert.match(text, /Verdict: {2}ALLOW/);
    assert.match(
      text,
      /Decided: {2}tier "default", GlobalNetworkPolicy shop-egress, egress rule 0 \(Allow\)/,
    );
    assert.match(text, /egress\/red-0 on n1: egress IP 10\.10\.0\.1/);
  });

  it("names the tier default for a denied connection, which never reaches a gateway", () => {
    const x = explainConnection(ClusterIndex.fromSnapshot(snapshot()), "shop", "web", {
      ip: "198.18.0.10",
      port: 81,
      protocol: "tcp",
    });
    assert.ok(x.ok);
    const text = formatConnectionExplanation(x.value).join("\n");
    assert.match(text, /Verdict: {2}DENY/);
    assert.match(text, /tier "default".*default action \(Deny\)/);
    assert.match(text, /Egress: {3}none: the connection is denied/);
  });

  it("runs as a command against the datastore", async () => {
    const store = new MemoryStore();
    const client = store.client();
    const s = snapshot();
    const kinds: [string, string, readonly unknown[]][] = [
      ["v1", "Node", s.nodes],
      ["v1", "Namespace", s.namespaces],
      ["v1", "Pod", s.pods],
      ["egw.dev/v1", "IPPool", s.ipPools],
      ["egw.dev/v1", "GlobalNetworkPolicy", s.globalNetworkPolicies ?? []],
    ];
    for (const [apiVersion, kind, objs] of kinds)
      for (const o of objs) {
        const created = await client.create({ apiVersion, kind, ...(o as object) } as Resource);
        assert.ok(created.ok, JSON.stringify(created));
      }
    let stdout = "";
    const io: CliIO = {
      stdout: (t) => void (stdout += t),
      stderr: () => undefined,
      readStdin: () => Promise.resolve(""),
      env: { EGW_CONFIG: "/nonexistent/egw-config.yaml" },
      now: () => new Date(),
    };
    const program = new Command("egw").exitOverride().option("--datastore <d>");
    const ctx = createContext(program, io, () => Promise.resolve(ok(client)));
    register(program, ctx);
    await program.parseAsync(["explain", "-n", "shop", "web", "--to", "198.18.0.10:80/tcp"], {
      from: "user",
    });
    await ctx.close();
    assert.match(stdout, /Verdict: {2}ALLOW/);
  });
});
