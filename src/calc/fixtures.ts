// Builders of calc inputs for tests and benchmarks (plain objects shaped like the api/ resources),
// and a deterministic synthetic cluster generator.
import {
  ANN_EGRESS_GATEWAY_POLICY,
  ANN_EGRESS_GATEWAY_PREFERENCE,
  ANN_EGRESS_MAX_NEXT_HOPS,
  ANN_EGRESS_NAMESPACE_SELECTOR,
  ANN_EGRESS_SELECTOR,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
  LABEL_GATEWAY,
  LABEL_NAMESPACE_NAME,
} from "../api/well-known.js";
import type {
  EgressGatewayPolicyInput,
  IPPoolInput,
  NamespaceInput,
  NodeInput,
  PodInput,
  PolicyRuleInput,
} from "./inputs.js";
import type { Snapshot } from "./snapshot.js";
import { formatIpv4Number as ipv4 } from "../util/ip.js";
import { seededRandom } from "../util/random.js";

const V4 = (a: number, b: number, c: number, d: number): number =>
  ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

export function makeNode(name: string, ip: string): NodeInput {
  return { metadata: { name }, status: { addresses: [{ type: "InternalIP", address: ip }] } };
}

export function makeNamespace(
  name: string,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): NamespaceInput {
  return {
    metadata: {
      name,
      labels: { [LABEL_NAMESPACE_NAME]: name, ...opts.labels },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
  };
}

export interface WorkloadOptions {
  node: string;
  ip: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  phase?: string;
  hostInterface?: string;
}

export function makeWorkload(namespace: string, name: string, opts: WorkloadOptions): PodInput {
  return {
    metadata: {
      name,
      namespace,
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: { nodeName: opts.node },
    status: {
      phase: opts.phase ?? "Running",
      podIP: opts.ip,
      hostInterface: opts.hostInterface ?? `egw${name}`.slice(0, 15),
    },
  };
}

export interface GatewayPodOptions {
  node: string;
  ip: string;
  egressIP: string;
  /** EgressGateway name; its label `egw.dev/gateway: <gateway>` is added. */
  gateway: string;
  labels?: Record<string, string>;
  phase?: string;
  terminating?: boolean;
}

export function makeGatewayPod(namespace: string, name: string, opts: GatewayPodOptions): PodInput {
  return {
    metadata: {
      name,
      namespace,
      labels: { [LABEL_GATEWAY]: opts.gateway, ...opts.labels },
      annotations: {
        [ANN_GATEWAY_EGRESS_IP]: opts.egressIP,
        [ANN_GATEWAY_OWNER]: `${namespace}/${opts.gateway}`,
        ...(opts.terminating ? { [ANN_GATEWAY_TERMINATING]: "true" } : {}),
      },
    },
    spec: { nodeName: opts.node },
    status: { phase: opts.phase ?? "Running", podIP: opts.ip },
  };
}

export function makePolicy(name: string, rules: PolicyRuleInput[]): EgressGatewayPolicyInput {
  return { metadata: { name }, spec: { rules } };
}

export function makeWorkloadPool(name: string, cidr: string): IPPoolInput {
  return { metadata: { name }, spec: { cidr, allowedUses: ["Workload"] } };
}

/** Annotations that select gateways by label (optionally in other namespaces). */
export function selectorAnnotations(
  selector: string,
  opts: { namespaceSelector?: string; maxNextHops?: number; gatewayPreference?: string } = {},
): Record<string, string> {
  return {
    [ANN_EGRESS_SELECTOR]: selector,
    ...(opts.namespaceSelector !== undefined
      ? { [ANN_EGRESS_NAMESPACE_SELECTOR]: opts.namespaceSelector }
      : {}),
    ...(opts.maxNextHops !== undefined ? { [ANN_EGRESS_MAX_NEXT_HOPS]: String(opts.maxNextHops) } : {}),
    ...(opts.gatewayPreference !== undefined
      ? { [ANN_EGRESS_GATEWAY_PREFERENCE]: opts.gatewayPreference }
      : {}),
  };
}

export const policyAnnotations = (policy: string): Record<string, string> => ({
  [ANN_EGRESS_GATEWAY_POLICY]: policy,
});

export interface SyntheticClusterOptions {
  nodes: number;
  pods: number;
  /** EgressGateways, one per tenant namespace `tenant-<i>`; each has `replicasPerGateway` replica pods. */
  gateways: number;
  replicasPerGateway: number;
  policies: number;
  /** This many of the pods are placed on node-0, all selected for gateways (the "big node"). */
  podsOnBigNode: number;
  seed: number;
}

/**
 * A deterministic cluster: tenant namespaces each own one EgressGateway. Namespaces are annotated
 * round-robin: 6/10 select their own gateway, 2/10 name a policy, 1/10 select the shared gateway
 * of tenant-0 with maxNextHops, 1/10 have no annotation (node SNAT). Each policy sends one /24
 * through one tenant's gateway, one /16 through no gateway and the default through another.
 */
export function syntheticCluster(o: SyntheticClusterOptions): Snapshot {
  const rand = seededRandom(o.seed);
  const nodes = Array.from({ length: o.nodes }, (_, i) =>
    makeNode(`node-${i}`, ipv4(V4(172, 16, 0, 0) + i + 1)),
  );
  const namespaces: NamespaceInput[] = [];
  for (let i = 0; i < o.gateways; i++) {
    const name = `tenant-${i}`;
    const mode = i % 10;
    const annotations =
      mode < 6
        ? selectorAnnotations(`${LABEL_GATEWAY} == 'gw-${i}'`)
        : mode < 8
          ? policyAnnotations(`policy-${i % o.policies}`)
          : mode === 8
            ? selectorAnnotations(`${LABEL_GATEWAY} == 'gw-0'`, {
                namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'tenant-0'`,
                maxNextHops: 1,
              })
            : undefined;
    namespaces.push(makeNamespace(name, annotations ? { annotations } : {}));
  }
  const pods: PodInput[] = [];
  let gwIP = V4(10, 128, 0, 1);
  let egressIP = V4(10, 10, 0, 1);
  for (let i = 0; i < o.gateways; i++) {
    for (let r = 0; r < o.replicasPerGateway; r++) {
      pods.push(
        makeGatewayPod(`tenant-${i}`, `gw-${i}-${r}`, {
          node: `node-${Math.floor(rand() * o.nodes)}`,
          ip: ipv4(gwIP++),
          egressIP: ipv4(egressIP++),
          gateway: `gw-${i}`,
        }),
      );
    }
  }
  // Egress-selected namespaces (mode 0-8) for the big node.
  const egressNamespaces = Array.from({ length: o.gateways }, (_, i) => i).filter((i) => i % 10 !== 9);
  let podIP = V4(10, 0, 0, 1);
  const workloads = o.pods - pods.length;
  for (let j = 0; j < workloads; j++) {
    const big = j < o.podsOnBigNode;
    const tenant = big ? egressNamespaces[j % egressNamespaces.length]! : Math.floor(rand() * o.gateways);
    const node = big ? 0 : 1 + Math.floor(rand() * (o.nodes - 1));
    pods.push(
      makeWorkload(`tenant-${tenant}`, `app-${j}`, {
        node: `node-${node}`,
        ip: ipv4(podIP++),
        labels: { app: `a${j % 50}` },
      }),
    );
  }
  const policies = Array.from({ length: o.policies }, (_, k) =>
    makePolicy(`policy-${k}`, [
      { destination: { cidr: `10.${100 + (k % 100)}.0.0/16` } },
      {
        destination: { cidr: `198.18.${k % 256}.0/24` },
        gateway: {
          selector: `${LABEL_GATEWAY} == 'gw-${k}'`,
          namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'tenant-${k}'`,
        },
      },
      {
        gateway: {
          selector: `${LABEL_GATEWAY} == 'gw-${(k + 1) % o.gateways}'`,
          namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'tenant-${(k + 1) % o.gateways}'`,
        },
      },
    ]),
  );
  return {
    nodes,
    namespaces,
    pods,
    egressGatewayPolicies: policies,
    ipPools: [makeWorkloadPool("workloads", "10.0.0.0/10")],
    gatewayHealth: new Map(),
  };
}
