// The schema of every kind, by kind name: what validation, CRDs and the daemons' shape check look
// a kind up in. The schemas and their TS types are defined per group in common.ts, core.ts,
// coordination.ts, egress.ts, policy.ts and routing.ts (one schema per kind: the single source of types, validation and CRDs).
import type { TSchema } from "@sinclair/typebox";
import { LeaseSchema } from "./coordination.js";
import { NamespaceSchema, NodeSchema, PodSchema, SecretSchema } from "./core.js";
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
import { BGPConfigurationSchema, BGPPeerSchema, FirewallFeedSchema } from "./routing.js";

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
  Secret: SecretSchema,
  BGPConfiguration: BGPConfigurationSchema,
  BGPPeer: BGPPeerSchema,
  FirewallFeed: FirewallFeedSchema,
  Lease: LeaseSchema,
  IPAllocation: IPAllocationSchema,
};
