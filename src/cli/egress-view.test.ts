import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import {
  clusterViewOf,
  describePodEgress,
  publishedGatewayHealth,
  publishedReadiness,
} from "./egress-view.js";

const node = (name: string, ip: string): Resource => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name },
  status: { addresses: [{ type: "InternalIP", address: ip }] },
});
const ns = (name: string, annotations?: Record<string, string>): Resource => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: {
    name,
    labels: { "kubernetes.io/metadata.name": name },
    ...(annotations ? { annotations } : {}),
  },
});
const pod = (
  namespace: string,
  name: string,
  ip: string,
  extra: { annotations?: Record<string, string>; labels?: Record<string, string>; ready?: boolean } = {},
): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace,
    ...(extra.labels ? { labels: extra.labels } : {}),
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  },
  spec: { nodeName: "node-1" },
  status: {
    phase: "Running",
    podIP: ip,
    hostInterface: `ew${name}`,
    ...(extra.ready === undefined
      ? {}
      : { conditions: [{ type: "Ready", status: extra.ready ? "True" : "False" }] }),
  },
});
const replica = (name: string, ip: string, egressIP: string, ready?: boolean): Resource =>
  pod("egress", name, ip, {
    labels: { "egw.dev/gateway": "shared" },
    annotations: { "egw.dev/gateway-owner": "egress/shared", "egw.dev/egress-ip": egressIP },
    ...(ready === undefined ? {} : { ready }),
  });

const cluster = (pods: Resource[]) =>
  clusterViewOf({
    Node: [node("node-1", "172.30.0.11")],
    Namespace: [
      ns("egress"),
      ns("team-a", {
        "egress.egw.dev/selector": "egw.dev/gateway == 'shared'",
        "egress.egw.dev/namespaceSelector": "kubernetes.io/metadata.name == 'egress'",
      }),
    ],
    Pod: pods,
    IPPool: [
      {
        apiVersion: "egw.dev/v1",
        kind: "IPPool",
        metadata: { name: "pods" },
        spec: { cidr: "10.244.0.0/16" },
      },
    ],
  }).index;

describe("egress view for describe pod", () => {
  it("reads gateway readiness from the Ready condition replicas publish", () => {
    assert.equal(publishedReadiness(replica("a", "10.244.1.2", "10.10.0.1", true)), true);
    assert.equal(publishedReadiness(replica("a", "10.244.1.2", "10.10.0.1", false)), false);
    assert.equal(publishedReadiness(replica("a", "10.244.1.2", "10.10.0.1")), undefined);
    const health = publishedGatewayHealth([
      replica("a", "10.244.1.2", "10.10.0.1", false),
      replica("b", "10.244.1.3", "10.10.0.2"),
    ]);
    assert.deepEqual([...health], [["egress/a", false]]);
  });

  it("shows the gateways a pod uses with their egress IPs, leaving out replicas that are not ready", () => {
    const s = cluster([
      replica("a", "10.244.1.2", "10.10.0.1", true),
      replica("b", "10.244.1.3", "10.10.0.2", false),
      pod("team-a", "web", "10.244.1.10"),
    ]);
    const text = describePodEgress(s, "team-a", "web").join("\n");
    assert.match(text, /Egress: via gateways/);
    assert.match(text, /0\.0\.0\.0\/0: 1 gateway\(s\)/);
    assert.match(text, /egress\/a on node-1: egress IP 10\.10\.0\.1 \(pod IP 10\.244\.1\.2, ready\)/);
    assert.doesNotMatch(text, /10\.10\.0\.2/);
  });

  it("explains a blocked pod (bad selector), a pod without gateways and an unknown pod", () => {
    const s = cluster([
      replica("a", "10.244.1.2", "10.10.0.1", true),
      pod("default", "bad", "10.244.1.11", { annotations: { "egress.egw.dev/selector": "app ==" } }),
      pod("default", "plain", "10.244.1.12"),
    ]);
    const bad = describePodEgress(s, "default", "bad").join("\n");
    assert.match(bad, /Egress: BLOCKED \(fail closed\)/);
    assert.match(bad, /egress\.egw\.dev\/selector/);
    assert.match(describePodEgress(s, "default", "plain").join("\n"), /no gateway \(node SNAT\)/);
    assert.match(describePodEgress(s, "default", "nope").join("\n"), /pod "default\/nope" not found/);
  });
});
