// BIRD 2's `birdc` output as typed values (pure): `show protocols [all]` (each protocol's state,
// and for BGP the session state, neighbor, last error and exported routes), `show bfd sessions`
// and `show route [all]`. Lines it does not know are skipped, so a newer BIRD that prints more
// still parses. It reads text; running birdc is bird-control.ts, and what a state means for egw
// (Node status, metrics) is the caller's.

export interface BirdRouteCounts {
  imported: number;
  exported: number;
  preferred: number;
}

export interface BirdBgpSession {
  /** BGP FSM state: Idle, Connect, Active, OpenSent, OpenConfirm, Established, Close, Down. */
  state: string;
  neighborAddress?: string;
  neighborAs?: number;
  localAs?: number;
  /** `Last error:`, e.g. "Error: BFD session down", "Received: Cease". */
  lastError?: string;
}

export interface BirdProtocol {
  name: string;
  /** BGP, Static, Device, BFD, Kernel, Direct, … */
  proto: string;
  table: string;
  /** up, start, down, flush, … (BIRD's protocol state, not the BGP state). */
  state: string;
  /** The `Since` column as printed (its format is the config's `timeformat protocol`). */
  since: string;
  /** The `Info` column (for BGP: the session state, then the last error if any). */
  info: string;
  /** `description` of the protocol, when it has one. */
  description?: string;
  /** Only with `show protocols all`, for BGP protocols. */
  bgp?: BirdBgpSession;
  /** Only with `show protocols all`: the (first) channel's route counts. */
  routes?: BirdRouteCounts;
}

const READY = /^BIRD [\d.]+ ready\.$/;
const PROTOCOL_HEADER = /^Name\s+Proto\s+Table\s+State\s+Since\s+Info/;

const field = (line: string, label: string): string | undefined => {
  const t = line.trim();
  return t.startsWith(`${label}:`) ? t.slice(label.length + 1).trim() : undefined;
};

const toInt = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s);
};

/**
 * Parses `show protocols` or `show protocols all`. A protocol line starts in column 0; the
 * details of `all` are indented beneath it.
 */
export function parseProtocols(text: string): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  let current: BirdProtocol | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "" || READY.test(line) || PROTOCOL_HEADER.test(line)) continue;
    if (!/^\s/.test(line)) {
      const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
      current = m
        ? {
            name: m[1] ?? "",
            proto: m[2] ?? "",
            table: m[3] ?? "",
            state: m[4] ?? "",
            since: m[5] ?? "",
            info: (m[6] ?? "").trim(),
          }
        : undefined;
      if (current) out.push(current);
      continue;
    }
    if (current === undefined) continue;
    const description = field(line, "Description");
    if (description !== undefined) current.description = description;
    const bgpState = field(line, "BGP state");
    if (bgpState !== undefined) current.bgp = { state: bgpState };
    const bgp = current.bgp;
    if (bgp !== undefined) {
      const neighbor = field(line, "Neighbor address");
      if (neighbor !== undefined) bgp.neighborAddress = neighbor;
      const nAs = toInt(field(line, "Neighbor AS"));
      if (nAs !== undefined) bgp.neighborAs = nAs;
      const lAs = toInt(field(line, "Local AS"));
      if (lAs !== undefined) bgp.localAs = lAs;
      const lastError = field(line, "Last error");
      if (lastError !== undefined) bgp.lastError = lastError;
    }
    const routes = field(line, "Routes");
    const counts =
      routes === undefined ? null : /^(\d+) imported, (\d+) exported, (\d+) preferred/.exec(routes);
    if (counts && current.routes === undefined)
      current.routes = {
        imported: Number(counts[1]),
        exported: Number(counts[2]),
        preferred: Number(counts[3]),
      };
  }
  return out;
}

/** The BGP state of a protocol: from `BGP state:` (all) or the first word of Info. */
export const bgpStateOf = (p: BirdProtocol): string | undefined =>
  p.proto !== "BGP" ? undefined : (p.bgp?.state ?? (p.info.split(/\s+/)[0] || undefined));

/** The message after the BGP state in Info ("Error: BFD session down"), if any. */
export const bgpInfoMessage = (p: BirdProtocol): string | undefined => {
  const rest = p.info.replace(/^\S+\s*/, "").trim();
  return rest === "" ? p.bgp?.lastError : rest;
};

/**
 * A `Since` value printed with bird-config.ts's PROTOCOL_TIME_FORMAT ("2026-11-28T12:56:53+0000")
 * as RFC 3339 UTC; undefined for other formats (BIRD's default is a bare time of day).
 */
export function protocolSinceToIso(since: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(\d{2})$/.exec(since);
  if (!m) return undefined;
  const d = new Date(`${m[1]}${m[2]}:${m[3]}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.000Z$/, "Z");
}

export interface BirdBfdSession {
  /** The BFD protocol instance that runs it. */
  protocol: string;
  ip: string;
  /** "---" for a multihop session. */
  interface: string;
  /** Up, Down, Init, AdminDown. */
  state: string;
  since: string;
}

/** Parses `show bfd sessions`: a `name:` line per BFD protocol, then a table of sessions. */
export function parseBfdSessions(text: string): BirdBfdSession[] {
  const out: BirdBfdSession[] = [];
  let protocol = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "" || READY.test(line) || /^IP address\s+Interface/.test(line)) continue;
    const head = /^(\S+):$/.exec(line);
    if (head) {
      protocol = head[1] ?? "";
      continue;
    }
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line);
    if (m)
      out.push({ protocol, ip: m[1] ?? "", interface: m[2] ?? "", state: m[3] ?? "", since: m[4] ?? "" });
  }
  return out;
}

export interface BirdRoute {
  table: string;
  prefix: string;
  /** unicast, unreachable, blackhole, prohibit, … */
  type: string;
  /** The protocol that supplied it. */
  protocol: string;
  since: string;
  /** `from ADDR`: the BGP neighbor that sent it. */
  from?: string;
  /** `*`: the route in use for the prefix. */
  primary: boolean;
  preference?: number;
  /** `[AS64512i]`: origin AS and origin code, as printed. */
  origin?: string;
  /** Next hops (`via ADDR on DEV`; `dev DEV` for a direct route). */
  nexthops: { via?: string; dev?: string }[];
  /** `show route all` only: `BGP.community: (64512,100)` → {"BGP.community": "(64512,100)"}. */
  attributes: Record<string, string>;
}

/** Parses `show route [all]`: a `Table NAME:` line, then each route with its indented details. */
export function parseRoutes(text: string): BirdRoute[] {
  const out: BirdRoute[] = [];
  let table = "";
  let prefix = "";
  let current: BirdRoute | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "" || READY.test(line)) continue;
    const t = /^Table (\S+):$/.exec(line);
    if (t) {
      table = t[1] ?? "";
      current = undefined;
      continue;
    }
    // A route line: "PREFIX  TYPE [PROTO SINCE (from ADDR)?] (*)? (PREF) [ORIGIN]?"; a second
    // route of the same prefix leaves the prefix out (the line starts with spaces).
    const r =
      /^(\S+)?\s+(\S+)\s+\[(\S+) ([^\]]*?)(?: from (\S+))?\]\s*(\*)?\s*(?:\((\d+)\))?\s*(?:\[([^\]]*)\])?\s*$/.exec(
        line,
      );
    if (r && (r[1] !== undefined || !line.startsWith("\t"))) {
      if (r[1] !== undefined) prefix = r[1];
      current = {
        table,
        prefix,
        type: r[2] ?? "",
        protocol: r[3] ?? "",
        since: (r[4] ?? "").trim(),
        ...(r[5] === undefined ? {} : { from: r[5] }),
        primary: r[6] === "*",
        ...(r[7] === undefined ? {} : { preference: Number(r[7]) }),
        ...(r[8] === undefined ? {} : { origin: r[8] }),
        nexthops: [],
        attributes: {},
      };
      out.push(current);
      continue;
    }
    if (current === undefined) continue;
    const d = line.trim();
    const via = /^via (\S+) on (\S+)/.exec(d);
    if (via) {
      current.nexthops.push({ via: via[1] ?? "", dev: via[2] ?? "" });
      continue;
    }
    const dev = /^dev (\S+)$/.exec(d);
    if (dev) {
      current.nexthops.push({ dev: dev[1] ?? "" });
      continue;
    }
    const attr = /^([A-Za-z][\w.]*):\s+(.*)$/.exec(d);
    if (attr) current.attributes[attr[1] ?? ""] = attr[2] ?? "";
  }
  return out;
}
