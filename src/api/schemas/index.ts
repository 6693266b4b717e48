// One schema per kind: the single source of the TS types, runtime validation and CRD schemas.
import type { TSchema } from "@sinclair/typebox";
import { NamespaceSchema, NodeSchema, PodSchema } from "./core.js";
import {
  EgressGatewayPolicySchema,
  EgressGatewaySchema,
  IPAllocationSchema,
  IPPoolSchema,
} from "./egress.js";
import {
  GlobalNetworkPolicySchema,
  GlobalNetworkSetSchema,
  NetworkPolicySchema,
  TierSchema,
} from "./policy.js";

export * from "./common.js";
export * from "./core.js";
export * from "./egress.js";
export * from "./policy.js";

/** Schema of each kind in kinds.ts, by kind name. */
export const SCHEMAS: Readonly<Record<string, TSchema>> = {
  IPPool: IPPoolSchema,
  EgressGateway: EgressGatewaySchema,
  EgressGatewayPolicy: EgressGatewayPolicySchema,
  Tier: TierSchema,
  NetworkPolicy: NetworkPolicySchema,
  GlobalNetworkPolicy: GlobalNetworkPolicySchema,
  GlobalNetworkSet: GlobalNetworkSetSchema,
  Namespace: NamespaceSchema,
  Pod: PodSchema,
  Node: NodeSchema,
  IPAllocation: IPAllocationSchema,
};
