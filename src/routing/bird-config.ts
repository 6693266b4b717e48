// A node's complete BIRD 2 configuration, rendered from plain values (pure): the router id and AS,
// one `protocol bgp` per peer (timers, BFD, password), and the /32s the node announces as
// blackhole routes of one static protocol, exported to every peer with the node as next hop.
// Nothing is imported from peers and there is no kernel protocol: BIRD on a node never touches
// the node's routing table. Same input, same text (peers and routes are sorted), so an unchanged
// config is recognisable by its text. It decides nothing about which prefixes or peers (the
// caller's input), and runs nothing (bird-control.ts).
//
// Sessions are multihop BGP with multihop BFD (UDP 4784), and `protocol bfd` accepts only those:
// the egw agent's own liveness endpoint holds <node IP>:3784, which single-hop BFD would need
// (docs/routing.md, "Why multihop BFD").
import type { Community } from "../api/routing.js";
import { compareBy, compareNumbers, compareStrings } from "../util/compare.js";
import { parseCidr, parseIpv4Number } from "../util/ip.js";
import { err, ok, type Result } from "../util/result.js";

export interface BirdBfdTiming {
  /** Transmit and receive interval. */
  intervalMs: number;
  multiplier: number;
}

export interface BirdPeer {
  /** The BGPPeer's name; the protocol is named after it (peerProtocolName). */
  name: string;
  /** IPv4 address of the router. */
  ip: string;
  asNumber: number;
  /** 0 = no hold timer (and no keepalives); else 3..65535, keepalives every third of it. */
  holdTimeSeconds: number;
  /** BFD on the session with these timers; undefined = off. */
  bfd?: BirdBfdTiming;
  /** TCP MD5 password. */
  password?: string;
}

export interface BirdAnnouncement {
  /** An IPv4 prefix, in practice an egress IP as a /32. */
  prefix: string;
  /** Parsed by api/routing.ts (parseCommunity, resolveCommunities). */
  communities: readonly Community[];
}

export interface BirdNodeConfig {
  /** The node's IPv4 address: router id, and the source of every session. */
  nodeIP: string;
  asNumber: number;
  /** TCP port the node's sessions use locally (BIRD listens on it). */
  listenPort: number;
  peers: readonly BirdPeer[];
  announce: readonly BirdAnnouncement[];
}

/** The static protocol holding the announced routes (and what the BGP export filter names). */
export const ANNOUNCE_PROTOCOL = "egw_egress";
export const BFD_PROTOCOL = "egw_bfd";
const PEER_PROTOCOL_PREFIX = "peer.";

/** BIRD's protocol name for a BGPPeer (a quoted symbol: peer names contain '-' and '.'). */
export const peerProtocolName = (peer: string): string => `${PEER_PROTOCOL_PREFIX}${peer}`;

/** The BGPPeer a protocol name belongs to (undefined: not one of the rendered peers). */
export const peerOfProtocol = (protocol: string): string | undefined =>
  protocol.startsWith(PEER_PROTOCOL_PREFIX) ? protocol.slice(PEER_PROTOCOL_PREFIX.length) : undefined;

/**
 * Timestamps in `show protocols` as RFC 3339 with the offset (BIRD's default is a bare
 * time of day), so status can say when a session last changed.
 */
export const PROTOCOL_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z";

const U16 = 0xffff;
const U32 = 0xffffffff;
const isUint = (n: number, max: number): boolean => Number.isInteger(n) && n >= 0 && n <= max;

/** A BIRD string literal has no escapes: it ends at the next `"` and may not span lines. */
const birdStringProblem = (s: string): string | undefined =>
  /["\n\r\0]/.test(s) ? 'must not contain `"`, a line break or NUL' : undefined;

const problems = (c: BirdNodeConfig): string[] => {
  const out: string[] = [];
  const asOk = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= U32;
  if (parseIpv4Number(c.nodeIP) === undefined) out.push(`nodeIP: "${c.nodeIP}" is not an IPv4 address`);
  if (!asOk(c.asNumber)) out.push(`asNumber: ${c.asNumber} is not an AS number (1-4294967295)`);
  if (!isUint(c.listenPort, U16) || c.listenPort === 0)
    out.push(`listenPort: ${c.listenPort} is not a TCP port (1-65535)`);
  const names = new Set<string>();
  for (const p of c.peers) {
    const at = `peers[${p.name}]`;
    if (p.name === "" || /['\n\r\0]/.test(p.name)) out.push(`${at}.name: not usable as a BIRD protocol name`);
    if (names.has(p.name)) out.push(`${at}.name: two peers with this name`);
    names.add(p.name);
    if (parseIpv4Number(p.ip) === undefined) out.push(`${at}.ip: "${p.ip}" is not an IPv4 address`);
    if (!asOk(p.asNumber)) out.push(`${at}.asNumber: ${p.asNumber} is not an AS number (1-4294967295)`);
    if (!(
      p.holdTimeSeconds === 0 ||
      (Number.isInteger(p.holdTimeSeconds) && p.holdTimeSeconds >= 3 && p.holdTimeSeconds <= U16)
    ))
      out.push(`${at}.holdTimeSeconds: ${p.holdTimeSeconds} is not 0 or 3-65535`);
    if (p.bfd !== undefined) {
      if (!(Number.isInteger(p.bfd.intervalMs) && p.bfd.intervalMs >= 1))
        out.push(`${at}.bfd.intervalMs: ${p.bfd.intervalMs} is not a positive integer`);
      if (!(Number.isInteger(p.bfd.multiplier) && p.bfd.multiplier >= 1 && p.bfd.multiplier <= 255))
        out.push(`${at}.bfd.multiplier: ${p.bfd.multiplier} is not 1-255`);
    }
    const pw = p.password === undefined ? undefined : birdStringProblem(p.password);
    if (pw !== undefined) out.push(`${at}.password: ${pw}`);
  }
  for (const a of c.announce) {
    const cidr = parseCidr(a.prefix);
    if (!cidr.ok || cidr.value.version !== 4) out.push(`announce[${a.prefix}]: not an IPv4 prefix`);
  }
  return out;
};

const sortedAnnouncements = (announce: readonly BirdAnnouncement[]): BirdAnnouncement[] => {
  const key = (prefix: string): [number, number] => {
    const [ip, len] = prefix.split("/");
    return [parseIpv4Number(ip ?? "") ?? 0, Number(len)];
  };
  return [...announce].sort((a, b) => {
    const [ia, la] = key(a.prefix);
    const [ib, lb] = key(b.prefix);
    return compareNumbers(ia, ib) || compareNumbers(la, lb);
  });
};

const communityStatement = (c: Community): string =>
  c.type === "standard"
    ? `bgp_community.add((${c.parts.join(",")}));`
    : `bgp_large_community.add((${c.parts.join(",")}));`;

const routeLine = (a: BirdAnnouncement): string => {
  const cidr = parseCidr(a.prefix);
  const prefix = cidr.ok ? cidr.value.text : a.prefix;
  const unique = [...new Map(a.communities.map((c) => [c.text, c])).entries()]
    .sort(([x], [y]) => compareStrings(x, y))
    .map(([, c]) => c);
  if (unique.length === 0) return `  route ${prefix} blackhole;`;
  return `  route ${prefix} blackhole { ${unique.map(communityStatement).join(" ")} };`;
};

const peerBlock = (c: BirdNodeConfig, p: BirdPeer): string[] => {
  const hold =
    p.holdTimeSeconds === 0
      ? "  hold time 0;"
      : `  hold time ${p.holdTimeSeconds}; keepalive time ${Math.max(1, Math.floor(p.holdTimeSeconds / 3))};`;
  const bfd =
    p.bfd === undefined
      ? "  bfd off;"
      : `  bfd { min rx interval ${p.bfd.intervalMs} ms; min tx interval ${p.bfd.intervalMs} ms; multiplier ${p.bfd.multiplier}; };`;
  return [
    `protocol bgp '${peerProtocolName(p.name)}' {`,
    `  description "BGPPeer ${p.name}";`,
    `  local ${c.nodeIP} port ${c.listenPort} as ${c.asNumber};`,
    `  neighbor ${p.ip} as ${p.asNumber};`,
    "  multihop;",
    hold,
    // A failed session retries within seconds, not BIRD's default 60-300 s.
    "  connect retry time 5; error wait time 1,10;",
    bfd,
    ...(p.password === undefined ? [] : [`  password "${p.password}";`]),
    `  ipv4 { import none; export where proto = "${ANNOUNCE_PROTOCOL}"; next hop self; };`,
    "}",
  ];
};

/** The node's whole bird.conf, or every problem of the input (field path and what is valid). */
export function renderNodeBirdConfig(c: BirdNodeConfig): Result<string, string[]> {
  const bad = problems(c);
  if (bad.length > 0) return err(bad);
  const peers = [...c.peers].sort(compareBy((p) => p.name));
  const lines = [
    "# Written by the egw agent; replaced on every change (edits here are lost).",
    "log stderr { info, remote, warning, error, auth, fatal, bug };",
    `router id ${c.nodeIP};`,
    `timeformat protocol "${PROTOCOL_TIME_FORMAT}";`,
    "",
    "protocol device { scan time 10; }",
    "",
    ...(peers.some((p) => p.bfd !== undefined)
      ? [`protocol bfd ${BFD_PROTOCOL} { accept ipv4 multihop; }`, ""]
      : []),
    `protocol static ${ANNOUNCE_PROTOCOL} {`,
    "  ipv4;",
    ...sortedAnnouncements(c.announce).map(routeLine),
    "}",
    ...peers.flatMap((p) => ["", ...peerBlock(c, p)]),
    "",
  ];
  return ok(lines.join("\n"));
}
