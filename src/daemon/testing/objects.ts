// Builders of stored objects (full Resources with apiVersion and kind) for the agent and gateway
// tests: what the lab runtime, the controller and users would write into the datastore.
import type { Resource } from "../../api/meta.js";
import {
  ANN_EGRESS_NAMESPACE_SELECTOR,
  ANN_EGRESS_SELECTOR,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  LABEL_GATEWAY,
  LABEL_NAMESPACE_NAME,
} from "../../api/well-known.js";

export const node = (name: string, ip: string, podCIDR?: string): Resource => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name },
  ...(podCIDR === undefined ? {} : { spec: { podCIDR, podCIDRs: [podCIDR] } }),
  status: { addresses: [{ type: "InternalIP", address: ip }] },
});

export const namespace = (name: string, annotations?: Record<string, string>): Resource => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: { [LABEL_NAMESPACE_NAME]: name }, ...(annotations ? { annotations } : {}) },
});

export const ipPool = (name: string, cidr: string, allowedUses: string[] = ["Workload"]): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name },
  spec: { cidr, allowedUses },
});

export interface PodOptions {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  hostInterface?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export const pod = (o: PodOptions): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: o.name,
    namespace: o.namespace,
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.annotations ? { annotations: o.annotations } : {}),
  },
  spec: { nodeName: o.node },
  status: { phase: "Running", podIP: o.ip, ...(o.hostInterface ? { hostInterface: o.hostInterface } : {}) },
});

/** A workload selecting the replicas of EgressGateway `gateway` in namespace `gatewayNamespace`. */
export const clientPod = (o: PodOptions & { gateway: string; gatewayNamespace: string }): Resource =>
  pod({
    ...o,
    annotations: {
      [ANN_EGRESS_SELECTOR]: `${LABEL_GATEWAY} == '${o.gateway}'`,
      [ANN_EGRESS_NAMESPACE_SELECTOR]: `${LABEL_NAMESPACE_NAME} == '${o.gatewayNamespace}'`,
      ...o.annotations,
    },
  });

/** A gateway replica as the controller creates it. */
export const gatewayPod = (o: PodOptions & { gateway: string; egressIP: string }): Resource =>
  pod({
    ...o,
    labels: { [LABEL_GATEWAY]: o.gateway, ...o.labels },
    annotations: {
      [ANN_GATEWAY_OWNER]: `${o.namespace}/${o.gateway}`,
      [ANN_GATEWAY_EGRESS_IP]: o.egressIP,
      ...o.annotations,
    },
  });

export const egressGateway = (namespace: string, name: string, failureDetection?: unknown): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name, namespace },
  spec: { replicas: 2, ipPools: [{ name: "egress" }], ...(failureDetection ? { failureDetection } : {}) },
});
