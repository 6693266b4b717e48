// AccessPlan: the egress access policy of a set of workloads (one node's, or one pod's for
// explain) resolved to concrete data — what dataplane/render-policy.ts compiles to nft and what
// evaluate.ts interprets. Plain data, no selectors: destination selectors are already pod IPs.
import type { AccessPolicyKind } from "./inputs.js";
import type { PortRange, RuleAction } from "./parse.js";

export interface AccessWorkload {
  /** "<namespace>/<pod name>". */
  key: string;
  /** Host side of the pod's veth ("" when the pod has none yet, e.g. explain of a Pending pod). */
  hostInterface: string;
}

/** One egress rule; every present field must match (an absent field matches anything). */
export interface AccessRule {
  /** Position in the policy's spec.egress. */
  index: number;
  action: RuleAction;
  /** IP protocol number. */
  protocol?: number;
  notProtocol?: number;
  ipVersion?: 4 | 6;
  /** Destination must be in one of these canonical IPv4 CIDRs. */
  nets?: string[];
  /** Destination must be one of these: the current IPs of the pods (as /32) and the nets of the
   * GlobalNetworkSets the rule's selector + namespaceSelector pick. Empty = nothing matches. */
  selected?: string[];
  notNets?: string[];
  ports?: PortRange[];
  notPorts?: PortRange[];
  /** The rule matches no IPv4 traffic, and why. */
  never?: string;
  /** The rule failed validation and denies everything (fail closed), and why. */
  invalid?: string;
}

export interface AccessPolicy {
  kind: AccessPolicyKind;
  namespace?: string;
  name: string;
  /** accessPolicyKey: `np:<ns>/<name>` or `gnp:<name>`. */
  key: string;
  order?: number;
  /** The workloads (of this plan) the policy selects, sorted by key. */
  appliesTo: AccessWorkload[];
  rules: AccessRule[];
}

export interface AccessTier {
  name: string;
  order?: number;
  defaultAction: "Deny" | "Pass";
  /** Only policies that apply to at least one workload of the plan, in evaluation order. */
  policies: AccessPolicy[];
}

export interface AccessPlan {
  /** Only tiers with at least one applying policy, in evaluation order. */
  tiers: AccessTier[];
  /** Invalid policies and tiers, one line each (for status and the agent log). */
  problems: string[];
}
