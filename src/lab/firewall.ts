// The lab's upstream firewall (it stands in for the customer's firewall): pure rendering of its
// nft table, allow-list editing, and parsing of its connection log.
import { cidrLast, parseCidr } from "../util/ip.js";
import { err, ok, type Result } from "../util/result.js";
import { EXTERNAL_HOSTS, externalHost, type ExternalHost } from "./topology.js";

export const FIREWALL_TABLE = "egw_fw";
export const FIREWALL_LOG_GROUP = 7;
const LOG_PREFIX = "egw-fw";

export const allowSetName = (host: ExternalHost): string => `egw_allow_${host.name}`;

/** Allowed source CIDRs per firewalled host, e.g. { db: ["172.30.0.0/24"] }. */
export type AllowLists = Record<string, string[]>;

export const firewalledHosts = (): ExternalHost[] => EXTERNAL_HOSTS.filter((h) => h.firewalled);

/** Looks up a `--host` value; only firewalled hosts have an allow-list. */
export const firewalledHost = (name: string): Result<ExternalHost, string> => {
  const host = externalHost(name);
  const valid = firewalledHosts()
    .map((h) => h.name)
    .join(", ");
  if (!host)
    return err(`--host "${name}" is not an external host of the lab; hosts behind the firewall: ${valid}`);
  if (!host.firewalled)
    return err(`--host "${name}" is not behind the firewall (it is open to all); firewalled hosts: ${valid}`);
  return ok(host);
};

/** Parses an IPv4 CIDR (a bare address means /32); host bits set is an error naming the fix. */
export const normaliseSourceCidr = (raw: string): Result<string, string> => {
  const c = parseCidr(raw, { allowBareIp: true });
  if (!c.ok) return err(`source "${raw}" ${c.error}`);
  if (c.value.version !== 4)
    return err(`source "${raw}" is IPv6; the lab firewall is IPv4 only (e.g. 172.30.0.0/24)`);
  return ok(c.value.text);
};

const parseAll = (cidrs: readonly string[]): Result<string[], string> => {
  const out: string[] = [];
  for (const raw of cidrs) {
    const r = normaliseSourceCidr(raw);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return ok(out);
};

/** Adds CIDRs to a host's allow list (idempotent); returns the new lists. */
export const allow = (
  lists: AllowLists,
  host: string,
  cidrs: readonly string[],
): Result<AllowLists, string> => {
  const parsed = parseAll(cidrs);
  if (!parsed.ok) return parsed;
  const current = lists[host] ?? [];
  const next = [...current, ...parsed.value.filter((c) => !current.includes(c))];
  return ok({ ...lists, [host]: next });
};

/** Removes CIDRs from a host's allow list; a CIDR that is not in the list is an error. */
export const revoke = (
  lists: AllowLists,
  host: string,
  cidrs: readonly string[],
): Result<AllowLists, string> => {
  const parsed = parseAll(cidrs);
  if (!parsed.ok) return parsed;
  const current = lists[host] ?? [];
  const missing = parsed.value.filter((c) => !current.includes(c));
  if (missing.length > 0) {
    return err(
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not in the allow list of ${host} ` +
        `(current: ${current.length > 0 ? current.join(", ") : "empty"})`,
    );
  }
  return ok({ ...lists, [host]: current.filter((c) => !parsed.value.includes(c)) });
};

const toRange = (cidr: string): [bigint, bigint] => {
  const c = parseCidr(cidr);
  if (!c.ok) return [0n, -1n];
  return [c.value.network, cidrLast(c.value)];
};

/**
 * Set elements with no overlaps (nft interval sets reject overlapping elements): CIDRs covered by
 * another one in the list are dropped; the rest keep their order. CIDRs either nest or are
 * disjoint, so one sweep in address order (widest first at equal start) finds the covered ones —
 * a feed of thousands of entries costs a sort, not a comparison of every pair.
 */
export const nonOverlapping = (cidrs: readonly string[]): string[] => {
  const unique = [...new Set(cidrs)];
  const byStart = unique
    .map((c) => ({ c, r: toRange(c) }))
    .sort((x, y) => (x.r[0] !== y.r[0] ? (x.r[0] < y.r[0] ? -1 : 1) : x.r[1] > y.r[1] ? -1 : 1));
  const covered = new Set<string>();
  let end = -1n;
  for (const { c, r } of byStart) {
    if (r[1] <= end) covered.add(c);
    else end = r[1];
  }
  return unique.filter((c) => !covered.has(c));
};

const elements = (cidrs: readonly string[]): string =>
  cidrs.length === 0 ? "" : ` elements = { ${nonOverlapping(cidrs).join(", ")} };`;

/**
 * The whole firewall table, replaced atomically: established traffic passes, each new
 * connection to a firewalled host is logged (NFLOG group) and accepted only from its allow set,
 * otherwise rejected with a TCP reset so clients fail at once. Everything else is routed freely.
 */
export const renderFirewall = (allowLists: AllowLists = {}): string => {
  const hosts = firewalledHosts();
  const lines = [
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
  ];
  for (const h of hosts) {
    lines.push(
      `  set ${allowSetName(h)} { type ipv4_addr; flags interval;${elements(allowLists[h.name] ?? [])} }`,
    );
  }
  lines.push(`  chain egw_forward {`, `    type filter hook forward priority filter; policy accept;`);
  lines.push(`    ct state established,related accept`);
  for (const h of hosts) {
    const match = `ip daddr ${h.ip} tcp dport ${h.port}`;
    const log = (action: string): string =>
      `log prefix "${LOG_PREFIX} ${action} ${h.name} " group ${FIREWALL_LOG_GROUP}`;
    lines.push(`    ${match} ip saddr @${allowSetName(h)} counter ${log("accept")} accept`);
    lines.push(`    ${match} counter ${log("drop")} reject with tcp reset`);
  }
  lines.push(`  }`, `}`, ``);
  return lines.join("\n");
};

/**
 * One nft transaction that replaces a host's allow set with `cidrs` (flush and refill are applied
 * together or not at all), leaving the rules, the other sets and the counters as they are.
 */
export const renderAllowSetUpdate = (host: ExternalHost, cidrs: readonly string[]): string => {
  const set = `inet ${FIREWALL_TABLE} ${allowSetName(host)}`;
  const elems = nonOverlapping(cidrs);
  return [
    `flush set ${set}`,
    ...(elems.length > 0 ? [`add element ${set} { ${elems.join(", ")} }`] : []),
    "",
  ].join("\n");
};

export interface FirewallLogEntry {
  time: string;
  action: "accept" | "drop";
  host: string;
  src: string;
  srcPort?: number;
  dst: string;
  dstPort?: number;
}

/** One line of ulogd's JSON output → an entry; undefined for lines that are not ours. */
export const parseFirewallLogLine = (line: string): FirewallLogEntry | undefined => {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const prefix = rec["oob.prefix"];
  if (typeof prefix !== "string") return undefined;
  const [tag, action, host] = prefix.trim().split(/\s+/);
  if (tag !== LOG_PREFIX || (action !== "accept" && action !== "drop") || host === undefined)
    return undefined;
  const src = rec["src_ip"];
  const dst = rec["dest_ip"];
  if (typeof src !== "string" || typeof dst !== "string") return undefined;
  const entry: FirewallLogEntry = { time: timestampOf(rec), action, host, src, dst };
  if (typeof rec["src_port"] === "number") entry.srcPort = rec["src_port"];
  if (typeof rec["dest_port"] === "number") entry.dstPort = rec["dest_port"];
  return entry;
};

const timestampOf = (rec: Record<string, unknown>): string => {
  const sec = rec["oob.time.sec"];
  const usec = rec["oob.time.usec"];
  if (typeof sec === "number") {
    return new Date(sec * 1000 + (typeof usec === "number" ? Math.floor(usec / 1000) : 0)).toISOString();
  }
  const ts = rec["timestamp"];
  return typeof ts === "string" ? ts : "";
};

export const formatFirewallLogEntry = (e: FirewallLogEntry): string => {
  const port = (p: number | undefined): string => (p === undefined ? "" : `:${p}`);
  return `${e.time}  ${e.action === "accept" ? "ACCEPT" : "DROP  "}  ${e.src}${port(e.srcPort)} -> ${e.host} ${e.dst}${port(e.dstPort)}`;
};
