// calc/: pure functions from a snapshot of resources to a NodePlan. No I/O, no clocks.
export { effectiveEgressConfig, type ConfigLevel, type EgressConfig } from "./effective-config.js";
export {
  explainWorkload,
  type DestinationExplanation,
  type GatewayChoiceExplanation,
  type GatewayExplanation,
  type WorkloadExplanation,
} from "./explain.js";
export { resolveWorkloadEgress, type GatewayReplica, type WorkloadEgress } from "./gateway-selection.js";
export * from "./inputs.js";
export { macForIp } from "./mac.js";
export { computeNodePlan } from "./node-plan.js";
export type * from "./plan.js";
export { parsePolicy, type ParsedPolicy } from "./policy.js";
export { ClusterIndex, isGatewayPod, type Snapshot } from "./snapshot.js";
export * from "./access/index.js";
