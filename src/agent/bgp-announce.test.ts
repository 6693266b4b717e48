// Which egress IPs a node announces and to which peers: ready and draining replicas on this node,
// inside an egress pool (advertise.ipPools, disableBGPExport), with the configured communities;
// peers by node name or selector, passwords from Secrets; BGP off without the "default" config.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Secret } from "../api/schemas/core.js";
import type { BGPConfiguration, BGPPeer } from "../api/schemas/routing.js";
import { ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import type { IPPoolInput, NodeInput, PodInput } from "../calc/inputs.js";
import { gatewayPod, ipPool, node, pod } from "../daemon/testing/objects.js";
import { nodeBgpIntent, replicaAnnounced, type BgpResources } from "./bgp-announce.js";

const NODE = {
  ...node("node-1", "172.30.0.11"),
  metadata: { name: "node-1", labels: { rack: "a" } },
} as NodeInput;

const withReady = (
  p: PodInput,
  status: "True" | "False",
  reason = status === "True" ? "Ready" : "ProbeFailed",
): PodInput =>
  ({ ...p, status: { ...p.status, conditions: [{ type: "Ready", status, reason }] } }) as PodInput;

const replica = (
  name: string,
  egressIP: string,
  o: { ready?: boolean; node?: string; annotations?: Record<string, string> } = {},
) =>
  withReady(
    gatewayPod({
      namespace: "team",
      name,
      node: o.node ?? "node-1",
      ip: egressIP,
      gateway: "gw",
      egressIP,
      ...(o.annotations ? { annotations: o.annotations } : {}),
    }) as PodInput,
    o.ready === false ? "False" : "True",
  );

const config = (spec: BGPConfiguration["spec"] = {}): BGPConfiguration => ({
  apiVersion: "egw.dev/v1",
  kind: "BGPConfiguration",
  metadata: { name: "default" },
  spec,
});

const peer = (name: string, spec: Partial<BGPPeer["spec"]> = {}): BGPPeer => ({
  apiVersion: "egw.dev/v1",
  kind: "BGPPeer",
  metadata: { name },
  spec: { peerIP: "172.30.0.1", asNumber: 64513, ...spec },
});

const pools: IPPoolInput[] = [
  ipPool("egress-a", "10.10.0.0/24", ["EgressGateway"]) as IPPoolInput,
  ipPool("egress-b", "10.20.0.0/24", ["EgressGateway"]) as IPPoolInput,
  ipPool("pods", "10.244.0.0/16") as IPPoolInput,
];

const resources = (o: Partial<BgpResources> = {}): BgpResources => ({
  configurations: [config()],
  peers: [peer("lab-router")],
  secrets: [],
  pools,
  ...o,
});

const on = (pods: PodInput[]) => ({ node: NODE, nodeIP: "172.30.0.11", pods });

describe("nodeBgpIntent", () => {
  it("announces the ready replicas of this node that are in an egress pool, as /32s", () => {
    const i = nodeBgpIntent(
      resources(),
      on([
        replica("a", "10.10.0.7"),
        replica("b", "10.20.0.3"),
        replica("not-ready", "10.10.0.8", { ready: false }),
        replica("no-pool", "192.0.2.1"),
        pod({ namespace: "team", name: "client", node: "node-1", ip: "10.244.0.5" }) as PodInput,
      ]),
    );
    assert.equal(i.enabled, true);
    assert.deepEqual(i.announced, ["10.10.0.7/32", "10.20.0.3/32"]);
    assert.deepEqual(i.peers, [{ name: "lab-router", ip: "172.30.0.1", bfd: true }]);
    assert.deepEqual(i.config?.peers[0], {
      name: "lab-router",
      ip: "172.30.0.1",
      asNumber: 64513,
      holdTimeSeconds: 90,
      bfd: { intervalMs: 100, multiplier: 3 },
    });
    assert.equal(i.config?.asNumber, 64512);
    assert.equal(i.config?.listenPort, 179);
    assert.deepEqual(i.problems, []);
  });

  it("keeps announcing a draining replica, and not one whose pod stopped running", () => {
    const draining = replica("d", "10.10.0.9", {
      ready: false,
      annotations: { [ANN_GATEWAY_TERMINATING]: "true" },
    });
    const drainingReason = withReady(replica("e", "10.10.0.10"), "False", "Draining");
    const stopped = { ...replica("f", "10.10.0.11"), status: { phase: "Failed" } } as PodInput;
    assert.ok(replicaAnnounced(draining));
    assert.ok(replicaAnnounced(drainingReason));
    assert.ok(!replicaAnnounced(stopped));
    assert.deepEqual(nodeBgpIntent(resources(), on([draining, drainingReason, stopped])).announced, [
      "10.10.0.9/32",
      "10.10.0.10/32",
    ]);
  });

  it("filters by advertise.ipPools and disableBGPExport, and attaches the communities", () => {
    const noExport = { ...pools[1]!, spec: { ...pools[1]!.spec, disableBGPExport: true } } as IPPoolInput;
    const cfg = config({
      communities: [{ name: "egress", value: "64512:100" }],
      advertise: { ipPools: ["egress-a", "egress-b"], communities: ["egress", "64512:1:2"] },
    });
    const i = nodeBgpIntent(
      resources({ configurations: [cfg], pools: [pools[0]!, noExport] }),
      on([replica("a", "10.10.0.7"), replica("b", "10.20.0.3")]),
    );
    assert.deepEqual(i.announced, ["10.10.0.7/32"]);
    assert.deepEqual(
      i.config?.announce[0]?.communities.map((c) => c.text),
      ["64512:100", "64512:1:2"],
    );
    const only = nodeBgpIntent(
      resources({ configurations: [config({ advertise: { ipPools: ["egress-b"] } })] }),
      on([replica("a", "10.10.0.7"), replica("b", "10.20.0.3")]),
    );
    assert.deepEqual(only.announced, ["10.20.0.3/32"]);
  });

  it("peers by node name or selector; a missing password leaves the peer out, named", () => {
    const secrets: Secret[] = [
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "bgp", namespace: "egw-system" },
        data: { pw: Buffer.from("s3cret").toString("base64") },
      },
    ];
    const i = nodeBgpIntent(
      resources({
        secrets,
        peers: [
          peer("mine", { node: "node-1", peerIP: "172.30.0.2", bfd: false, holdTimeSeconds: 9 }),
          peer("other-node", { node: "node-2" }),
          peer("rack-a", {
            nodeSelector: "rack == 'a'",
            peerIP: "172.30.0.3",
            password: { secretKeyRef: { name: "bgp", key: "pw" } },
          }),
          peer("rack-b", { nodeSelector: "rack == 'b'" }),
          peer("broken", { nodeSelector: "rack ==" }),
          peer("no-secret", {
            peerIP: "172.30.0.4",
            password: { secretKeyRef: { name: "absent", key: "pw" } },
          }),
        ],
      }),
      on([]),
    );
    assert.deepEqual(
      i.peers.map((p) => [p.name, p.bfd]),
      [
        ["mine", false],
        ["rack-a", true],
      ],
    );
    assert.equal(i.config?.peers.find((p) => p.name === "rack-a")?.password, "s3cret");
    assert.equal(i.config?.peers.find((p) => p.name === "mine")?.holdTimeSeconds, 9);
    // A selector that does not parse (rejected at apply) selects no node.
    assert.deepEqual(i.problems, [
      "BGPPeer no-secret: spec.password: Secret egw-system/absent does not exist; peer left out",
    ]);
  });

  it("is off without the default BGPConfiguration or with enabled false: no peers, nothing announced", () => {
    for (const configuration of [
      undefined,
      config({ enabled: false }),
      { ...config(), metadata: { name: "default" }, spec: { enabled: false } },
    ]) {
      const i = nodeBgpIntent(
        resources({ configurations: configuration === undefined ? [] : [configuration] }),
        on([replica("a", "10.10.0.7")]),
      );
      assert.equal(i.enabled, false);
      assert.deepEqual(i.config?.peers, []);
      assert.deepEqual(i.config?.announce, []);
    }
  });

  it("renders nothing without the node's IPv4 address", () => {
    const i = nodeBgpIntent(resources(), { node: NODE, nodeIP: undefined, pods: [] });
    assert.equal(i.config, undefined);
    assert.match(i.problems[0]!, /no IPv4 InternalIP/);
  });
});
