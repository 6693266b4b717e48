// The core v1 objects egw reads: Namespace, Pod, Node, Secret. Only the fields egw uses are modelled.
import { Type, type Static } from "@sinclair/typebox";
import { CORE_API_VERSION } from "../kinds.js";
import { ConditionSchema, header, LooseObject, StringEnum, StringMap, Strict } from "./common.js";

export const NamespaceSchema = Strict({
  ...header(CORE_API_VERSION, "Namespace"),
  spec: Type.Optional(Strict({ finalizers: Type.Optional(Type.Array(Type.String())) })),
  status: Type.Optional(Strict({ phase: Type.Optional(StringEnum(["Active", "Terminating"])) })),
});

/** A Pod or Node condition (Pod Ready, Node EgwAgentReady): Kubernetes' core conditions have no observedGeneration. */
const CoreConditionSchema = Type.Omit(ConditionSchema, ["observedGeneration"]);

export const PodSchema = Strict({
  ...header(CORE_API_VERSION, "Pod"),
  // The Pod belongs to Kubernetes, not egw: fields egw does not read are accepted as they are, so
  // a real manifest (restartPolicy, volumes, …) applies unchanged.
  spec: Type.Optional(
    Type.Object(
      {
        nodeName: Type.Optional(Type.String()),
        containers: Type.Optional(Type.Array(LooseObject("Not interpreted by egw"))),
      },
      { additionalProperties: true },
    ),
  ),
  status: Type.Optional(
    Strict({
      phase: Type.Optional(StringEnum(["Pending", "Running", "Succeeded", "Failed", "Unknown"])),
      podIP: Type.Optional(Type.String()),
      hostIP: Type.Optional(Type.String()),
      hostInterface: Type.Optional(Type.String({ description: "Host side of the pod's veth" })),
      reason: Type.Optional(Type.String({ description: "Why the pod is Pending or Failed" })),
      message: Type.Optional(Type.String()),
      conditions: Type.Optional(Type.Array(CoreConditionSchema)),
    }),
  ),
});

export const NODE_ADDRESS_TYPES = [
  "InternalIP",
  "ExternalIP",
  "Hostname",
  "InternalDNS",
  "ExternalDNS",
] as const;

/** BGP session states as `birdc show protocols` reports them (BIRD's Close and Start map to Idle). */
export const BGP_SESSION_STATES = [
  "Established",
  "Idle",
  "Connect",
  "Active",
  "OpenSent",
  "OpenConfirm",
  "Down",
] as const;
export const BFD_SESSION_STATES = ["Up", "Down", "Off"] as const;

export const NodeBgpPeerStatusSchema = Strict({
  name: Type.String({ description: "The BGPPeer" }),
  peerIP: Type.String(),
  state: StringEnum(BGP_SESSION_STATES, {
    description: "BGP state; Down = the session is disabled or failed",
  }),
  since: Type.Optional(Type.String({ description: "RFC 3339 time of the last state change" })),
  bfd: Type.Optional(
    StringEnum(BFD_SESSION_STATES, { description: "The session's BFD state; Off = BFD not used" }),
  ),
  prefixesAnnounced: Type.Optional(Type.Integer({ minimum: 0, description: "Routes exported to the peer" })),
  info: Type.Optional(Type.String({ description: "BIRD's last error or info text for the session" })),
});

export const NodeBgpStatusSchema = Strict(
  {
    configApplied: Type.Boolean({
      description:
        "false: BIRD rejected the last rendered config (see error); the last good one stays in force",
    }),
    error: Type.Optional(Type.String({ description: "Why BIRD rejected the last config" })),
    announced: Type.Optional(
      Type.Array(Type.String(), { description: "Prefixes (egress IP /32s) this node announces" }),
    ),
    peers: Type.Optional(Type.Array(NodeBgpPeerStatusSchema)),
  },
  "The node's BGP speaker, written by its egw agent from BIRD's state",
);

export const NodeSchema = Strict({
  ...header(CORE_API_VERSION, "Node"),
  spec: Type.Optional(
    Strict({
      podCIDR: Type.Optional(Type.String()),
      podCIDRs: Type.Optional(Type.Array(Type.String())),
      unschedulable: Type.Optional(
        Type.Boolean({
          description: "Cordoned (egw cordon/drain node): no new gateway replica is placed here",
        }),
      ),
    }),
  ),
  status: Type.Optional(
    Strict({
      addresses: Type.Optional(
        Type.Array(Strict({ type: StringEnum(NODE_ADDRESS_TYPES), address: Type.String() })),
      ),
      conditions: Type.Optional(
        Type.Array(CoreConditionSchema, { description: "EgwAgentReady: written by the node's egw agent" }),
      ),
      bgp: Type.Optional(NodeBgpStatusSchema),
      gatewayLiveness: Type.Optional(
        Type.Array(
          Strict({
            replica: Type.String({ description: "namespace/pod of the gateway replica" }),
            state: StringEnum(["Up", "Down", "Draining", "Held"]),
            since: Type.String({ description: "ISO-8601 time of the last state change" }),
            reason: Type.Optional(Type.String()),
          }),
          {
            description:
              "The node's egw agent's liveness sessions with gateway replicas (written at most once a second)",
          },
        ),
      ),
    }),
  ),
});

/**
 * A core Secret, as BGPPeer passwords and FirewallFeed credentials reference them (namespace
 * egw-system). `data` values are base64; `stringData` values are plain text and win over `data`
 * for the same key (Kubernetes merges them on write; egw stores both as written and merges on read).
 */
export const SecretSchema = Strict({
  ...header(CORE_API_VERSION, "Secret"),
  type: Type.Optional(Type.String({ description: "e.g. Opaque, kubernetes.io/basic-auth; not interpreted" })),
  data: Type.Optional(StringMap("Base64-encoded values by key")),
  stringData: Type.Optional(StringMap("Plain-text values by key")),
  immutable: Type.Optional(Type.Boolean()),
});

export type Namespace = Static<typeof NamespaceSchema>;
export type Pod = Static<typeof PodSchema>;
export type Node = Static<typeof NodeSchema>;
export type NodeBgpStatus = Static<typeof NodeBgpStatusSchema>;
export type NodeBgpPeerStatus = Static<typeof NodeBgpPeerStatusSchema>;
export type BgpSessionState = (typeof BGP_SESSION_STATES)[number];
export type Secret = Static<typeof SecretSchema>;
