// The name of the IPAllocation object that claims an address: derived from the address alone, so
// two allocators racing for one address create the same object and only one create succeeds.
// Address arithmetic itself is util/ip.ts.
import { formatIp, type IpAddress } from "../util/ip.js";

/**
 * A name-safe encoding of an address, usable as an object name:
 * 10.10.1.3 → "10-10-1-3"; fd00::1 → "fd00-0-0-0-0-0-0-1" (all eight groups, so it is unique).
 */
export const ipToName = (ip: IpAddress): string => {
  if (ip.version === 4) return formatIp(ip).replaceAll(".", "-");
  const groups = Array.from({ length: 8 }, (_, i) => (ip.value >> BigInt(112 - 16 * i)) & 0xffffn);
  return groups.map((g) => g.toString(16)).join("-");
};
