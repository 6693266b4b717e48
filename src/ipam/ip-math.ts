// The IPAM-specific part of address handling: object names derived from IPs. Address arithmetic
// lives in util/ip.ts; the re-exports below keep callers that have not switched yet working
// (controller/plan.ts), with parseIp in its former Result form.
import { formatIp, parseIp as parseAddress, type IpAddress } from "../util/ip.js";
import { err, ok, type Result } from "../util/result.js";

export { cidrContains, formatCidr, formatIp, hostCount, type Cidr, type IpAddress } from "../util/ip.js";

/** util/ip.ts parseIp with a message; for callers that still expect a Result. */
export const parseIp = (s: string): Result<IpAddress, string> => {
  const ip = parseAddress(s);
  return ip === undefined ? err(`"${s}" is not a valid IPv4 or IPv6 address`) : ok(ip);
};

/**
 * A name-safe encoding of an address, usable as an object name:
 * 10.10.1.3 → "10-10-1-3"; fd00::1 → "fd00-0-0-0-0-0-0-1" (all eight groups, so it is unique).
 */
export const ipToName = (ip: IpAddress): string => {
  if (ip.version === 4) return formatIp(ip).replaceAll(".", "-");
  const groups = Array.from({ length: 8 }, (_, i) => (ip.value >> BigInt(112 - 16 * i)) & 0xffffn);
  return groups.map((g) => g.toString(16)).join("-");
};
