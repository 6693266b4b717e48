// The access-policy resource shapes calc reads: structural subsets of api/schemas/policy.ts, so
// calc depends on no schema module (any Tier, NetworkPolicy… object from the datastore fits).
import type { MetaInput } from "../inputs.js";

export type PortInput = number | string;

export interface EntityRuleInput {
  readonly nets?: readonly string[];
  readonly notNets?: readonly string[];
  readonly selector?: string;
  readonly namespaceSelector?: string;
  readonly ports?: readonly PortInput[];
  readonly notPorts?: readonly PortInput[];
  readonly domains?: readonly string[];
}

export interface AccessRuleInput {
  readonly action: string;
  readonly protocol?: string | number;
  readonly notProtocol?: string | number;
  readonly ipVersion?: number;
  readonly destination?: EntityRuleInput;
}

export interface AccessPolicySpecInput {
  readonly tier?: string;
  readonly order?: number;
  readonly selector?: string;
  /** GlobalNetworkPolicy only. */
  readonly namespaceSelector?: string;
  readonly types?: readonly string[];
  readonly egress?: readonly AccessRuleInput[];
}

export interface NetworkPolicyInput {
  readonly metadata: MetaInput;
  readonly spec?: AccessPolicySpecInput;
}

export type GlobalNetworkPolicyInput = NetworkPolicyInput;

export interface TierInput {
  readonly metadata: MetaInput;
  readonly spec?: { readonly order?: number; readonly defaultAction?: string };
}

export interface GlobalNetworkSetInput {
  readonly metadata: MetaInput;
  readonly spec?: { readonly nets?: readonly string[] };
}

export type AccessPolicyKind = "NetworkPolicy" | "GlobalNetworkPolicy";

/** Stable short identity of a policy: `np:<namespace>/<name>` or `gnp:<name>` (counters, logs). */
export const accessPolicyKey = (
  kind: AccessPolicyKind,
  namespace: string | undefined,
  name: string,
): string => (kind === "NetworkPolicy" ? `np:${namespace ?? "default"}/${name}` : `gnp:${name}`);
