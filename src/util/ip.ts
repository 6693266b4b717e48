// IP addresses and CIDRs, IPv4 and IPv6, over BigInt: strict parsing, canonical text (dotted quad,
// RFC 5952), containment, overlap and host ranges. Pure; ranges are never materialised, so a /64
// costs what a /24 does. The one home of address arithmetic: api validation, IPAM, calc and the
// dataplane all use it. It knows nothing about resources (callers name the field in messages).
import { err, ok, type Result } from "./result.js";

export type IpVersion = 4 | 6;

export interface IpAddress {
  readonly version: IpVersion;
  readonly value: bigint;
}

export interface Cidr {
  readonly version: IpVersion;
  /** The network address (host bits are always zero). */
  readonly network: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. `10.0.0.0/24` or `2001:db8::/64`. */
  readonly text: string;
}

export const addressBits = (v: IpVersion): number => (v === 4 ? 32 : 128);

const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9]\d{0,2})$/;

/**
 * Dotted-quad IPv4 as a number (no leading zeros, no short forms), or undefined. Scans characters
 * instead of splitting: it runs for every pod IP on calc's hot paths.
 */
export function parseIpv4Number(s: string): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else return undefined;
  }
  return dots === 3 && digits > 0 ? n * 256 + octet : undefined;
}

function parseV6(s: string): bigint | undefined {
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    const v4 = lastColon < 0 ? undefined : parseIpv4Number(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (h: string): string[] => (h === "" ? [] : h.split(":"));
  const head = split(halves[0] ?? "");
  const tail = halves.length === 2 ? split(halves[1] ?? "") : [];
  if (![...head, ...tail].every((g) => V6_GROUP.test(g))) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const g of [...head, ...new Array<string>(missing).fill("0"), ...tail])
    value = (value << 16n) | BigInt(parseInt(g, 16));
  return value;
}

/** Parses a dotted-quad IPv4 (no leading zeros, no short forms) or an IPv6 address (no zone id). */
export function parseIp(s: string): IpAddress | undefined {
  if (typeof s !== "string") return undefined;
  if (s.includes(":")) {
    const value = parseV6(s);
    return value === undefined ? undefined : { version: 6, value };
  }
  const n = parseIpv4Number(s);
  return n === undefined ? undefined : { version: 4, value: BigInt(n) };
}

/** Whether `s` is a dotted-quad IPv4 address (the strict form parseIp accepts). */
export const isIpv4 = (s: string): boolean => parseIpv4Number(s) !== undefined;

/** Dotted-quad text of an IPv4 address held as a number (the inverse of parseIpv4Number). */
export const formatIpv4Number = (n: number): string =>
  `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/**
 * The family an address or CIDR is written in (a colon means IPv6), without checking that it is
 * valid: for callers that treat the families differently before (or instead of) validating.
 */
export const ipFamilyOf = (s: string): IpVersion => (s.includes(":") ? 6 : 4);

/**
 * An IPv4 address or `address/prefix` as its first and last address, as numbers (host bits are
 * ignored, as nft and Calico's policy nets do); undefined for anything else, IPv6 included. For
 * hot paths that compare IPv4 numbers (parseIpv4Number) instead of BigInts.
 */
export function ipv4Range(s: string): readonly [number, number] | undefined {
  const slash = s.indexOf("/");
  const n = parseIpv4Number(slash < 0 ? s : s.slice(0, slash));
  if (n === undefined) return undefined;
  if (slash < 0) return [n, n];
  const prefixText = s.slice(slash + 1);
  if (!PREFIX.test(prefixText) || Number(prefixText) > 32) return undefined;
  const size = 2 ** (32 - Number(prefixText));
  const first = n - (n % size);
  return [first, first + size - 1];
}

const v6Groups = (value: bigint): number[] =>
  Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, the first longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  }
  const groups = v6Groups(ip.value);
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

const hostMask = (version: IpVersion, prefix: number): bigint =>
  (1n << BigInt(addressBits(version) - prefix)) - 1n;

const cidrOf = (version: IpVersion, network: bigint, prefix: number): Cidr => ({
  version,
  network,
  prefix,
  text: `${formatIp({ version, value: network })}/${prefix}`,
});

export interface ParseCidrOptions {
  /** Accept a bare address as a single-host CIDR (/32 or /128), as Calico does for `nets`. */
  allowBareIp?: boolean;
  /** Clear host bits instead of rejecting them (Calico does for policy `nets`). */
  maskHostBits?: boolean;
}

/**
 * Parses `addr/prefix`. The error is a message fragment that follows the quoted value, e.g.
 * `is not a valid CIDR: ...` or `has host bits set: use "10.0.0.0/24"`.
 */
export function parseCidr(s: string, opts: ParseCidrOptions = {}): Result<Cidr, string> {
  if (typeof s !== "string") return err("is not a valid CIDR: expected a string such as 10.0.0.0/24");
  const slash = s.indexOf("/");
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  const ip = parseIp(addrText);
  if (ip === undefined)
    return err("is not a valid CIDR: expected an IPv4 or IPv6 network such as 10.0.0.0/24");
  const bits = addressBits(ip.version);
  if (prefixText === undefined) {
    if (!opts.allowBareIp)
      return err(`is not a valid CIDR: the prefix length is missing (e.g. "${s}/${bits}")`);
    return ok(cidrOf(ip.version, ip.value, bits));
  }
  if (!PREFIX.test(prefixText) || Number(prefixText) > bits) {
    return err(`is not a valid CIDR: the prefix length must be 0-${bits} for IPv${ip.version}`);
  }
  const prefix = Number(prefixText);
  const c = cidrOf(ip.version, ip.value & ~hostMask(ip.version, prefix), prefix);
  if (c.network !== ip.value && !opts.maskHostBits) return err(`has host bits set: use "${c.text}"`);
  return ok(c);
}

/** Canonical `network/prefix` text. */
export const formatCidr = (c: Cidr): string => c.text;

/** Canonical IPv4 CIDR text (a bare address becomes /32; host bits are an error), or undefined. */
export function canonicalCidr4(s: string): string | undefined {
  const c = parseCidr(s, { allowBareIp: true });
  return c.ok && c.value.version === 4 ? c.value.text : undefined;
}

/** The last address of the block (its broadcast address for IPv4). */
export const cidrLast = (c: Cidr): bigint => c.network | hostMask(c.version, c.prefix);

export const cidrsOverlap = (a: Cidr, b: Cidr): boolean =>
  a.version === b.version && a.network <= cidrLast(b) && b.network <= cidrLast(a);

export const cidrContains = (c: Cidr, ip: IpAddress): boolean =>
  c.version === ip.version && ip.value >= c.network && ip.value <= cidrLast(c);

/** Number of addresses in the block (2^(bits-prefix)). */
export const blockSize = (c: Cidr): bigint => 1n << BigInt(addressBits(c.version) - c.prefix);

/** IPv4 blocks larger than /31 lose their network and broadcast addresses (RFC 3021 for /31). */
const reservesEnds = (c: Cidr): boolean => c.version === 4 && c.prefix < 31;

/** First and last assignable address. */
export const hostRange = (c: Cidr): { first: bigint; last: bigint } => {
  const end = cidrLast(c);
  return reservesEnds(c) ? { first: c.network + 1n, last: end - 1n } : { first: c.network, last: end };
};

/** How many addresses can be handed out. */
export const hostCount = (c: Cidr): bigint => {
  const { first, last } = hostRange(c);
  return last - first + 1n;
};

/** The n-th assignable address (0-based), or undefined past the end. */
export const nthHost = (c: Cidr, n: bigint): IpAddress | undefined => {
  if (n < 0n || n >= hostCount(c)) return undefined;
  return { version: c.version, value: hostRange(c).first + n };
};

/**
 * The first assignable address of the block not in `taken` (address values), scanning from the
 * start and skipping taken ones: O(|taken|), never O(block size).
 */
export const firstFree = (c: Cidr, taken: ReadonlySet<bigint>): IpAddress | undefined => {
  const { first, last } = hostRange(c);
  let candidate = first;
  while (candidate <= last && taken.has(candidate)) candidate += 1n;
  return candidate <= last ? { version: c.version, value: candidate } : undefined;
};
