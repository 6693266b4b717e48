// Builders of access-policy inputs for tests and benchmarks (plain objects shaped like the api/
// resources).
import type {
  AccessPolicySpecInput,
  AccessRuleInput,
  GlobalNetworkSetInput,
  NetworkPolicyInput,
  TierInput,
} from "./inputs.js";

export const tier = (name: string, order?: number, defaultAction?: "Deny" | "Pass"): TierInput => ({
  metadata: { name },
  spec: { ...(order !== undefined ? { order } : {}), ...(defaultAction ? { defaultAction } : {}) },
});

export const networkPolicy = (
  namespace: string,
  name: string,
  spec: AccessPolicySpecInput,
): NetworkPolicyInput => ({ metadata: { name, namespace }, spec });

export const globalNetworkPolicy = (name: string, spec: AccessPolicySpecInput): NetworkPolicyInput => ({
  metadata: { name },
  spec,
});

export const globalNetworkSet = (
  name: string,
  labels: Record<string, string>,
  nets: string[],
): GlobalNetworkSetInput => ({ metadata: { name, labels }, spec: { nets } });

export const allow = (
  destination?: AccessRuleInput["destination"],
  protocol?: string | number,
): AccessRuleInput => ({
  action: "Allow",
  ...(protocol !== undefined ? { protocol } : {}),
  ...(destination ? { destination } : {}),
});

export const deny = (
  destination?: AccessRuleInput["destination"],
  protocol?: string | number,
): AccessRuleInput => ({
  action: "Deny",
  ...(protocol !== undefined ? { protocol } : {}),
  ...(destination ? { destination } : {}),
});
