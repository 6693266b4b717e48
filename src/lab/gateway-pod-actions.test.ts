import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { gatewayComponent } from "./components.js";
import { gatewayPodActions, type GatewayPodActionsInput } from "./gateway-pod-actions.js";
import { podHostInterface, podNetns } from "./names.js";
import { frozenBy } from "./partition.js";
import { planTopology } from "./topology.js";

const topo = planTopology("t", 2);
assert.ok(topo.ok);
const t = topo.value;
const [n1, n2] = t.nodes;
assert.ok(n1 && n2);

const gatewayPod = (name: string, node: string, egressIP: string, phase = "Running"): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: "egress",
    annotations: { "egw.dev/gateway-owner": "egress/gw", "egw.dev/egress-ip": egressIP },
  },
  spec: { nodeName: node },
  status: { phase, podIP: "10.244.1.5", hostInterface: podHostInterface("t", "egress", name) },
});

const plainPod: Resource = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default" },
  spec: { nodeName: "node-1" },
  status: { phase: "Running", podIP: "10.244.1.1", hostInterface: podHostInterface("t", "default", "web") },
};

const input = (over: Partial<GatewayPodActionsInput> = {}): GatewayPodActionsInput => {
  const pods = over.pods ?? [
    gatewayPod("gw-a", "node-1", "10.10.1.1"),
    gatewayPod("gw-b", "node-2", "10.10.1.2"),
    plainPod,
  ];
  return {
    lab: "t",
    nodes: t.nodes,
    pods,
    existingNetns: new Set(pods.map((p) => podNetns("t", p.metadata.namespace ?? "", p.metadata.name))),
    routerRoutes: [],
    nodeRoutes: new Map(),
    processes: new Map(),
    component: gatewayComponent,
    ...over,
  };
};

describe("gatewayPodActions", () => {
  it("routes each egress IP to its replica's node and pod, and starts one gateway per replica", () => {
    const p = gatewayPodActions(input());
    assert.deepEqual(p.router, [
      "route replace 10.10.1.1/32 via 172.30.0.11 proto 211",
      "route replace 10.10.1.2/32 via 172.30.0.12 proto 211",
    ]);
    assert.deepEqual(p.nodes.get(n1.netns), [
      `route replace 10.10.1.1/32 dev ${podHostInterface("t", "egress", "gw-a")} scope link proto 211`,
    ]);
    assert.deepEqual(p.nodes.get(n2.netns), [
      `route replace 10.10.1.2/32 dev ${podHostInterface("t", "egress", "gw-b")} scope link proto 211`,
    ]);
    assert.deepEqual(
      p.processes.map((a) => [a.kind, a.component]),
      [
        ["start", "gateway.egress.gw-a"],
        ["start", "gateway.egress.gw-b"],
      ],
    );
    assert.deepEqual(p.problems, []);
  });

  it("with BGP writes no router routes and removes those left from static mode; node routes stay", () => {
    const p = gatewayPodActions(
      input({ staticRouterRoutes: false, routerRoutes: [{ dst: "10.10.1.1", gateway: "172.30.0.11" }] }),
    );
    assert.deepEqual(p.router, ["route del 10.10.1.1/32 proto 211"]);
    assert.deepEqual(p.nodes.get(n1.netns), [
      `route replace 10.10.1.1/32 dev ${podHostInterface("t", "egress", "gw-a")} scope link proto 211`,
    ]);
  });

  it("is empty once converged, restarts a dead gateway and removes what belongs to no replica", () => {
    const a = podHostInterface("t", "egress", "gw-a");
    const converged = gatewayPodActions(
      input({
        pods: [gatewayPod("gw-a", "node-1", "10.10.1.1")],
        routerRoutes: [{ dst: "10.10.1.1", gateway: "172.30.0.11" }],
        nodeRoutes: new Map([[n1.netns, [{ dst: "10.10.1.1", dev: a }]]]),
        processes: new Map([["gateway.egress.gw-a", true]]),
      }),
    );
    assert.deepEqual([converged.router, [...converged.nodes], converged.processes], [[], [], []]);

    const drifted = gatewayPodActions(
      input({
        pods: [gatewayPod("gw-a", "node-1", "10.10.1.1")],
        // a replaced replica moved the IP to node-1; an old IP is left on node-2 and the router
        routerRoutes: [
          { dst: "10.10.1.1", gateway: "172.30.0.12" },
          { dst: "10.10.1.7", gateway: "172.30.0.12" },
        ],
        nodeRoutes: new Map([[n2.netns, [{ dst: "10.10.1.7", dev: "ewold" }]]]),
        processes: new Map([
          ["gateway.egress.gw-a", false],
          ["gateway.egress.gone", true],
        ]),
      }),
    );
    assert.deepEqual(drifted.router, [
      "route replace 10.10.1.1/32 via 172.30.0.11 proto 211",
      "route del 10.10.1.7/32 proto 211",
    ]);
    assert.deepEqual(drifted.nodes.get(n2.netns), ["route del 10.10.1.7/32 proto 211"]);
    assert.deepEqual(
      drifted.processes.map((x) => [x.kind, x.component, x.kind === "start" ? x.restart : undefined]),
      [
        ["start", "gateway.egress.gw-a", true],
        ["stop", "gateway.egress.gone", undefined],
      ],
    );
  });

  it("waits for a replica that is not running or not wired yet", () => {
    const p = gatewayPodActions(
      input({ pods: [gatewayPod("gw-a", "node-1", "10.10.1.1", "Pending")], existingNetns: new Set() }),
    );
    assert.deepEqual([p.gateways, p.router, p.processes], [[], [], []]);
  });

  it("reports a malformed or duplicate egress IP and routes neither", () => {
    const p = gatewayPodActions(
      input({
        pods: [
          gatewayPod("gw-a", "node-1", "10.10.1.1"),
          gatewayPod("gw-b", "node-2", "10.10.1.1"),
          gatewayPod("gw-c", "node-2", "not-an-ip"),
        ],
      }),
    );
    assert.deepEqual(
      p.gateways.map((g) => g.name),
      ["gw-a"],
    );
    assert.equal(p.problems.length, 2);
    assert.match(p.problems[0] ?? "", /gw-b: egress IP 10\.10\.1\.1 is already routed to another replica/);
    assert.match(
      p.problems[1] ?? "",
      /gw-c: annotation egw\.dev\/egress-ip "not-an-ip" is not an IPv4 address/,
    );
  });
});

describe("gatewayPodActions: cut nodes", () => {
  it("neither starts nor stops a cut node's gateways nor touches its routes; the router follows the datastore", () => {
    const frozen = frozenBy("t", {
      "node-2": {
        since: "2030-01-01T00:00:00Z",
        pods: [
          { namespace: "egress", name: "gw-old" },
          { namespace: "egress", name: "gw-b" },
        ],
      },
    });
    const p = gatewayPodActions(
      input({
        frozen,
        processes: new Map([
          [gatewayComponent("egress", "gw-old"), true],
          [gatewayComponent("egress", "gw-a"), true],
        ]),
        nodeRoutes: new Map([[n2.netns, [{ dst: "10.10.1.9", dev: "x" }]]]),
        routerRoutes: [{ dst: "10.10.1.9", gateway: n2.underlayIp }],
      }),
    );
    assert.deepEqual(p.processes, [], "gw-b (cut) is not started, gw-old (deleted, cut) is not stopped");
    assert.equal(p.nodes.get(n2.netns), undefined);
    assert.deepEqual(p.router, [
      "route replace 10.10.1.1/32 via 172.30.0.11 proto 211",
      "route replace 10.10.1.2/32 via 172.30.0.12 proto 211",
      "route del 10.10.1.9/32 proto 211",
    ]);
  });
});
