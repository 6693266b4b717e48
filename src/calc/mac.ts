// Gateway MACs derived from the gateway's IP, so client nodes and gateways agree without any
// discovery protocol (same scheme as Calico: a2:2a + the IPv4 address bytes).
import { parseIp } from "../util/ip.js";
import { hash32 } from "./hash.js";

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");

/**
 * IPv4 `10.1.2.3` → `a2:2a:0a:01:02:03` (locally administered, unicast). IPv6 cannot fit, so it
 * gets `a2:2b:` + 32 bits of a hash of the canonical address. Undefined for a malformed IP.
 */
export function macForIp(ip: string): string | undefined {
  const parsed = parseIp(ip);
  if (parsed === undefined) return undefined;
  const bytes: number[] = [0xa2];
  let word: number;
  if (parsed.version === 4) {
    bytes.push(0x2a);
    word = Number(parsed.value);
  } else {
    bytes.push(0x2b);
    word = hash32(parsed.value.toString(16));
  }
  bytes.push((word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  return bytes.map(hex2).join(":");
}
