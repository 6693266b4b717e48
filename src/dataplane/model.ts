// Kernel objects the dataplane manages, as plain data: what a renderer wants (desired) and what
// a read-back found (observed). Both sides use canonical text (CIDRs with prefix, lower-case MACs)
// so a diff is a plain comparison.

/** The egress VXLAN device. */
export interface VxlanLink {
  name: string;
  vni: number;
  port: number;
  local: string;
  mac: string;
  mtu: number;
}

export interface ObservedLink {
  name: string;
  vni?: number;
  port?: number;
  local?: string;
  learning?: boolean;
  mac: string;
  mtu: number;
  up: boolean;
}

/** A tunnel peer: permanent neighbour ip → mac and FDB mac → vtep on the VXLAN device. */
export interface TunnelPeer {
  ip: string;
  mac: string;
  vtep: string;
}

export interface ObservedNeighbour {
  ip: string;
  mac?: string;
  permanent: boolean;
}

export interface ObservedFdb {
  mac: string;
  dst?: string;
}

/** sysctl key (slash form, e.g. `net/ipv4/conf/egw.vxlan/rp_filter`) → value. */
export type Sysctls = Record<string, string>;

/**
 * A route in an egw table. Gateway routes name their resilient group by a logical key; a pin or
 * liveness route goes to one replica (`via <gateway> dev egw.vxlan onlink`).
 */
export type DesiredTableRoute =
  | { table: number; dst: string; kind: "group"; group: string }
  | { table: number; dst: string; kind: "via"; gateway: string }
  | { table: number; dst: string; kind: "throw" | "unreachable" };

/** A resilient nexthop group over gateway hops (each hop `via <ip> dev <vxlan> onlink`). */
export interface DesiredGroup {
  /** Logical identity: `<table> <dst>`; the kernel id is assigned (or adopted) by the diff. */
  key: string;
  hops: string[];
}

/**
 * An ip rule: `from <from> [fwmark <mark>/<mask>] [ipproto <p>] [sport <n>] [dport <n>] lookup <table>`.
 * Gateway-set and pin rules match a mark; liveness rules match BFD's protocol and port.
 */
export interface DesiredRule {
  priority: number;
  from: string;
  mark?: number;
  mask?: number;
  ipproto?: "udp";
  sport?: number;
  dport?: number;
  table: number;
}

export interface ObservedNexthop {
  id: number;
  gateway?: string;
  dev?: string;
  onlink: boolean;
  group?: number[];
  resilient?: { buckets: number; idleTimer: number };
}

export interface ObservedRoute {
  table: number;
  dst: string;
  /** `unicast`, `throw`, `unreachable`, … as iproute2 names it. */
  type: string;
  nhid?: number;
  gateway?: string;
  dev?: string;
  onlink?: boolean;
}

export interface ObservedRule {
  priority: number;
  from: string;
  fwmark?: number;
  fwmask?: number;
  /** Protocol name as iproute2 prints it (`udp`), or its number when it has no name. */
  ipproto?: string;
  /** Single ports; a port range is read as its text (`1000-2000`) so it never equals a port. */
  sport?: number | string;
  dport?: number | string;
  table?: number;
}

/** Expected outline of an nft table: enough to notice a deleted, flushed or edited table. */
export interface NftShape {
  table: string;
  hash: string;
  /** Chain name → rule count. */
  chains: Record<string, number>;
  /** Set/map name → element count (interval sets are left out: nft may merge elements). */
  sets: Record<string, number>;
}

/** Packets and bytes of one nft counter. */
export interface CounterValue {
  packets: number;
  bytes: number;
}

/** Counter values by the comment of the rule holding them (each comment names one counter). */
export type CounterValues = ReadonlyMap<string, CounterValue>;

/** What a read of `nft -j list table` found. */
export interface ObservedNft {
  exists: boolean;
  hash?: string;
  chains: Record<string, number>;
  sets: Record<string, number>;
  /**
   * Values of the counters on rules with a comment, carried into the next table replacement so
   * they do not restart at zero. Never part of the match: counters move on every packet.
   */
  counters?: CounterValues;
}
