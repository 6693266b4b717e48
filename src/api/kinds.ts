// The kinds egw knows: API group, scope and the names the CLI accepts for each.
export const EGW_API_VERSION = "egw.dev/v1";
export const CORE_API_VERSION = "v1";
/** Kubernetes' coordination group: node liveness leases. */
export const COORDINATION_API_VERSION = "coordination.k8s.io/v1";

export interface KindInfo {
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  /** lower-case plural, as in `egw get ippools` and CRD names */
  plural: string;
  shortNames: string[];
  /** Internal kinds (e.g. IPAM records) are stored but not offered to users. */
  internal?: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: "IPPool", apiVersion: EGW_API_VERSION, namespaced: false, plural: "ippools", shortNames: ["ipp"] },
  {
    kind: "EgressGateway",
    apiVersion: EGW_API_VERSION,
    namespaced: true,
    plural: "egressgateways",
    shortNames: ["egw", "egws", "eg"],
  },
  {
    kind: "EgressGatewayPolicy",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "egressgatewaypolicies",
    shortNames: ["egwp", "egp"],
  },
  { kind: "Tier", apiVersion: EGW_API_VERSION, namespaced: false, plural: "tiers", shortNames: [] },
  {
    kind: "NetworkPolicy",
    apiVersion: EGW_API_VERSION,
    namespaced: true,
    plural: "networkpolicies",
    shortNames: ["netpol", "np"],
  },
  {
    kind: "GlobalNetworkPolicy",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "globalnetworkpolicies",
    shortNames: ["gnp"],
  },
  {
    kind: "GlobalNetworkSet",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "globalnetworksets",
    shortNames: ["gns"],
  },
  {
    kind: "Namespace",
    apiVersion: CORE_API_VERSION,
    namespaced: false,
    plural: "namespaces",
    shortNames: ["ns"],
  },
  { kind: "Pod", apiVersion: CORE_API_VERSION, namespaced: true, plural: "pods", shortNames: ["po"] },
  { kind: "Node", apiVersion: CORE_API_VERSION, namespaced: false, plural: "nodes", shortNames: ["no"] },
  { kind: "Secret", apiVersion: CORE_API_VERSION, namespaced: true, plural: "secrets", shortNames: [] },
  {
    kind: "BGPConfiguration",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "bgpconfigurations",
    shortNames: ["bgpconfig", "bgpconfigs"],
  },
  {
    kind: "BGPPeer",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "bgppeers",
    shortNames: ["bgpp", "bgpps", "bp", "bps"],
  },
  {
    kind: "FirewallFeed",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "firewallfeeds",
    shortNames: ["ff", "fwfeed", "fwfeeds"],
  },
  { kind: "Lease", apiVersion: COORDINATION_API_VERSION, namespaced: true, plural: "leases", shortNames: [] },
  {
    kind: "IPAllocation",
    apiVersion: EGW_API_VERSION,
    namespaced: false,
    plural: "ipallocations",
    shortNames: [],
    internal: true,
  },
];

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind, k.plural, ...k.shortNames]) byName.set(n.toLowerCase(), k);
}

/** Resolves `egressgateway`, `EgressGateways`, `egw`, … to the kind; undefined if unknown. */
export const lookupKind = (name: string): KindInfo | undefined => byName.get(name.toLowerCase());

export const kindInfo = (kind: string): KindInfo | undefined => KINDS.find((k) => k.kind === kind);
