// Calico's egress access-policy model: Tier, NetworkPolicy, GlobalNetworkPolicy, GlobalNetworkSet.
import { Type, type Static } from "@sinclair/typebox";
import { EGW_API_VERSION } from "../kinds.js";
import { header, StringEnum, Strict } from "./common.js";

export const RULE_ACTIONS = ["Allow", "Deny", "Log", "Pass"] as const;
export const PROTOCOL_NAMES = ["TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"] as const;
export const POLICY_TYPES = ["Ingress", "Egress"] as const;

const ProtocolSchema = Type.Union([StringEnum(PROTOCOL_NAMES), Type.Integer({ minimum: 1, maximum: 255 })], {
  expected: `one of ${PROTOCOL_NAMES.join(", ")} or a protocol number 1-255`,
});

const PortSchema = Type.Union([Type.Integer(), Type.String()], {
  expected: 'a port number 1-65535 or a range string "lo:hi"',
});

export const EntityRuleSchema = Strict({
  nets: Type.Optional(
    Type.Array(Type.String(), { description: "CIDRs (or addresses); do not mix IPv4 and IPv6" }),
  ),
  notNets: Type.Optional(Type.Array(Type.String())),
  selector: Type.Optional(Type.String({ description: "Selects pods or GlobalNetworkSets by label" })),
  namespaceSelector: Type.Optional(
    Type.String({ description: "Scopes selector; global() selects non-namespaced sets" }),
  ),
  ports: Type.Optional(Type.Array(PortSchema)),
  notPorts: Type.Optional(Type.Array(PortSchema)),
  domains: Type.Optional(
    Type.Array(Type.String(), {
      description: "Allow rules only, without nets or selector; *.example.com allowed",
    }),
  ),
});

export const RuleSchema = Strict({
  action: StringEnum(RULE_ACTIONS),
  protocol: Type.Optional(ProtocolSchema),
  notProtocol: Type.Optional(ProtocolSchema),
  ipVersion: Type.Optional(Type.Unsafe<4 | 6>({ type: "integer", enum: [4, 6] })),
  destination: Type.Optional(EntityRuleSchema),
});

export const TierSchema = Strict({
  ...header(EGW_API_VERSION, "Tier"),
  spec: Type.Optional(
    Strict({
      order: Type.Optional(Type.Number({ description: "Lowest first; unset = last" })),
      defaultAction: Type.Optional(StringEnum(["Deny", "Pass"], { description: "Default Deny" })),
    }),
  ),
});

const policySpecFields = {
  tier: Type.Optional(Type.String({ description: "Default: default" })),
  order: Type.Optional(Type.Number({ description: "Lowest first within the tier; unset = last" })),
  selector: Type.Optional(Type.String({ description: "Workloads the policy applies to; default all()" })),
  types: Type.Optional(Type.Array(StringEnum(POLICY_TYPES), { uniqueItems: true })),
  egress: Type.Optional(Type.Array(RuleSchema)),
};

export const NetworkPolicySpecSchema = Strict(policySpecFields);
export const GlobalNetworkPolicySpecSchema = Strict({
  ...policySpecFields,
  namespaceSelector: Type.Optional(
    Type.String({ description: "Namespaces whose workloads the policy applies to" }),
  ),
});

export const NetworkPolicySchema = Strict({
  ...header(EGW_API_VERSION, "NetworkPolicy"),
  spec: NetworkPolicySpecSchema,
});

export const GlobalNetworkPolicySchema = Strict({
  ...header(EGW_API_VERSION, "GlobalNetworkPolicy"),
  spec: GlobalNetworkPolicySpecSchema,
});

export const GlobalNetworkSetSchema = Strict({
  ...header(EGW_API_VERSION, "GlobalNetworkSet"),
  spec: Type.Optional(Strict({ nets: Type.Optional(Type.Array(Type.String())) })),
});

export type EntityRule = Static<typeof EntityRuleSchema>;
export type Rule = Static<typeof RuleSchema>;
export type Tier = Static<typeof TierSchema>;
export type NetworkPolicySpec = Static<typeof NetworkPolicySpecSchema>;
export type NetworkPolicy = Static<typeof NetworkPolicySchema>;
export type GlobalNetworkPolicySpec = Static<typeof GlobalNetworkPolicySpecSchema>;
export type GlobalNetworkPolicy = Static<typeof GlobalNetworkPolicySchema>;
export type GlobalNetworkSet = Static<typeof GlobalNetworkSetSchema>;
