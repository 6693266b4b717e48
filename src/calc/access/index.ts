// Egress access policy (Calico's tiers and policies): parse, resolve to an AccessPlan, evaluate.
export { computeAccessPlan, DEFAULT_TIER_ORDER } from "./compute.js";
export {
  describeVerdict,
  evaluateAccess,
  evaluateEgress,
  ruleMatches,
  type Connection,
  type Decision,
  type RuleRef,
  type Verdict,
} from "./evaluate.js";
export * from "./inputs.js";
export {
  DEFAULT_TIER,
  hasEgressType,
  parseAccessPolicy,
  parsePort,
  protocolNumber,
  PORT_PROTOCOLS,
  type ParsedAccessPolicy,
  type ParsedAccessRule,
  type PortRange,
  type RuleAction,
} from "./parse.js";
export type * from "./plan.js";
