// Runs one IPv4 packet through a ruleset the way the kernel's nf_tables does, so unit tests can
// check what rendered rules do without root (kube-proxy's nftables tracer is the idea): the base
// chains of every table in hook order and priority, jump/goto/return, verdict maps, named and
// inline sets, prefixes, concatenations, wildcard interface names, masked marks, mark and snat
// statements. NAT chains see only a connection's first packet, as with conntrack. Anything it
// cannot evaluate — a field the packet does not carry, a port of a protocol without ports, a
// name the table lacks — is an error, never a silent match or miss.
import { parseIp } from "../../api/ip.js";
import { err, ok, type Result } from "../../util/result.js";
import type {
  Chain,
  CtState,
  Field,
  Hook,
  KeyType,
  Match,
  NftMap,
  NftSet,
  Rule,
  Selector,
  SimpleVerdict,
  Table,
  Value,
} from "./objects.js";
import { FIELD_TYPES, PRIORITIES, valuesOf } from "./objects.js";

export interface Packet {
  /** Input interface name. */
  iif: string;
  /** Output interface name (needed only by rules that look at it). */
  oif?: string;
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

/** One rule whose matches all held. */
export interface Hit {
  table: string;
  chain: string;
  /** Position of the rule in its chain. */
  rule: number;
  comment?: string;
  /** The rule counts the packet (a `counter` statement). */
  counted: boolean;
  /** NFLOG the rule sent. */
  log?: { prefix: string; group: number };
  /** The verdict the rule applied (a verdict map's element; none when its lookup missed). */
  verdict?: SimpleVerdict;
}

export interface Trace {
  verdict: "accept" | "drop";
  /** Meta and ct mark after the last chain. */
  mark: number;
  ctMark: number;
  /** Source address after NAT. */
  saddr: string;
  hits: Hit[];
}

/** The hooks a packet passes: routed through the host, delivered to it, or sent by it. */
export const PATHS: Readonly<Record<"forward" | "input" | "output", readonly Hook[]>> = {
  forward: ["prerouting", "forward", "postrouting"],
  input: ["prerouting", "input"],
  output: ["output", "postrouting"],
};

/** Protocols whose transport header starts with ports (what `th dport` reads). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
/** The kernel's limit on nested jumps (NFT_JUMP_STACK_SIZE). */
const MAX_DEPTH = 16;

class TraceError extends Error {}
const fail = (message: string): never => {
  throw new TraceError(message);
};

const u32 = (n: number): number => n >>> 0;

function ipv4Value(text: string): number {
  const ip = parseIp(text);
  return ip?.version === 4 ? Number(ip.value) : fail(`"${text}" is not an IPv4 address`);
}

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

export class Tracer {
  private readonly sets = new Map<string, Map<string, NftSet | NftMap>>();
  private readonly chains = new Map<string, Map<string, Chain>>();
  private readonly lookups = new WeakMap<NftSet | NftMap, Lookup>();
  private readonly hooked = new Map<Hook, { table: string; chain: Chain }[]>();

  constructor(private readonly tables: readonly Table[]) {
    for (const t of tables) {
      const sets = new Map<string, NftSet | NftMap>();
      const chains = new Map<string, Chain>();
      for (const o of t.objects) (o.kind === "chain" ? chains : sets).set(o.name, o as never);
      this.sets.set(t.name, sets);
      this.chains.set(t.name, chains);
    }
  }

  /** Runs `packet` through every base chain on `path`, in hook order then priority. */
  trace(packet: Packet, path: readonly Hook[] = PATHS.forward): Result<Trace, string> {
    const state = { packet: { ...packet, ct: { ...packet.ct } }, hits: [] as Hit[] };
    try {
      for (const hook of path) {
        for (const { table, chain } of this.baseChains(hook)) {
          if (chain.base?.type === "nat" && packet.ct.state !== "new") continue;
          if (this.runBase(table, chain, state) === "drop") return ok(this.result("drop", state));
        }
      }
      return ok(this.result("accept", state));
    } catch (e) {
      if (e instanceof TraceError) return err(e.message);
      throw e;
    }
  }

  private result(verdict: "accept" | "drop", s: { packet: Packet; hits: Hit[] }): Trace {
    return { verdict, mark: s.packet.mark, ctMark: s.packet.ct.mark, saddr: s.packet.saddr, hits: s.hits };
  }

  /** The base chains on `hook`, lowest priority first (ties: table order, as nft registers them). */
  private baseChains(hook: Hook): { table: string; chain: Chain }[] {
    let chains = this.hooked.get(hook);
    if (chains !== undefined) return chains;
    const out: { table: string; chain: Chain; priority: number }[] = [];
    for (const t of this.tables)
      for (const o of t.objects)
        if (o.kind === "chain" && o.base?.hook === hook) {
          const base =
            PRIORITIES[o.base.priority.base] ?? fail(`priority "${o.base.priority.base}" is unknown`);
          out.push({ table: t.name, chain: o, priority: base + o.base.priority.offset });
        }
    chains = out.sort((a, b) => a.priority - b.priority);
    this.hooked.set(hook, chains);
    return chains;
  }

  private runBase(table: string, base: Chain, s: { packet: Packet; hits: Hit[] }): "accept" | "drop" {
    const stack: { chain: Chain; next: number }[] = [];
    let chain = base;
    let i = 0;
    const enter = (v: SimpleVerdict): "accept" | "drop" | undefined => {
      switch (v.kind) {
        case "accept":
        case "drop":
          return v.kind;
        case "return": {
          const back = stack.pop();
          if (back === undefined) return base.base?.policy ?? "accept";
          chain = back.chain;
          i = back.next;
          return undefined;
        }
        case "jump":
        case "goto": {
          const target =
            this.chains.get(table)?.get(v.chain) ?? fail(`${v.kind} to unknown chain "${v.chain}"`);
          if (v.kind === "jump") {
            if (stack.length >= MAX_DEPTH) fail(`more than ${MAX_DEPTH} nested jumps (at ${v.chain})`);
            stack.push({ chain, next: i + 1 });
          }
          chain = target;
          i = 0;
          return undefined;
        }
      }
    };
    for (;;) {
      const r = chain.rules[i];
      if (r === undefined) {
        // Falling off a chain's end returns to the caller; off a base chain, its policy applies.
        const end = enter({ kind: "return" });
        if (end !== undefined) return end;
        continue;
      }
      if (!r.match.every((m) => this.matches(table, m, s.packet))) {
        i++;
        continue;
      }
      const done = this.execute(table, chain, i, r, s);
      if (done !== undefined) return done;
      const v = r.verdict;
      const simple = v === undefined || v.kind !== "vmap" ? v : this.mapLookup(table, v.map, v.key, s.packet);
      if (simple === undefined) {
        i++;
        continue;
      }
      (s.hits[s.hits.length - 1] as Hit).verdict = simple;
      const end = enter(simple);
      if (end !== undefined) return end;
    }
  }

  /** Runs a rule's statements; a terminal one (snat) ends the base chain with accept. */
  private execute(
    table: string,
    chain: Chain,
    i: number,
    r: Rule,
    s: { packet: Packet; hits: Hit[] },
  ): "accept" | undefined {
    const hit: Hit = { table, chain: chain.name, rule: i, counted: false };
    if (r.comment !== undefined) hit.comment = r.comment;
    s.hits.push(hit);
    let terminal = false;
    for (const st of r.statements) {
      switch (st.kind) {
        case "counter":
          hit.counted = true;
          break;
        case "log":
          hit.log = { prefix: st.prefix, group: st.group };
          break;
        case "mark":
          if (st.target === "meta") s.packet.mark = u32((s.packet.mark & ~st.mask) | st.value);
          else s.packet.ct.mark = u32((s.packet.ct.mark & ~st.mask) | st.value);
          break;
        case "snat":
          if (chain.base?.type !== "nat")
            fail(`snat in chain "${chain.name}", which is not a nat base chain`);
          s.packet.saddr = st.to;
          terminal = true;
          break;
        default:
          fail(`statement ${JSON.stringify(st)} is not one the tracer knows`);
      }
    }
    return terminal ? "accept" : undefined;
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

  private matches(table: string, m: Match, p: Packet): boolean {
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
        const set = this.sets.get(table)?.get(r.name) ?? fail(`set "${r.name}" does not exist`);
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

  private mapLookup(table: string, name: string, key: Selector, p: Packet): SimpleVerdict | undefined {
    const map = this.sets.get(table)?.get(name) ?? fail(`verdict map "${name}" does not exist`);
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
