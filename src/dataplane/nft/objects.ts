// The nft objects egw renders, as typed values: tables holding sets, verdict maps and chains;
// rules as typed matches, statements, a verdict and a comment. Only the shapes egw really uses
// exist here (knftables' objects.go is the model); text comes from text.ts, checks from
// validate.ts, and trace.ts interprets the same values. No I/O, no text.

/** A value a field or a set element holds: names and addresses as text, numbers as numbers. */
export type Value = string | number;

/** nft data types of the fields egw matches on (the names nft uses in `type …` declarations). */
export type KeyType =
  | "ifname"
  | "iface_index"
  | "ipv4_addr"
  | "mark"
  | "inet_proto"
  | "inet_service"
  | "nf_proto"
  | "ct_state"
  | "ct_dir";

/** What a rule can look at in a packet (the text is nft's own name for it). */
export type Field =
  | "iifname"
  | "oifname"
  | "iif"
  | "meta nfproto"
  | "meta l4proto"
  | "meta mark"
  | "ip saddr"
  | "ip daddr"
  | "th dport"
  | "tcp dport"
  | "udp dport"
  | "ct state"
  | "ct direction"
  | "ct mark"
  /** The IPv4 next hop the routing decision chose (a nexthop group's pick included): after routing only. */
  | "rt ip nexthop";

export const FIELD_TYPES: Readonly<Record<Field, KeyType>> = {
  iifname: "ifname",
  oifname: "ifname",
  iif: "iface_index",
  "meta nfproto": "nf_proto",
  "meta l4proto": "inet_proto",
  "meta mark": "mark",
  "ip saddr": "ipv4_addr",
  "ip daddr": "ipv4_addr",
  "th dport": "inet_service",
  "tcp dport": "inet_service",
  "udp dport": "inet_service",
  "ct state": "ct_state",
  "ct direction": "ct_dir",
  "ct mark": "mark",
  "rt ip nexthop": "ipv4_addr",
};

export const CT_STATES = ["new", "established", "related", "invalid", "untracked"] as const;
export type CtState = (typeof CT_STATES)[number];

/**
 * The left side of a match or the key of a verdict-map lookup: one field, a concatenation of
 * fields (`iifname . ip saddr`), or one mark field under a bit mask (`ct mark and 0x0fff0000`).
 */
export interface Selector {
  readonly fields: readonly Field[];
  readonly mask?: number;
}

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** The right side of a match. */
export type Operand =
  /** One value; an ifname value ending in `*` is a prefix wildcard. */
  | { readonly kind: "value"; readonly value: Value }
  | { readonly kind: "range"; readonly from: number; readonly to: number }
  /** A named set of the same table (`@name`). */
  | { readonly kind: "set"; readonly name: string }
  /** An inline set of numbers and ranges (`{ 6, 17 }`, `{ 79-81, 1000-2000 }`). */
  | { readonly kind: "anonymous"; readonly elements: readonly (number | PortRange)[] }
  /** Any of these ct states (`established,related`). */
  | { readonly kind: "states"; readonly states: readonly CtState[] };

export interface Match {
  readonly left: Selector;
  readonly op: "==" | "!=";
  readonly right: Operand;
}

export type Statement =
  | { readonly kind: "counter"; readonly packets?: number; readonly bytes?: number }
  /** NFLOG to a group with a prefix. */
  | { readonly kind: "log"; readonly prefix: string; readonly group: number }
  /** Sets the bits of `mask` in the meta or ct mark to `value`, keeping every bit outside it. */
  | { readonly kind: "mark"; readonly target: "meta" | "ct"; readonly mask: number; readonly value: number }
  | { readonly kind: "snat"; readonly to: string };

/** A verdict a set-map element can hold. */
export type SimpleVerdict =
  | { readonly kind: "accept" | "drop" | "return" }
  | { readonly kind: "jump" | "goto"; readonly chain: string };

/** A rule's verdict: a simple one, or a lookup of the selector's value in a verdict map. */
export type Verdict = SimpleVerdict | { readonly kind: "vmap"; readonly key: Selector; readonly map: string };

export interface Rule {
  readonly match: readonly Match[];
  readonly statements: readonly Statement[];
  readonly verdict?: Verdict;
  readonly comment?: string;
}

export type Hook = "prerouting" | "input" | "forward" | "output" | "postrouting";
/** Named priorities of the inet family (nft's `priority dstnat + 10` and the like). */
export const PRIORITIES = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
export type PriorityName = keyof typeof PRIORITIES;

export interface BaseChain {
  readonly type: "filter" | "nat";
  readonly hook: Hook;
  readonly priority: { readonly base: PriorityName; readonly offset: number };
  readonly policy: "accept" | "drop";
}

export interface Chain {
  readonly kind: "chain";
  readonly name: string;
  /** Present for a base chain (hooked into the packet path); absent for a regular chain. */
  readonly base?: BaseChain;
  readonly rules: readonly Rule[];
}

/**
 * A set element: the value itself when the set has one key type, one value per key type for a
 * concatenation (`["ew1", "10.0.0.1"]` in an `ifname . ipv4_addr` set). Single values are kept
 * bare because sets of 100,000 prefixes are rendered on every change.
 */
export type Element = Value | readonly Value[];

/** An element's values, one per key type. */
export const valuesOf = (e: Element): readonly Value[] => (typeof e === "object" ? e : [e]);

/** The identity of an element inside its set (the kernel compares keys by value). */
export const elementKey = (e: Element): string => (typeof e === "object" ? e.join("\u0000") : String(e));

export interface NftSet {
  readonly kind: "set";
  readonly name: string;
  readonly type: readonly KeyType[];
  /** Elements are prefixes (`flags interval`), merged when they overlap (`auto-merge`). */
  readonly interval?: boolean;
  readonly elements: readonly Element[];
}

export interface MapElement {
  readonly key: Element;
  readonly verdict: SimpleVerdict;
}

/** A verdict map (`type <key> : verdict`). */
export interface NftMap {
  readonly kind: "map";
  readonly name: string;
  readonly type: readonly KeyType[];
  readonly elements: readonly MapElement[];
}

export type TableObject = NftSet | NftMap | Chain;

/** An `inet` table; objects in declaration order (the order the text lists them). */
export interface Table {
  readonly name: string;
  readonly objects: readonly TableObject[];
}

// Constructors that keep the renderers short.

const SINGLE = new Map<Field, Selector>();
/** One field (shared, immutable selector objects), or one mark field under a mask. */
export const field = (f: Field, mask?: number): Selector => {
  if (mask !== undefined) return { fields: [f], mask };
  let s = SINGLE.get(f);
  if (s === undefined) SINGLE.set(f, (s = Object.freeze({ fields: Object.freeze([f]) })));
  return s;
};
export const concat = (...fields: Field[]): Selector => ({ fields });

const matchOf =
  (op: Match["op"]) =>
  (left: Field | Selector, right: Value | Operand): Match => ({
    left: typeof left === "string" ? field(left) : left,
    op,
    right: typeof right === "object" ? right : { kind: "value", value: right },
  });
/** `left right` (equal, in the set, in the range, any of the states). */
export const is = matchOf("==");
/** `left != right`. */
export const isNot = matchOf("!=");

export const inSet = (name: string): Operand => ({ kind: "set", name });
export const states = (...s: CtState[]): Operand => ({ kind: "states", states: s });
export const anonymous = (elements: readonly (number | PortRange)[]): Operand => ({
  kind: "anonymous",
  elements,
});

const COUNTER: Statement = Object.freeze({ kind: "counter" });
/** A counter starting at zero (one shared value: statements are never changed in place). */
export const counter = (): Statement => COUNTER;
export const log = (prefix: string, group: number): Statement => ({ kind: "log", prefix, group });
export const setMark = (target: "meta" | "ct", mask: number, value: number): Statement => ({
  kind: "mark",
  target,
  mask,
  value,
});

export const ACCEPT: SimpleVerdict = Object.freeze({ kind: "accept" });
export const DROP: SimpleVerdict = Object.freeze({ kind: "drop" });
export const RETURN: SimpleVerdict = Object.freeze({ kind: "return" });
export const jump = (chain: string): SimpleVerdict => ({ kind: "jump", chain });
export const goto = (chain: string): SimpleVerdict => ({ kind: "goto", chain });
export const vmap = (key: Field | Selector, map: string): Verdict => ({
  kind: "vmap",
  key: typeof key === "string" ? field(key) : key,
  map,
});

export const rule = (
  match: readonly Match[],
  statements: readonly Statement[] = [],
  verdict?: Verdict,
  comment?: string,
): Rule => {
  // Built for every rule of every render (10,000-rule policies): no spreads.
  const r: {
    match: readonly Match[];
    statements: readonly Statement[];
    verdict?: Verdict;
    comment?: string;
  } = {
    match,
    statements,
  };
  if (verdict !== undefined) r.verdict = verdict;
  if (comment !== undefined) r.comment = comment;
  return r;
};

export const chain = (name: string, rules: readonly Rule[], base?: BaseChain): Chain => ({
  kind: "chain",
  name,
  ...(base !== undefined ? { base } : {}),
  rules,
});

export const set = (
  name: string,
  type: readonly KeyType[],
  elements: readonly Element[],
  opts: { interval?: boolean } = {},
): NftSet => ({ kind: "set", name, type, ...(opts.interval ? { interval: true } : {}), elements });

export const verdictMap = (
  name: string,
  type: readonly KeyType[],
  elements: readonly MapElement[],
): NftMap => ({
  kind: "map",
  name,
  type,
  elements,
});

/** Sets and maps whose element count the kernel reports as rendered (interval sets may merge). */
export const countsElements = (o: NftSet | NftMap): boolean => o.kind === "map" || o.interval !== true;
