// Annotation and label keys egw reads or writes, in one place.

/** Workload annotations (on a Namespace or a Pod; the pod's own wins). */
export const ANN_EGRESS_SELECTOR = "egress.egw.dev/selector";
export const ANN_EGRESS_NAMESPACE_SELECTOR = "egress.egw.dev/namespaceSelector";
export const ANN_EGRESS_MAX_NEXT_HOPS = "egress.egw.dev/maxNextHops";
export const ANN_EGRESS_GATEWAY_POLICY = "egress.egw.dev/egressGatewayPolicy";
/** None | PreferNodeLocal | PreferSameZone, for the gateways the selector annotation picks. */
export const ANN_EGRESS_GATEWAY_PREFERENCE = "egress.egw.dev/gatewayPreference";

/** Set by Kubernetes (and the lab) on every Namespace. */
export const LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name";

/** The zone of a Node (cloud providers set it; `egw up --zones N` in the lab). */
export const LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone";

/** Default label a gateway's replicas carry (template.metadata.labels when unset). */
export const LABEL_GATEWAY = "egw.dev/gateway";

/**
 * Gateway replicas are Pods (as a Deployment's pods would be). The controller marks them with
 * these annotations; only pods carrying ANN_GATEWAY_EGRESS_IP can be chosen as gateways.
 */
export const ANN_GATEWAY_OWNER = "egw.dev/gateway-owner"; // "<namespace>/<EgressGateway name>"
export const ANN_GATEWAY_EGRESS_IP = "egw.dev/egress-ip";
/** Set while a replica drains (graceful termination): no new connections are steered to it. */
export const ANN_GATEWAY_TERMINATING = "egw.dev/terminating";
/** When that drain began (ISO-8601): the start of the clients' maintenance window. */
export const ANN_GATEWAY_DRAIN_STARTED = "egw.dev/drain-started";
/** Hash of the template (labels, annotations) a replica was made from; another hash = outdated. */
export const ANN_GATEWAY_TEMPLATE_HASH = "egw.dev/template-hash";
/**
 * On a new replica pod when FirewallFeeds covering its gateway have a publishDelaySeconds: its
 * egress IP is in those feeds from the pod's creation, and the replica reports Ready no earlier
 * than this time (RFC 3339), so firewalls that poll have fetched it before any client uses it.
 */
export const ANN_GATEWAY_USABLE_AFTER = "egress.egw.dev/usableAfter";

/**
 * Written by the agent on a client pod while a gateway replica it uses drains (Calico's names, in
 * egw's prefix): the replica's egress IP and the window (RFC 3339), so an application can
 * reconnect early, e.g. reading them through the downward API. Removed once no replica it uses
 * drains.
 */
export const ANN_MAINTENANCE_GATEWAY_IP = "egress.egw.dev/gatewayMaintenanceGatewayIP";
export const ANN_MAINTENANCE_STARTED = "egress.egw.dev/gatewayMaintenanceStartedTimestamp";
export const ANN_MAINTENANCE_FINISHED = "egress.egw.dev/gatewayMaintenanceFinishedTimestamp";

/** Calico-compatible defaults for the egress tunnel. */
export const EGRESS_VXLAN_VNI = 4097;
export const EGRESS_VXLAN_PORT = 4790;
export const GATEWAY_HEALTH_PORT = 8080;

/** Node condition the agent writes: True while the node's egress dataplane is programmed. */
export const CONDITION_AGENT_READY = "EgwAgentReady";

/**
 * Node liveness: each agent renews the Lease `<NODE_LEASE_PREFIX><node>` in NODE_LEASE_NAMESPACE;
 * the controller writes CONDITION_NODE_REACHABLE on the Node (False, reason LeaseExpired, once the
 * lease was not renewed for its node-lost time; True, reason LeaseRenewed, when it is renewed).
 * A condition type of its own: EgwAgentReady belongs to the agent, which writes it only when its
 * own health changes, so the controller writing it would leave it stale after a recovery.
 */
export const NODE_LEASE_NAMESPACE = "egw-system";
export const NODE_LEASE_PREFIX = "egw-agent-";
export const CONDITION_NODE_REACHABLE = "EgwNodeReachable";
export const REASON_LEASE_EXPIRED = "LeaseExpired";
export const REASON_LEASE_RENEWED = "LeaseRenewed";

export const nodeLeaseName = (node: string): string => `${NODE_LEASE_PREFIX}${node}`;

/**
 * Where the Secrets that cluster-scoped egw objects refer to live (BGPPeer passwords, FirewallFeed
 * credentials): the namespace the egw daemons run in, as calico-node reads BGP passwords from its own.
 */
export const SECRET_NAMESPACE = "egw-system";
