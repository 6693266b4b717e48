// What a rule sees of a packet and whether a match holds: field values (masked, concatenated),
// values, ranges, inline and named sets (exact, prefix and concatenation lookups), wildcard
// interface names, and verdict-map lookups. The tracer's half that knows no chains. Anything it
// cannot evaluate throws TraceError (trace.ts turns it into an error value).
import { parseIpv4Number } from "../../util/ip.js";
import type {
  CtState,
  Field,
  KeyType,
  Match,
  NftMap,
  NftSet,
  Selector,
  SimpleVerdict,
  Table,
  Value,
} from "./objects.js";
import { FIELD_TYPES, valuesOf } from "./objects.js";

/** An IPv4 packet as the tracer sees it. */
export interface Packet {
  /** Input interface name. */
  iif: string;
  /** Output interface name (needed only by rules that look at it). */
  oif?: string;
  /**
   * The next hop routing chose (`rt ip nexthop`: a gateway route's gateway, or the destination
   * itself on a direct route). The tracer does not route: the caller says what routing chose,
   * and a rule that reads it from a packet without one is an error.
   */
  nexthop?: string;
  saddr: string;
  daddr: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP…). */
  l4proto: number;
  /** Destination port, for protocols that have ports. */
  dport?: number;
  ct: { state: CtState; direction: "original" | "reply"; mark: number };
  /** The packet's meta mark as it arrives. */
  mark: number;
}

/** Protocols whose transport header starts with ports (what `th dport` reads). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

/** What the tracer cannot evaluate (thrown inside, returned as an error value by Tracer.trace). */
export class TraceError extends Error {}
export const fail = (message: string): never => {
  throw new TraceError(message);
};

export const u32 = (n: number): number => n >>> 0;

const ipv4Value = (text: string): number => parseIpv4Number(text) ?? fail(`"${text}" is not an IPv4 address`);

/** A value in the form lookups compare: IPv4 as a number, marks as unsigned, names as they are. */
function normal(type: KeyType, v: Value): string {
  if (type === "ipv4_addr") return String(ipv4Value(String(v)));
  if (typeof v === "number") return String(u32(v));
  return v;
}

/** An address or prefix as its first and last address (host bits ignored, as nft does). */
function prefixRange(text: string): readonly [number, number] {
  const [addr = "", len] = text.split("/");
  const n = ipv4Value(addr);
  if (len === undefined) return [n, n];
  if (!/^([0-9]|[12][0-9]|3[0-2])$/.test(len)) fail(`"${text}" is not an IPv4 prefix`);
  const size = 2 ** (32 - Number(len));
  const first = n - (n % size);
  return [first, first + size - 1];
}

interface Lookup {
  /** Non-interval sets and maps: normalised key → verdict (sets hold `true`). */
  exact?: Map<string, SimpleVerdict | true>;
  /** Interval sets: address ranges. */
  ranges?: (readonly [number, number])[];
}

/** Evaluates matches and verdict-map lookups against the sets of one table. */
export class Matcher {
  private readonly sets = new Map<string, NftSet | NftMap>();
  private readonly lookups = new WeakMap<NftSet | NftMap, Lookup>();

  constructor(table: Table) {
    for (const o of table.objects) if (o.kind !== "chain") this.sets.set(o.name, o);
  }

  private fieldValue(f: Field, p: Packet): Value {
    switch (f) {
      case "iifname":
      case "iif":
        return p.iif;
      case "oifname":
        return p.oif ?? fail("the packet has no output interface (oifname)");
      case "meta nfproto":
        return "ipv4";
      case "meta l4proto":
        return p.l4proto;
      case "meta mark":
        return p.mark;
      case "ip saddr":
        return p.saddr;
      case "ip daddr":
        return p.daddr;
      case "th dport":
        if (!PORT_PROTOCOLS.has(p.l4proto)) fail(`th dport of protocol ${p.l4proto}, which has no ports`);
        return p.dport ?? fail("the packet has no destination port");
      case "tcp dport":
      case "udp dport":
        return p.dport ?? fail("the packet has no destination port");
      case "ct state":
        return p.ct.state;
      case "ct direction":
        return p.ct.direction;
      case "ct mark":
        return p.ct.mark;
      case "rt ip nexthop":
        return p.nexthop ?? fail("the packet has no routing decision (rt ip nexthop)");
      default:
        return fail(`field "${String(f)}" is not one the tracer knows`);
    }
  }

  /** The selector's values, one per field (masked when it has a mask); undefined when a
   * protocol-specific field does not apply (`udp dport` of a TCP packet never matches). */
  private selectorValues(sel: Selector, p: Packet): Value[] | undefined {
    const out: Value[] = [];
    for (const f of sel.fields) {
      if ((f === "tcp dport" && p.l4proto !== 6) || (f === "udp dport" && p.l4proto !== 17)) return undefined;
      const v = this.fieldValue(f, p);
      out.push(sel.mask !== undefined ? u32(Number(v) & sel.mask) : v);
    }
    return out;
  }

  /** Whether `m` holds for `p`. */
  matches(m: Match, p: Packet): boolean {
    const values = this.selectorValues(m.left, p);
    if (values === undefined) return false;
    const types = m.left.fields.map(
      (f) => FIELD_TYPES[f] ?? fail(`field "${f}" is not one the tracer knows`),
    );
    const r = m.right;
    const v = values[0] as Value;
    const single = types.length === 1 ? (types[0] as KeyType) : undefined;
    let found: boolean;
    switch (r.kind) {
      case "set": {
        const set = this.sets.get(r.name) ?? fail(`set "${r.name}" does not exist`);
        if (set.kind !== "set") return fail(`"${r.name}" is a map, not a set`);
        found = this.inSet(set, types, values);
        break;
      }
      case "value":
        if (single === undefined) return fail("a concatenation compared with a single value");
        found = equalValue(single, v, r.value);
        break;
      case "range":
        found = typeof v === "number" && v >= r.from && v <= r.to;
        break;
      case "anonymous":
        found =
          typeof v === "number" &&
          r.elements.some((e) => (typeof e === "number" ? v === e : v >= e.from && v <= e.to));
        break;
      case "states":
        found = r.states.includes(v as CtState);
        break;
      default:
        return fail(`operand ${JSON.stringify(r)} is not one the tracer knows`);
    }
    return m.op === "!=" ? !found : found;
  }

  private lookupOf(o: NftSet | NftMap): Lookup {
    let l = this.lookups.get(o);
    if (l !== undefined) return l;
    if (o.kind === "set" && o.interval) {
      l = { ranges: o.elements.map((e) => prefixRange(String(valuesOf(e)[0]))) };
    } else {
      const exact = new Map<string, SimpleVerdict | true>();
      const keyText = (e: Parameters<typeof valuesOf>[0]): string =>
        valuesOf(e)
          .map((v, i) =>
            normal(
              o.type[i] ?? fail(`element ${JSON.stringify(e)} has more values than "${o.name}" has types`),
              v,
            ),
          )
          .join("\u0000");
      if (o.kind === "set") for (const e of o.elements) exact.set(keyText(e), true);
      else for (const e of o.elements) exact.set(keyText(e.key), e.verdict);
      l = { exact };
    }
    this.lookups.set(o, l);
    return l;
  }

  private inSet(set: NftSet, types: readonly KeyType[], values: readonly Value[]): boolean {
    if (set.type.join(" . ") !== types.join(" . "))
      fail(`set "${set.name}" holds ${set.type.join(" . ")}, the rule looks up ${types.join(" . ")}`);
    const l = this.lookupOf(set);
    if (l.ranges !== undefined) {
      const n = ipv4Value(String(values[0]));
      return l.ranges.some(([lo, hi]) => n >= lo && n <= hi);
    }
    return l.exact?.has(values.map((v, i) => normal(types[i] as KeyType, v)).join("\u0000")) ?? false;
  }

  /** The verdict `map` holds for the packet's key, or undefined when it holds none. */
  mapLookup(name: string, key: Selector, p: Packet): SimpleVerdict | undefined {
    const map = this.sets.get(name) ?? fail(`verdict map "${name}" does not exist`);
    if (map.kind !== "map") return fail(`"${name}" is a set, not a verdict map`);
    const types = key.fields.map((f) => FIELD_TYPES[f]);
    if (map.type.join(" . ") !== types.join(" . "))
      fail(
        `verdict map "${name}" is keyed by ${map.type.join(" . ")}, the rule looks up ${types.join(" . ")}`,
      );
    const values = this.selectorValues(key, p);
    if (values === undefined) return undefined;
    const v = this.lookupOf(map).exact?.get(
      values.map((x, i) => normal(types[i] as KeyType, x)).join("\u0000"),
    );
    return v === true ? fail(`"${name}" holds no verdicts`) : v;
  }
}

function equalValue(type: KeyType, have: Value, want: Value): boolean {
  switch (type) {
    case "ifname":
      return typeof want === "string" && want.endsWith("*")
        ? String(have).startsWith(want.slice(0, -1))
        : have === want;
    case "ipv4_addr": {
      const [lo, hi] = prefixRange(String(want));
      const n = ipv4Value(String(have));
      return n >= lo && n <= hi;
    }
    case "mark":
    case "inet_proto":
    case "inet_service":
      return u32(Number(have)) === u32(Number(want));
    default:
      return have === want;
  }
}
