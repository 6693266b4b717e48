// Public surface of the dataplane module.
export * from "./config.js";
export type * from "./model.js";
export { localRunner, netnsRunner, type Runner, type RunResult } from "./runner.js";
export { renderNode, nodeSysctls, type NodeRender, type NodeDesired } from "./render-node.js";
export {
  renderGateway,
  type GatewayReplicaPlan,
  type GatewayNode,
  type GatewayRender,
} from "./render-gateway.js";
export {
  NodeDataplane,
  planRoutingChanges,
  type AdoptedKernelState,
  type NodeDataplanePort,
  type NodeReconcileReport,
  type ReconcileReport,
} from "./node-dataplane.js";
export { GatewayDataplane } from "./gateway-dataplane.js";
export { FakeNodeDataplane } from "./fake.js";
export {
  gatewayGroupsOf,
  groupsBySet,
  type KernelGatewayGroup,
  type TableGatewayGroup,
} from "./kernel-groups.js";
export { kernelPlanOf, type KernelNodePlan, type KernelPlan, type SlottedGatewaySet } from "./kernel-plan.js";
export { assignSlots, preferredSlots, GatewaySetSlots, type SlotAssignment } from "./slots.js";
export { diffRouting, diffPeers, countChanges, type Changes } from "./diff.js";
export {
  renderAccessPlan,
  type CompiledAccessPolicy,
  nflogPrefix,
  counterRef,
  ruleComment,
  tierDefaultComment,
  POLICY_NFLOG_GROUP,
  NFLOG_PREFIX_MAX,
} from "./render-policy.js";
export {
  parsePolicyCounters,
  sumCounters,
  countersOfPolicy,
  readPolicyCounters,
  type RuleCounter,
} from "./policy-counters.js";
