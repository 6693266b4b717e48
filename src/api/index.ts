// The resource model: schemas and types per kind, validation with field paths, defaults, CRDs.
export type { ObjectMeta, ObjectRef, Resource } from "./meta.js";
export { describeRef, refOf } from "./meta.js";
export { CORE_API_VERSION, EGW_API_VERSION, KINDS, kindInfo, lookupKind, type KindInfo } from "./kinds.js";
export { formatIssue, type ValidationIssue } from "./issues.js";
export { validateResource } from "./validate.js";
export { validateAgainst } from "./cross.js";
export { applyDefaults, DEFAULTS } from "./defaults.js";
export { allCrds, crdFor, type CustomResourceDefinition } from "./crd.js";
export { SCHEMAS } from "./schemas/index.js";
export type {
  Condition,
  EgressGateway,
  EgressGatewayPolicy,
  EgressGatewayPolicyRule,
  EgressGatewaySpec,
  EgressGatewayStatus,
  EntityRule,
  FailureDetection,
  GlobalNetworkPolicy,
  GlobalNetworkPolicySpec,
  GlobalNetworkSet,
  IPAllocation,
  IPPool,
  IPPoolSpec,
  Namespace,
  NetworkPolicy,
  NetworkPolicySpec,
  Node,
  Pod,
  Rule,
  Tier,
} from "./schemas/index.js";
export {
  parseCidr,
  parseIp,
  formatIp,
  cidrsOverlap,
  cidrContains,
  cidrLast,
  type Cidr,
  type IpAddress,
} from "./ip.js";
export * from "./well-known.js";
