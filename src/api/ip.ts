// Strict IP address and CIDR parsing for validation, with BigInt arithmetic (IPv4 and IPv6).
import ipaddr from "ipaddr.js";
import { err, ok, type Result } from "../util/result.js";

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The network address (host bits are always zero). */
  base: bigint;
  prefix: number;
  /** Canonical text, e.g. `10.0.0.0/24` or `2001:db8::/64`. */
  text: string;
}

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;

export const bitsOf = (v: IpVersion): number => (v === 4 ? 32 : 128);

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!V4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(s: string): bigint | undefined {
  // ipaddr.js accepts zone ids (`fe80::1%eth0`); an address in a resource never carries one.
  if (s.includes("%") || !ipaddr.IPv6.isValid(s)) return undefined;
  try {
    return ipaddr.IPv6.parse(s)
      .toByteArray()
      .reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  } catch {
    return undefined;
  }
}

/** Parses a dotted-quad IPv4 (no leading zeros, no short forms) or an IPv6 address. */
export function parseIp(s: string): IpAddress | undefined {
  if (s.includes(":")) {
    const value = parseIpv6(s);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(s);
  return value === undefined ? undefined : { version: 4, value };
}

export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join(".");
  }
  const bytes: number[] = [];
  for (let shift = 120n; shift >= 0n; shift -= 8n) bytes.push(Number((ip.value >> shift) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

const hostMask = (version: IpVersion, prefix: number): bigint =>
  (1n << BigInt(bitsOf(version) - prefix)) - 1n;

export const cidrLast = (c: Cidr): bigint => c.base | hostMask(c.version, c.prefix);

export const cidrsOverlap = (a: Cidr, b: Cidr): boolean =>
  a.version === b.version && a.base <= cidrLast(b) && b.base <= cidrLast(a);

export const cidrContains = (c: Cidr, ip: IpAddress): boolean =>
  c.version === ip.version && ip.value >= c.base && ip.value <= cidrLast(c);

export interface ParseCidrOptions {
  /** Accept a bare address as a single-host CIDR (/32 or /128), as Calico does for `nets`. */
  allowBareIp?: boolean;
}

/**
 * Parses `addr/prefix`. The error is a message fragment that follows the quoted value, e.g.
 * `is not a valid CIDR: ...` or `has host bits set: use "10.0.0.0/24"`.
 */
export function parseCidr(s: string, opts: ParseCidrOptions = {}): Result<Cidr, string> {
  const slash = s.indexOf("/");
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  const ip = parseIp(addrText);
  if (ip === undefined)
    return err("is not a valid CIDR: expected an IPv4 or IPv6 network such as 10.0.0.0/24");
  const bits = bitsOf(ip.version);
  if (prefixText === undefined) {
    if (!opts.allowBareIp)
      return err(`is not a valid CIDR: the prefix length is missing (e.g. "${s}/${bits}")`);
    return ok({ version: ip.version, base: ip.value, prefix: bits, text: `${formatIp(ip)}/${bits}` });
  }
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    return err(`is not a valid CIDR: the prefix length must be 0-${bits} for IPv${ip.version}`);
  }
  const prefix = Number(prefixText);
  const base = ip.value & ~hostMask(ip.version, prefix);
  const text = `${formatIp({ version: ip.version, value: base })}/${prefix}`;
  if (base !== ip.value) return err(`has host bits set: use "${text}"`);
  return ok({ version: ip.version, base, prefix, text });
}
