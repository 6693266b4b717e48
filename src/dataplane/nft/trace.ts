// Runs one IPv4 packet through a ruleset the way the kernel's nf_tables does, so unit tests can
// check what rendered rules do without root (kube-proxy's nftables tracer is the idea): the base
// chains of every table in hook order and priority, jump/goto/return, verdict maps, named and
// inline sets, prefixes, concatenations, wildcard interface names, masked marks, mark and snat
// statements. It does not route: `rt ip nexthop` reads the next hop the packet says routing chose
// (Packet.nexthop). NAT chains see only a connection's first packet, as with conntrack. Anything it
// cannot evaluate — a field the packet does not carry, a port of a protocol without ports, a
// name the table lacks — is an error, never a silent match or miss.
import { err, ok, type Result } from "../../util/result.js";
import { fail, Matcher, TraceError, u32, type Packet } from "./match.js";
import type { Chain, Hook, Rule, SimpleVerdict, Table } from "./objects.js";
import { PRIORITIES } from "./objects.js";

export type { Packet } from "./match.js";

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

/** The kernel's limit on nested jumps (NFT_JUMP_STACK_SIZE). */
const MAX_DEPTH = 16;

export class Tracer {
  private readonly matchers = new Map<string, Matcher>();
  private readonly chains = new Map<string, Map<string, Chain>>();
  private readonly hooked = new Map<Hook, { table: string; chain: Chain }[]>();

  constructor(private readonly tables: readonly Table[]) {
    for (const t of tables) {
      const chains = new Map<string, Chain>();
      for (const o of t.objects) if (o.kind === "chain") chains.set(o.name, o);
      this.chains.set(t.name, chains);
      this.matchers.set(t.name, new Matcher(t));
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
    const matcher = this.matchers.get(table) ?? fail(`table "${table}" is not traced`);
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
      if (!r.match.every((m) => matcher.matches(m, s.packet))) {
        i++;
        continue;
      }
      const done = this.execute(table, chain, i, r, s);
      if (done !== undefined) return done;
      const v = r.verdict;
      const simple = v === undefined || v.kind !== "vmap" ? v : matcher.mapLookup(v.map, v.key, s.packet);
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
}
