// The PAN-OS External Dynamic List (IP list) text format, as the lab firewall reads a feed (pure):
// one entry per line — an address, a CIDR or a range `first-last` — optionally followed by a
// space and a comment; `#` starts a comment line. A bad line is reported and skipped, never fatal
// (PAN-OS skips invalid entries and logs them), and the list's canonical form (sorted IPv4 CIDRs,
// ranges split into CIDRs, no duplicates) is what the firewall's nft set receives. Fetching the
// list and applying it are the poller's job (feed-poller.ts).
import { formatIp, parseCidr, parseIp } from "../util/ip.js";

/** PAN-OS 7.1's documented per-list capacity; entries beyond it are skipped (and reported). */
export const EDL_MAX_ENTRIES = 50_000;

export interface EdlProblem {
  /** 1-based line number in the body. */
  line: number;
  text: string;
  reason: string;
}

export interface ParsedEdl {
  /** Canonical IPv4 CIDRs (`a.b.c.d/n`), numerically sorted, no duplicates. */
  entries: string[];
  problems: EdlProblem[];
}

/** The lines of a parsed list's problems, at most `max` of them, for a log line. */
export const formatEdlProblems = (problems: readonly EdlProblem[], max = 5): string[] => {
  const shown = problems.slice(0, max).map((p) => `line ${p.line} "${p.text}": ${p.reason}`);
  return problems.length > max ? [...shown, `… and ${problems.length - max} more`] : shown;
};

/** The smallest set of CIDRs that covers first..last exactly (IPv4 numbers as bigint). */
export const rangeToCidrs = (first: bigint, last: bigint): string[] => {
  const out: string[] = [];
  let start = first;
  while (start <= last) {
    let size = 32;
    // Grow the block while it stays aligned at start and inside the range.
    while (size > 0) {
      const bigger = 1n << BigInt(33 - size);
      if (start % bigger !== 0n || start + bigger - 1n > last) break;
      size--;
    }
    out.push(`${formatIp({ version: 4, value: start })}/${size}`);
    start += 1n << BigInt(32 - size);
  }
  return out;
};

type EntryResult = { cidrs: string[] } | { reason: string };

const V6_REASON = "IPv6; the lab firewall is IPv4 only";

const parseEntry = (token: string): EntryResult => {
  const dash = token.indexOf("-");
  if (/^[0-9a-fA-F:.]+-[0-9a-fA-F:.]+$/.test(token)) {
    const a = parseIp(token.slice(0, dash));
    const b = parseIp(token.slice(dash + 1));
    if (a === undefined || b === undefined)
      return { reason: "not an address range (expected first-last, e.g. 10.0.0.1-10.0.0.9)" };
    if (a.version !== 4 || b.version !== 4) return { reason: V6_REASON };
    if (a.value > b.value) return { reason: "range ends before it starts" };
    return { cidrs: rangeToCidrs(a.value, b.value) };
  }
  const c = parseCidr(token, { allowBareIp: true });
  if (!c.ok)
    return {
      reason: c.error.startsWith("has host bits")
        ? c.error
        : "not an IP address, CIDR or range (e.g. 10.0.0.1, 10.0.0.0/24, 10.0.0.1-10.0.0.9)",
    };
  if (c.value.version !== 4) return { reason: V6_REASON };
  return { cidrs: [c.value.text] };
};

const cidrKey = (cidr: string): [bigint, number] => {
  const c = parseCidr(cidr);
  return c.ok ? [c.value.network, c.value.prefix] : [0n, 0];
};

/** Numeric order (network, then prefix), duplicates dropped. */
export const sortCidrs = (cidrs: Iterable<string>): string[] =>
  [...new Set(cidrs)]
    .map((c) => ({ c, k: cidrKey(c) }))
    .sort((x, y) => (x.k[0] < y.k[0] ? -1 : x.k[0] > y.k[0] ? 1 : x.k[1] - y.k[1]))
    .map(({ c }) => c);

/** Parses an EDL body; never fails as a whole (an empty body is an empty list). */
export const parseEdl = (body: string, maxEntries = EDL_MAX_ENTRIES): ParsedEdl => {
  const entries = new Set<string>();
  const problems: EdlProblem[] = [];
  body.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.trim();
    if (text === "" || text.startsWith("#")) return;
    // The entry ends at the first whitespace; the rest of the line is a comment.
    const token = text.split(/\s/, 1)[0] ?? "";
    const r = parseEntry(token);
    if ("reason" in r) {
      problems.push({ line: i + 1, text, reason: r.reason });
      return;
    }
    for (const c of r.cidrs) {
      if (entries.size >= maxEntries && !entries.has(c)) {
        problems.push({ line: i + 1, text, reason: `over the list's capacity of ${maxEntries} entries` });
        return;
      }
      entries.add(c);
    }
  });
  return { entries: sortCidrs(entries), problems };
};
