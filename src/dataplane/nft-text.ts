// Small helpers shared by the nft renderers: validated names and addresses, and the atomic
// whole-table replacement wrapper with a version marker the read-back can recognise.
import { createHash } from "node:crypto";
import { parseCidr, parseIp } from "../api/ip.js";
import type { CounterValues, NftShape } from "./model.js";

/** Interface names as the kernel allows them, minus anything that could break out of a quote. */
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export const validIfname = (name: string): boolean => IFNAME.test(name) && name !== "." && name !== "..";
/** An interface-name prefix used as an nft wildcard (`"ew*"`). */
export const validIfnamePrefix = (prefix: string): boolean => /^[A-Za-z0-9_.:@+-]{1,14}$/.test(prefix);
export const canonicalMac = (mac: string): string | undefined => {
  const m = mac.toLowerCase();
  return MAC.test(m) ? m : undefined;
};

/** Canonical dotted IPv4, or undefined (the egress dataplane is IPv4 for now). */
export function ipv4(text: string): string | undefined {
  const ip = parseIp(text);
  return ip?.version === 4 ? text : undefined;
}

/** Canonical IPv4 CIDR (`a.b.c.d/n`, a bare address becomes /32), or undefined. */
export function cidr4(text: string): string | undefined {
  const c = parseCidr(text, { allowBareIp: true });
  return c.ok && c.value.version === 4 ? c.value.text : undefined;
}

export const hex = (n: number, width = 8): string => `0x${(n >>> 0).toString(16).padStart(width, "0")}`;

export const VERSION_CHAIN = "egw_version";
const VERSION_PREFIX = "egw-plan ";

export const versionComment = (hash: string): string => `${VERSION_PREFIX}${hash}`;
export const hashFromComment = (comment: string): string | undefined =>
  comment.startsWith(VERSION_PREFIX) ? comment.slice(VERSION_PREFIX.length) : undefined;

/** An nft element list: `elements = { a, b }`, or nothing for an empty set. */
export const elements = (items: readonly string[]): string =>
  items.length === 0 ? "" : ` elements = { ${items.join(", ")} }`;

export interface TableBody {
  /** Set, map and chain definitions, one nft statement per line, without the version chain. */
  lines: string[];
  chains: Record<string, number>;
  sets: Record<string, number>;
}

const COUNTED_RULE = /^(\s*(?:.*?\s)?)counter (?!packets )(.*\scomment "([^"]*)")$/;

/**
 * Gives every counted rule of nft text whose comment has a value in `counters` that value as
 * its start (`counter packets N bytes M`), so replacing a table does not reset its counters.
 * A comment on several rules is left alone (the value would be counted twice). Pure; the plan
 * hash is taken before this, so counter values never make a table look different.
 */
export function withCounterValues(text: string, counters: CounterValues | undefined): string {
  if (counters === undefined || counters.size === 0) return text;
  const lines = text.split("\n");
  const seen = new Map<string, number>();
  const counted = lines.map((line) => {
    const m = line.endsWith('"') ? COUNTED_RULE.exec(line) : null;
    if (m?.[3] !== undefined) seen.set(m[3], (seen.get(m[3]) ?? 0) + 1);
    return m;
  });
  return lines
    .map((line, i) => {
      const m = counted[i];
      const comment = m?.[3];
      const value = comment === undefined ? undefined : counters.get(comment);
      if (m === null || m === undefined || value === undefined || seen.get(comment ?? "") !== 1) return line;
      return `${m[1]}counter packets ${value.packets} bytes ${value.bytes} ${m[2]}`;
    })
    .join("\n");
}

/**
 * One `nft -f` transaction that atomically replaces `table inet <name>`: declaring the table
 * first makes the delete valid when it does not exist yet; either everything applies or nothing.
 * The body's hash goes into a rule comment of a never-hooked chain, for read-back comparison.
 */
export function replaceTableText(name: string, body: TableBody): { text: string; shape: NftShape } {
  const hash = createHash("sha256").update(body.lines.join("\n")).digest("hex").slice(0, 16);
  const text = [
    `table inet ${name}`,
    `delete table inet ${name}`,
    `table inet ${name} {`,
    `  chain ${VERSION_CHAIN} {`,
    `    return comment "${versionComment(hash)}"`,
    `  }`,
    ...body.lines.map((l) => `  ${l}`),
    `}`,
    ``,
  ].join("\n");
  return {
    text,
    shape: { table: name, hash, chains: { ...body.chains, [VERSION_CHAIN]: 1 }, sets: body.sets },
  };
}
