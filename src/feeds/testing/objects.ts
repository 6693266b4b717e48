// Stored objects for the feeds tests: pools, gateways, namespaces, replica pods, FirewallFeeds.
import type { Resource } from "../../api/meta.js";
import {
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
  LABEL_NAMESPACE_NAME,
} from "../../api/well-known.js";
import type { FeedInputs } from "../feed-entries.js";

export const pool = (name: string, cidr: string, uses = ["EgressGateway"]): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name },
  spec: { cidr, allowedUses: uses },
});

export const gateway = (namespace: string, name: string, labels: Record<string, string> = {}): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name, namespace, labels },
  spec: { replicas: 1, ipPools: [{ name: "egress-a" }] },
});

export const ns = (name: string, labels: Record<string, string> = {}): Resource => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: { [LABEL_NAMESPACE_NAME]: name, ...labels } },
});

export const replica = (
  namespace: string,
  gw: string,
  index: number,
  ip: string,
  o: { draining?: boolean; node?: string; created?: string } = {},
): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: `${gw}-${index}`,
    namespace,
    ...(o.created === undefined ? {} : { creationTimestamp: o.created }),
    annotations: {
      [ANN_GATEWAY_OWNER]: `${namespace}/${gw}`,
      [ANN_GATEWAY_EGRESS_IP]: ip,
      ...(o.draining ? { [ANN_GATEWAY_TERMINATING]: "2026-11-28T13:00:00Z" } : {}),
    },
  },
  spec: { nodeName: o.node ?? "node-1" },
  status: { phase: "Running" },
});

export const firewallFeed = (name: string, spec: Record<string, unknown>): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "FirewallFeed",
  metadata: { name },
  spec,
});

export const inputs = (o: Partial<FeedInputs>): FeedInputs => ({
  pools: [],
  gateways: [],
  namespaces: [],
  pods: [],
  firewallFeeds: [],
  ...o,
});
