// The core v1 objects egw reads: Namespace, Pod, Node. Only the fields egw uses are modelled.
import { Type, type Static } from "@sinclair/typebox";
import { CORE_API_VERSION } from "../kinds.js";
import { ConditionSchema, header, LooseObject, StringEnum, Strict } from "./common.js";

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

export type Namespace = Static<typeof NamespaceSchema>;
export type Pod = Static<typeof PodSchema>;
export type Node = Static<typeof NodeSchema>;
