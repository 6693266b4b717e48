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
import type { GatewayChoiceExplanation } from "../calc/explain.js";
import { ClusterIndex, type Snapshot } from "../calc/snapshot.js";
import { MemoryStore } from "../datastore/memory.js";
import { ok } from "../util/result.js";
import { register } from "./commands/explain.js";
import { createContext, type CliIO } from "./context.js";
import {
  describeGatewayChoice,
  explainConnection,
  formatConnectionExplanation,
  formatWorkloadExplanation,
  parseTarget,
} from "./explain-view.js";

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
    // The gateway set in words: selectors and settings, never calc's internal key.
    assert.deepEqual(x.value.egress.slice(0, 6), [
      "via gateways",
      `source: pod annotation egress.egw.dev/selector "egw.dev/gateway == 'red'", namespaceSelector "all()"`,
      "0.0.0.0/0: 1 gateway(s), one per connection",
      `  selector: egw.dev/gateway == "red"`,
      "  namespace selector: all()",
      "  maxNextHops 0 (no limit), gatewayPreference None: all 1 candidate used",
    ]);
    assert.doesNotMatch(text, /sel=|pick=|max=|gw\(/);
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

  it("formats describe pod's egress lines with the gateway choice in words", () => {
    const lines = formatWorkloadExplanation({
      kind: "gateways",
      source: `EgressGatewayPolicy "split" (pod annotation egress.egw.dev/egressGatewayPolicy)`,
      destinations: [
        {
          destination: "198.18.20.0/24",
          action: "gateways",
          choice: {
            selector: 'egw.dev/gateway == "a"',
            namespaceSelector: "all()",
            maxNextHops: 2,
            preference: "PreferNodeLocal",
            candidates: 3,
            preferred: false,
            picked: ["egress/a-0", "egress/a-2"],
            fallback: false,
          },
          gateways: [
            {
              replica: "egress/a-0",
              node: "n2",
              zone: "zone-b",
              podIP: "10.128.0.2",
              egressIP: "10.10.2.1",
              health: "ready",
            },
            {
              replica: "egress/a-2",
              node: "n3",
              podIP: "10.128.0.4",
              egressIP: "10.10.2.3",
              health: "not polled yet",
            },
          ],
        },
        { destination: "198.18.30.0/24", action: "throw", why: "policy rule without gateway: normal path" },
        { destination: "198.18.40.0/24", action: "unreachable", reason: "no gateway replica matches" },
      ],
      notes: ["a note"],
    });
    assert.deepEqual(lines, [
      "Egress: via gateways",
      `  Source: EgressGatewayPolicy "split" (pod annotation egress.egw.dev/egressGatewayPolicy)`,
      "  198.18.20.0/24: 2 gateway(s)",
      `    selector: egw.dev/gateway == "a"`,
      "    namespace selector: all()",
      "    maxNextHops 2, gatewayPreference PreferNodeLocal (no candidate on the pod's node): 2 of 3 candidates picked for this pod: egress/a-0, egress/a-2",
      "    egress/a-0 on n2 (zone-b): egress IP 10.10.2.1 (pod IP 10.128.0.2, ready)",
      "    egress/a-2 on n3: egress IP 10.10.2.3 (pod IP 10.128.0.4, not polled yet)",
      "  198.18.30.0/24: no gateway (policy rule without gateway: normal path)",
      "  198.18.40.0/24: UNREACHABLE (fail closed): no gateway replica matches",
      "  Note: a note",
    ]);
    assert.deepEqual(formatWorkloadExplanation({ kind: "blocked", reason: "r", source: "s" }), [
      "Egress: BLOCKED (fail closed)",
      "  Source: s",
      "  Reason: r",
    ]);
  });

  it("says when node-local candidates were used and when healthy candidates stood in", () => {
    const base: GatewayChoiceExplanation = {
      selector: "all()",
      namespaceSelector: "all()",
      maxNextHops: 0,
      preference: "PreferNodeLocal",
      candidates: 2,
      preferred: true,
      fallback: true,
    };
    assert.deepEqual(describeGatewayChoice(base).slice(2), [
      "maxNextHops 0 (no limit), gatewayPreference PreferNodeLocal: all 2 candidates on the pod's node used",
      "none of those passed readiness polling: healthy candidates stand in (on the pod's node first)",
    ]);
  });

  it("says which zone same-zone preference used, or why it could not", () => {
    const base: GatewayChoiceExplanation = {
      selector: "all()",
      namespaceSelector: "all()",
      maxNextHops: 1,
      preference: "PreferSameZone",
      zone: "zone-a",
      candidates: 2,
      preferred: true,
      picked: ["egress/gw-0"],
      fallback: false,
    };
    assert.deepEqual(describeGatewayChoice(base).slice(2), [
      "maxNextHops 1, gatewayPreference PreferSameZone: 1 of 2 candidates in zone zone-a picked for this pod: egress/gw-0",
    ]);
    assert.deepEqual(describeGatewayChoice({ ...base, preferred: false, candidates: 4 }).slice(2), [
      "maxNextHops 1, gatewayPreference PreferSameZone (no candidate in zone zone-a): 1 of 4 candidates picked for this pod: egress/gw-0",
    ]);
    const { zone: _, ...noZone } = base;
    assert.deepEqual(describeGatewayChoice({ ...noZone, preferred: false, candidates: 4 }).slice(2), [
      "maxNextHops 1, gatewayPreference PreferSameZone (the pod's node has no zone label): 1 of 4 candidates picked for this pod: egress/gw-0",
    ]);
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
