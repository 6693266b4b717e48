// Address parsing moved to util/ip.ts. These re-exports keep the callers that have not switched
// yet working (the api barrel); new code imports util/ip.ts.
export {
  cidrContains,
  cidrLast,
  cidrsOverlap,
  formatIp,
  parseCidr,
  parseIp,
  type Cidr,
  type IpAddress,
  type IpVersion,
} from "../util/ip.js";
