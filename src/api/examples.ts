// Valid example objects of every kind, as a user would write them (before defaults).
// Used by tests here and handy for other modules' tests.
import type { Resource } from "./meta.js";
import type { Secret } from "./schemas/core.js";

export const EXAMPLES: Record<string, Resource> = {
  IPPool: {
    apiVersion: "egw.dev/v1",
    kind: "IPPool",
    metadata: { name: "egress-a" },
    spec: { cidr: "10.10.0.0/24", allowedUses: ["EgressGateway"], blockSize: 32, nodeSelector: "!all()" },
  },
  EgressGateway: {
    apiVersion: "egw.dev/v1",
    kind: "EgressGateway",
    metadata: { name: "gw", namespace: "payments", labels: { team: "payments" } },
    spec: {
      replicas: 2,
      ipPools: [{ name: "egress-a" }, { cidr: "10.10.1.0/24" }],
      template: {
        metadata: { labels: { "egress-code": "red" } },
        spec: { nodeSelector: { "kubernetes.io/os": "linux" }, terminationGracePeriodSeconds: 0 },
      },
      failureDetection: {
        icmpProbe: { ips: ["198.18.0.1"], intervalMs: 1000, timeoutMs: 3000 },
        httpProbe: { urls: ["http://198.18.0.2:8080/"] },
      },
    },
    status: {
      replicas: [{ name: "gw-0", node: "node-1", egressIP: "10.10.0.5", ready: true }],
      conditions: [{ type: "Ready", status: "True", reason: "AllReplicasReady" }],
    },
  },
  EgressGatewayPolicy: {
    apiVersion: "egw.dev/v1",
    kind: "EgressGatewayPolicy",
    metadata: { name: "by-destination" },
    spec: {
      rules: [
        { destination: { cidr: "10.0.0.0/8" }, description: "on-prem: no gateway" },
        {
          destination: { cidr: "198.18.0.0/15" },
          gateway: {
            selector: "egress-code == 'red'",
            namespaceSelector: "kubernetes.io/metadata.name == 'payments'",
            maxNextHops: 1,
          },
        },
        {
          gateway: { selector: "egress-code == 'blue'", namespaceSelector: "all()" },
          gatewayPreference: "PreferNodeLocal",
        },
      ],
    },
  },
  Tier: { apiVersion: "egw.dev/v1", kind: "Tier", metadata: { name: "security" }, spec: { order: 100 } },
  NetworkPolicy: {
    apiVersion: "egw.dev/v1",
    kind: "NetworkPolicy",
    metadata: { name: "allow-db", namespace: "payments" },
    spec: {
      tier: "security",
      order: 10,
      selector: "app == 'api'",
      types: ["Egress"],
      egress: [
        {
          action: "Allow",
          protocol: "TCP",
          destination: { nets: ["198.18.1.0/24", "198.18.2.7"], ports: [5432, "8000:8080"] },
        },
        {
          action: "Allow",
          protocol: "UDP",
          destination: { selector: "k8s-app == 'kube-dns'", namespaceSelector: "all()", ports: [53] },
        },
        { action: "Allow", destination: { domains: ["*.example.com", "api.example.org"] } },
        {
          action: "Log",
          protocol: 17,
          ipVersion: 4,
          destination: { notNets: ["10.0.0.0/8"], notPorts: ["1:1023"] },
        },
        { action: "Deny" },
      ],
    },
  },
  GlobalNetworkPolicy: {
    apiVersion: "egw.dev/v1",
    kind: "GlobalNetworkPolicy",
    metadata: { name: "default-deny" },
    spec: {
      namespaceSelector: "kubernetes.io/metadata.name not in {'kube-system'}",
      types: ["Egress"],
      egress: [
        { action: "Allow", destination: { selector: "role == 'trusted'", namespaceSelector: "global()" } },
        { action: "Allow", protocol: "ICMPv6", ipVersion: 6, destination: { nets: ["2001:db8::/32"] } },
        { action: "Pass" },
      ],
    },
  },
  GlobalNetworkSet: {
    apiVersion: "egw.dev/v1",
    kind: "GlobalNetworkSet",
    metadata: { name: "trusted", labels: { role: "trusted" } },
    spec: { nets: ["198.51.100.0/24", "2001:db8:1::/48"] },
  },
  Namespace: {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: "payments",
      annotations: { "egress.egw.dev/selector": "egress-code == 'red'", "egress.egw.dev/maxNextHops": "1" },
    },
  },
  Pod: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "api-1", namespace: "payments", labels: { app: "api" } },
    spec: { nodeName: "node-1", containers: [{ name: "api", image: "busybox", args: ["sleep", "1d"] }] },
    status: { phase: "Running", podIP: "10.244.1.5", hostInterface: "egw1a2b3c4d" },
  },
  Node: {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "node-1" } },
    spec: { podCIDR: "10.244.1.0/24" },
    status: {
      addresses: [
        { type: "InternalIP", address: "172.30.0.11" },
        { type: "Hostname", address: "node-1" },
      ],
      bgp: {
        configApplied: true,
        announced: ["10.10.0.5/32"],
        peers: [
          {
            name: "lab-router",
            peerIP: "172.30.0.1",
            state: "Established",
            since: "2026-01-01T12:00:00.000Z",
            bfd: "Up",
            prefixesAnnounced: 1,
          },
        ],
      },
    },
  },
  // A Secret's payload is beside metadata, not in spec, as in Kubernetes.
  Secret: {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "bgp-secret", namespace: "egw-system" },
    type: "Opaque",
    data: { password: "czNjcjN0" },
    stringData: { token: "feed-token" },
  } satisfies Secret as Resource,
  BGPConfiguration: {
    apiVersion: "egw.dev/v1",
    kind: "BGPConfiguration",
    metadata: { name: "default" },
    spec: {
      asNumber: 64512,
      communities: [
        { name: "egress", value: "64512:100" },
        { name: "site", value: "4200000000:1:2" },
      ],
      advertise: { ipPools: ["egress-a"], communities: ["egress", "65000:7"] },
      bfd: { minIntervalMs: 200 },
    },
  },
  BGPPeer: {
    apiVersion: "egw.dev/v1",
    kind: "BGPPeer",
    metadata: { name: "lab-router" },
    spec: {
      peerIP: "172.30.0.1",
      asNumber: 64513,
      nodeSelector: "all()",
      password: { secretKeyRef: { name: "bgp-secret", key: "password" } },
    },
  },
  FirewallFeed: {
    apiVersion: "egw.dev/v1",
    kind: "FirewallFeed",
    metadata: { name: "payments-db" },
    spec: {
      selector: "team == 'payments'",
      namespaceSelector: "kubernetes.io/metadata.name == 'payments'",
      formats: ["paloalto", "json"],
      publishDelaySeconds: 10,
      auth: { bearerTokenSecretRef: { name: "feeds", key: "token" } },
    },
    status: {
      url: "http://172.30.0.2:8080/feeds/custom/payments-db",
      entries: 2,
      lastChange: "2026-01-01T12:00:00.000Z",
    },
  },
  Lease: {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "egw-agent-node-1", namespace: "egw-system" },
    spec: {
      holderIdentity: "node-1",
      leaseDurationSeconds: 10,
      acquireTime: "2026-01-01T12:00:00.000Z",
      renewTime: "2026-01-01T12:00:02.000Z",
    },
  },
  IPAllocation: {
    apiVersion: "egw.dev/v1",
    kind: "IPAllocation",
    metadata: { name: "egress-a-10-10-0-5" },
    spec: {
      pool: "egress-a",
      ip: "10.10.0.5",
      owner: { namespace: "payments", gateway: "gw", replica: "gw-0" },
    },
  },
};
