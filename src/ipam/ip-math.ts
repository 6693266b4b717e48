// IP address and CIDR arithmetic over BigInt, for IPv4 and IPv6 (pure; ranges are never materialised).
import { err, ok, type Result } from "../util/result.js";

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  /** Network address (host bits zero). */
  network: bigint;
  prefix: number;
}

export const familyBits = (family: IpFamily): number => (family === 4 ? 32 : 128);

const V4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

const parseV4 = (s: string): bigint | undefined => {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => V4_OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
};

const parseV6 = (s: string): bigint | undefined => {
  let text = s;
  const groups: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".") && lastColon >= 0) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (h: string): string[] | undefined => (h === "" ? [] : h.split(":"));
  const head = split(halves[0] ?? "");
  const tail = halves.length === 2 ? split(halves[1] ?? "") : [];
  if (!head || !tail || ![...head, ...tail].every((g) => V6_GROUP.test(g))) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  groups.push(
    ...head.map((g) => parseInt(g, 16)),
    ...new Array<number>(missing).fill(0),
    ...tail.map((g) => parseInt(g, 16)),
  );
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
};

/** Parses a dotted-quad IPv4 or an IPv6 address (no zone ids). */
export const parseIp = (s: string): Result<IpAddress, string> => {
  if (typeof s !== "string") return err(`${JSON.stringify(s)} is not an IP address`);
  const v4 = parseV4(s);
  if (v4 !== undefined) return ok({ family: 4, value: v4 });
  if (s.includes(":")) {
    const v6 = parseV6(s);
    if (v6 !== undefined) return ok({ family: 6, value: v6 });
  }
  return err(`"${s}" is not a valid IPv4 or IPv6 address`);
};

const v6Groups = (value: bigint): number[] =>
  Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export const formatIp = (ip: IpAddress): string => {
  if (ip.family === 4) {
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
};

/** Parses "addr/prefix"; host bits must be zero (the error suggests the network). */
export const parseCidr = (s: string): Result<Cidr, string> => {
  if (typeof s !== "string") return err(`${JSON.stringify(s)} is not a CIDR`);
  const slash = s.indexOf("/");
  if (slash < 0) return err(`"${s}" is not a valid CIDR: expected ADDRESS/PREFIX, e.g. 10.10.0.0/24`);
  const ip = parseIp(s.slice(0, slash));
  if (!ip.ok) return err(`"${s}" is not a valid CIDR: ${ip.error}`);
  const bits = familyBits(ip.value.family);
  const prefixText = s.slice(slash + 1);
  const prefix = /^(0|[1-9]\d{0,2})$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) {
    return err(`"${s}" is not a valid CIDR: the prefix length must be 0..${bits}`);
  }
  const network = ip.value.value & networkMask(ip.value.family, prefix);
  if (network !== ip.value.value) {
    const suggestion = `${formatIp({ family: ip.value.family, value: network })}/${prefix}`;
    return err(`"${s}" has host bits set; did you mean ${suggestion}?`);
  }
  return ok({ family: ip.value.family, network, prefix });
};

export const formatCidr = (c: Cidr): string =>
  `${formatIp({ family: c.family, value: c.network })}/${c.prefix}`;

const networkMask = (family: IpFamily, prefix: number): bigint => {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefix))) - 1n);
};

/** Number of addresses in the block (2^(bits-prefix)). */
export const blockSize = (c: Cidr): bigint => 1n << BigInt(familyBits(c.family) - c.prefix);

/** IPv4 blocks larger than /31 lose their network and broadcast addresses (RFC 3021 for /31). */
const reservesEnds = (c: Cidr): boolean => c.family === 4 && c.prefix < 31;

/** First and last assignable address. */
export const hostRange = (c: Cidr): { first: bigint; last: bigint } => {
  const end = c.network + blockSize(c) - 1n;
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
  return { family: c.family, value: hostRange(c).first + n };
};

export const cidrContains = (c: Cidr, ip: IpAddress): boolean =>
  ip.family === c.family && (ip.value & networkMask(c.family, c.prefix)) === c.network;

/**
 * The first assignable address of the block not in `taken`, scanning from the start and skipping
 * taken ones: O(|taken|), never O(block size).
 */
export const firstFree = (c: Cidr, taken: ReadonlySet<bigint>): IpAddress | undefined => {
  const { first, last } = hostRange(c);
  let candidate = first;
  while (candidate <= last && taken.has(candidate)) candidate += 1n;
  return candidate <= last ? { family: c.family, value: candidate } : undefined;
};

/**
 * A name-safe encoding of an address, usable as an object name:
 * 10.10.1.3 → "10-10-1-3"; fd00::1 → "fd00-0-0-0-0-0-0-1" (all eight groups, so it is unique).
 */
export const ipToName = (ip: IpAddress): string =>
  ip.family === 4
    ? formatIp(ip).replaceAll(".", "-")
    : v6Groups(ip.value)
        .map((g) => g.toString(16))
        .join("-");
