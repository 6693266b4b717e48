import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { MemoryStore } from "../datastore/memory.js";
import { ok } from "../util/result.js";
import type { CliIO } from "./context.js";
import { run } from "./main.js";
import {
  clientLivenessByReplica,
  describeReplicas,
  livenessSummary,
  replicaVisibility,
  shortTime,
  type ClientLiveness,
} from "./replica-view.js";

const NOW = new Date("2026-03-04T12:00:30Z");

const node = (name: string, zone: string | undefined, liveness?: unknown): Resource => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, ...(zone === undefined ? {} : { labels: { "topology.kubernetes.io/zone": zone } }) },
  status: {
    addresses: [{ type: "InternalIP", address: "172.30.0.1" }],
    ...(liveness === undefined ? {} : { gatewayLiveness: liveness }),
  },
});

const replica = (
  name: string,
  nodeName: string,
  egressIP: string,
  opts: {
    ready?: { status: string; reason: string; message?: string };
    terminating?: string;
    owner?: string;
  } = {},
): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: "egress",
    labels: { "egw.dev/gateway": "shared" },
    annotations: {
      "egw.dev/gateway-owner": opts.owner ?? "egress/shared",
      "egw.dev/egress-ip": egressIP,
      ...(opts.terminating === undefined ? {} : { "egw.dev/terminating": opts.terminating }),
    },
  },
  spec: { nodeName },
  status: {
    phase: "Running",
    podIP: `10.244.0.${egressIP.split(".")[3] ?? "0"}`,
    ...(opts.ready === undefined
      ? {}
      : { conditions: [{ type: "Ready", lastTransitionTime: "2026-03-04T11:59:00Z", ...opts.ready }] }),
  },
});

const gateway: Resource = {
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name: "shared", namespace: "egress", creationTimestamp: "2026-03-04T11:50:00Z" },
  spec: { replicas: 3, ipPools: [{ name: "egress" }] },
  status: {
    replicas: [
      { name: "shared-0", node: "node-1", egressIP: "10.10.0.1", ready: true },
      { name: "shared-1", node: "node-2", egressIP: "10.10.0.2", ready: false },
      { name: "shared-2", node: "node-3", egressIP: "10.10.0.3", ready: true },
    ],
  },
};

/** Three client nodes' sessions: shared-0 up everywhere, shared-1 down on one node, shared-2 draining. */
const nodes = (): Resource[] => [
  node("node-1", "zone-a", [
    { replica: "egress/shared-0", state: "Up", since: "2026-03-04T12:00:01Z" },
    { replica: "egress/shared-1", state: "Up", since: "2026-03-04T11:58:00Z" },
    { replica: "egress/shared-2", state: "Draining", since: "2026-03-04T12:00:20Z" },
    { replica: "egress/other-0", state: "Up", since: "2026-03-04T12:00:00Z" },
    { replica: "egress/shared-0", state: "Sideways", since: "2026-03-04T12:00:00Z" },
    "garbage",
  ]),
  node("node-2", "zone-b", [
    { replica: "egress/shared-0", state: "Up", since: "2026-03-04T11:59:00Z" },
    {
      replica: "egress/shared-1",
      state: "Down",
      since: "2026-03-04T12:00:05.123Z",
      reason: "detection time expired",
    },
  ]),
  node("node-3", "zone-a", [
    { replica: "egress/shared-0", state: "Up", since: "2026-03-04T11:59:30Z" },
    { replica: "egress/shared-1", state: "Up", since: "2026-03-04T11:58:00Z" },
  ]),
  node("node-4", undefined, { not: "a list" }),
];

const pods = (): Resource[] => [
  replica("shared-1", "node-2", "10.10.0.2", {
    ready: { status: "False", reason: "ProbeFailed", message: "http://198.18.10.10/: timed out" },
  }),
  replica("shared-0", "node-1", "10.10.0.1", { ready: { status: "True", reason: "Ready" } }),
  replica("shared-2", "node-3", "10.10.0.3", {
    ready: { status: "False", reason: "Draining", message: "the replica is terminating; no new flows" },
    terminating: "2026-03-04T12:00:55Z",
  }),
  replica("other-0", "node-1", "10.10.0.9", { owner: "egress/other" }),
];

describe("replica visibility", () => {
  it("aggregates the Nodes' gatewayLiveness per replica, skipping malformed entries", () => {
    const byReplica = clientLivenessByReplica(nodes());
    assert.deepEqual(
      byReplica.get("egress/shared-0")?.map((c) => `${c.node}:${c.state}`),
      ["node-1:Up", "node-2:Up", "node-3:Up"],
    );
    assert.deepEqual(byReplica.get("egress/shared-1")?.[1], {
      node: "node-2",
      state: "Down",
      since: "2026-03-04T12:00:05.123Z",
      reason: "detection time expired",
    });
  });

  it("lists a gateway's replicas in order with node, zone, upstream state and drain deadline", () => {
    const views = replicaVisibility(gateway, pods(), nodes());
    assert.deepEqual(
      views.map((v) => [v.name, v.node, v.zone, v.egressIP, v.upstream.reason, v.drainDeadline]),
      [
        ["shared-0", "node-1", "zone-a", "10.10.0.1", "Ready", undefined],
        ["shared-1", "node-2", "zone-b", "10.10.0.2", "ProbeFailed", undefined],
        ["shared-2", "node-3", "zone-a", "10.10.0.3", "Draining", "2026-03-04T12:00:55Z"],
      ],
    );
  });

  it("says how many client nodes see a replica in which state, worst first, since the last change", () => {
    const up = (node: string, since: string): ClientLiveness => ({ node, state: "Up", since });
    assert.equal(
      livenessSummary(
        [up("a", "2026-03-04T11:59:00Z"), up("b", "2026-03-04T12:00:01Z"), up("c", "2026-03-04T11:00:00Z")],
        NOW,
      ),
      "up on 3/3 nodes since 12:00:01Z",
    );
    assert.equal(
      livenessSummary(
        [
          up("a", "2026-03-04T11:59:00Z"),
          { node: "b", state: "Down", since: "2026-03-04T12:00:05Z" },
          up("c", "2026-03-03T23:00:00Z"),
        ],
        NOW,
      ),
      "down on 1/3 nodes since 12:00:05Z, up on 2/3 nodes since 11:59:00Z",
    );
    assert.equal(livenessSummary([], NOW), "no client sessions");
    assert.equal(shortTime("2026-03-03T23:00:00.500Z", NOW), "2026-03-03T23:00:00Z");
    assert.equal(shortTime("yesterday", NOW), "yesterday");
  });

  it("describes each replica with its clients per node, upstream and drain", () => {
    const lines = describeReplicas(replicaVisibility(gateway, pods(), nodes()), NOW);
    assert.deepEqual(lines, [
      "Replicas:",
      "  shared-0 on node-1 (zone-a): egress IP 10.10.0.1, pod IP 10.244.0.1",
      "    Clients:   up on 3/3 nodes since 12:00:01Z",
      "               node-1: Up since 12:00:01Z",
      "               node-2: Up since 11:59:00Z",
      "               node-3: Up since 11:59:30Z",
      "    Upstream:  Ready since 11:59:00Z",
      "    Drain:     not draining",
      "  shared-1 on node-2 (zone-b): egress IP 10.10.0.2, pod IP 10.244.0.2",
      "    Clients:   down on 1/3 nodes since 12:00:05Z, up on 2/3 nodes since 11:58:00Z",
      "               node-1: Up since 11:58:00Z",
      "               node-2: Down since 12:00:05Z (detection time expired)",
      "               node-3: Up since 11:58:00Z",
      "    Upstream:  ProbeFailed since 11:59:00Z: http://198.18.10.10/: timed out",
      "    Drain:     not draining",
      "  shared-2 on node-3 (zone-a): egress IP 10.10.0.3, pod IP 10.244.0.3",
      "    Clients:   draining on 1/1 nodes since 12:00:20Z",
      "               node-1: Draining since 12:00:20Z",
      "    Upstream:  Draining since 11:59:00Z: the replica is terminating; no new flows",
      "    Drain:     until 12:00:55Z (in 25s)",
    ]);
    assert.deepEqual(describeReplicas([], NOW), ["Replicas:          <none>"]);
  });
});

describe("egw get egressgateways -o wide / egw describe egressgateway", () => {
  const cli = async (store: MemoryStore, args: string[]): Promise<{ code: number; stdout: string }> => {
    let stdout = "";
    const io: CliIO = {
      stdout: (s) => void (stdout += s),
      stderr: () => undefined,
      readStdin: () => Promise.resolve(""),
      env: { EGW_CONFIG: "/nonexistent/egw-config.yaml" },
      now: () => NOW,
    };
    const code = await run(args, io, () => Promise.resolve(ok(store.client())));
    return { code, stdout };
  };

  const seeded = async (): Promise<MemoryStore> => {
    const store = new MemoryStore();
    const client = store.client();
    for (const o of [gateway, ...nodes(), ...pods()]) {
      const created = await client.create(o);
      assert.ok(created.ok, JSON.stringify(created));
    }
    return store;
  };

  it("shows each replica's liveness, upstream and drain next to the replica list", async () => {
    const store = await seeded();
    const got = await cli(store, ["get", "egressgateways", "-n", "egress", "-o", "wide"]);
    assert.equal(got.code, 0);
    const [header, row] = got.stdout.split("\n");
    const columns = (header ?? "").split(/\s{3,}/);
    assert.deepEqual(columns.slice(6, 10), ["REPLICAS", "LIVENESS", "UPSTREAM", "DRAIN"]);
    assert.ok(
      row?.includes(
        "shared-0 up on 3/3 nodes since 12:00:01Z; " +
          "shared-1 down on 1/3 nodes since 12:00:05Z, up on 2/3 nodes since 11:58:00Z; " +
          "shared-2 draining on 1/1 nodes since 12:00:20Z",
      ),
      row,
    );
    assert.ok(row?.includes("shared-0 Ready; shared-1 ProbeFailed; shared-2 Draining"), row);
    assert.ok(row?.includes("shared-2 until 12:00:55Z (in 25s)"), row);
    const plain = await cli(store, ["get", "egressgateways", "-n", "egress"]);
    assert.doesNotMatch(plain.stdout, /LIVENESS/, "only -o wide reads nodes and pods");
  });

  it("adds a Replicas section to describe", async () => {
    const store = await seeded();
    const got = await cli(store, ["describe", "egressgateway", "shared", "-n", "egress"]);
    assert.equal(got.code, 0);
    assert.match(got.stdout, /\nReplicas:\n {2}shared-0 on node-1 \(zone-a\): egress IP 10\.10\.0\.1/);
    assert.match(
      got.stdout,
      /Upstream: {2}ProbeFailed since 11:59:00Z: http:\/\/198\.18\.10\.10\/: timed out/,
    );
    assert.match(got.stdout, /Drain: {5}until 12:00:55Z \(in 25s\)/);
  });
});
