// `egw status` formatting: each node's agent health (EgwAgentReady on its Node) is shown, and an
// agent that cannot program its node is named with its message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { agentView, bgpView, formatStatus, type ClusterView, type LabHealth } from "./status.js";
import type { LabManifest } from "./state.js";

const manifest: LabManifest = {
  name: "t1",
  nodes: 2,
  stateDir: "/tmp/egw-t1",
  phase: "ready",
  createdAt: "2026-01-01T00:00:00.000Z",
  processes: {},
};
const health: LabHealth = { processes: [], missingNetns: [], healthy: true };

const nodeWith = (conditions: unknown): Resource => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "node-1" },
  status: { addresses: [], conditions },
});

const cluster = (agents: ClusterView["agents"]): ClusterView => ({
  nodes: [1, 2].map((i) => ({
    index: i,
    name: `node-${i}`,
    netns: `egw-t1-n${i}`,
    underlayIp: `172.30.0.${10 + i}`,
    podCidr: `10.244.${i}.0/24`,
  })),
  pods: [],
  agents,
});

describe("egw status: agent health per node", () => {
  it("reads EgwAgentReady from a Node and ignores other conditions and odd shapes", () => {
    assert.deepEqual(
      agentView(
        nodeWith([
          { type: "Ready", status: "True" },
          { type: "EgwAgentReady", status: "False", reason: "ReconcileFailed", message: "nft -f failed" },
        ]),
      ),
      { status: "False", reason: "ReconcileFailed", message: "nft -f failed" },
    );
    assert.equal(agentView(nodeWith(undefined)), undefined);
    assert.equal(agentView(nodeWith("nonsense")), undefined);
    assert.deepEqual(agentView(nodeWith([{ type: "EgwAgentReady", status: 7 }])), { status: "Unknown" });
  });

  it("shows Ready, NotReady with the reason and message, and nodes not reported yet", () => {
    const text = formatStatus(
      manifest,
      health,
      cluster({
        "node-1": { status: "True", reason: "Programmed" },
        "node-2": {
          status: "False",
          reason: "ReconcileFailed",
          message: "nft -f: Error: Message too long; the kernel keeps its previous egress state",
          since: "2026-01-01T10:00:00.000Z",
        },
      }),
    );
    assert.match(text, /^lab t1: running \(agent not ready on node-2\)$/m);
    assert.match(text, /NAME\s+INTERNAL-IP\s+POD-CIDR\s+NETNS\s+PODS\s+AGENT/);
    assert.match(text, /node-1\s+172\.30\.0\.11\s+10\.244\.1\.0\/24\s+egw-t1-n1\s+0\s+Ready$/m);
    assert.match(text, /node-2\s+.*NotReady \(ReconcileFailed\)$/m);
    assert.match(
      text,
      /agent on node-2 not ready since 2026-01-01T10:00:00\.000Z: nft -f: Error: Message too long; the kernel keeps/,
    );

    const fresh = formatStatus(manifest, health, cluster({}));
    assert.match(fresh, /^lab t1: running$/m);
    assert.match(fresh, /node-1\s+.*unknown \(not reported yet\)$/m);
  });

  it("in a BGP lab shows each node's sessions and names a node whose BIRD refused its config", () => {
    const n = (bgp: unknown): Resource => ({ ...nodeWith([]), status: { addresses: [], bgp } });
    assert.deepEqual(
      bgpView(
        n({
          configApplied: false,
          error: "syntax error",
          peers: [{ name: "lab-router", state: "Established" }, 3],
        }),
      ),
      { configApplied: false, error: "syntax error", peers: [{ name: "lab-router", state: "Established" }] },
    );
    assert.equal(bgpView(n(undefined)), undefined);
    const text = formatStatus({ ...manifest, routing: "bgp" }, health, {
      ...cluster({}),
      bgp: {
        "node-1": { configApplied: true, peers: [{ name: "lab-router", state: "Established" }] },
        "node-2": {
          configApplied: false,
          error: "bird.conf:7: syntax error",
          peers: [{ name: "lab-router", state: "Established" }],
        },
      },
    });
    assert.match(text, /^routing: bgp/m);
    assert.match(text, /NAME\s+INTERNAL-IP\s+POD-CIDR\s+NETNS\s+PODS\s+BGP\s+AGENT$/m);
    assert.match(text, /node-1\s+.*\s0\s+lab-router Established\s+unknown \(not reported yet\)$/m);
    assert.match(text, /node-2\s+.*ConfigError; lab-router Established\s+unknown/m);
    assert.match(
      text,
      /^BGP on node-2: BIRD refused the last config \(the one before stays\): bird\.conf:7: syntax error$/m,
    );
    assert.match(formatStatus(manifest, health, cluster({})), /^routing: static/m);
  });
});
