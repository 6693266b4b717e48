// Pure parsers of `ip -json`, `bridge -json` and `nft -j` output into the dataplane's model.
// Unknown shapes are skipped rather than trusted: a read-back never throws.
import { markOfSlot, slotOfTable } from "./band.js";
import { canonicalCidr4 } from "../util/ip.js";
import { hashFromComment, VERSION_CHAIN } from "./nft-text.js";
import type {
  ObservedFdb,
  ObservedLink,
  ObservedNeighbour,
  ObservedNexthop,
  CounterValue,
  ObservedNft,
  ObservedRoute,
  ObservedRule,
} from "./model.js";

type Json = Record<string, unknown>;

const asArray = (v: unknown): Json[] =>
  Array.isArray(v) ? v.filter((x): x is Json => typeof x === "object" && x !== null) : [];
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Parses JSON text; malformed or empty output (iproute2 prints nothing for no objects) is []. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") return [];
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const NAMED_TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };

export function tableNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  if (v in NAMED_TABLES) return NAMED_TABLES[v];
  return /^[0-9]+$/.test(v) ? Number(v) : undefined;
}

/** `ip -json -d link show dev X` → the link, when it is a VXLAN device or any link at all. */
export function parseLink(json: unknown): ObservedLink | undefined {
  const l = asArray(json)[0];
  if (l === undefined) return undefined;
  const info = (l.linkinfo ?? {}) as Json;
  const data = (info.info_data ?? {}) as Json;
  const vxlan = info.info_kind === "vxlan";
  const flags = Array.isArray(l.flags) ? l.flags : [];
  return {
    name: str(l.ifname) ?? "",
    vni: vxlan ? num(data.id) : undefined,
    port: vxlan ? num(data.port) : undefined,
    local: vxlan ? str(data.local) : undefined,
    learning: vxlan ? data.learning === true : undefined,
    mac: (str(l.address) ?? "").toLowerCase(),
    mtu: num(l.mtu) ?? 0,
    up: flags.includes("UP"),
  };
}

export const parseNeighbours = (json: unknown): ObservedNeighbour[] =>
  asArray(json).flatMap((n) => {
    const ip = str(n.dst);
    if (ip === undefined) return [];
    const state = Array.isArray(n.state) ? n.state : [];
    return [{ ip, mac: str(n.lladdr)?.toLowerCase(), permanent: state.includes("PERMANENT") }];
  });

export const parseFdb = (json: unknown): ObservedFdb[] =>
  asArray(json).flatMap((f) => {
    const mac = str(f.mac);
    return mac === undefined ? [] : [{ mac: mac.toLowerCase(), dst: str(f.dst) }];
  });

export const parseNexthops = (json: unknown): ObservedNexthop[] =>
  asArray(json).flatMap((n) => {
    const id = num(n.id);
    if (id === undefined) return [];
    const flags = Array.isArray(n.flags) ? n.flags : [];
    const res = n.resilient_args as Json | undefined;
    return [
      {
        id,
        gateway: str(n.gateway),
        dev: str(n.dev),
        onlink: flags.includes("onlink"),
        group: Array.isArray(n.group)
          ? asArray(n.group).flatMap((m) => (num(m.id) === undefined ? [] : [num(m.id) as number]))
          : undefined,
        resilient:
          n.type === "resilient" && res
            ? { buckets: num(res.buckets) ?? 0, idleTimer: num(res.idle_timer) ?? 0 }
            : undefined,
      },
    ];
  });

const routeDst = (dst: string | undefined): string | undefined =>
  dst === undefined ? undefined : dst === "default" ? "0.0.0.0/0" : canonicalCidr4(dst);

/** `ip -4 -json route show table all` (or one table: `fallbackTable` fills the missing field). */
export const parseRoutes = (json: unknown, fallbackTable = 254): ObservedRoute[] =>
  asArray(json).flatMap((r) => {
    const dst = routeDst(str(r.dst));
    const table = r.table === undefined ? fallbackTable : tableNumber(r.table);
    if (dst === undefined || table === undefined) return [];
    return [
      {
        table,
        dst,
        type: str(r.type) ?? "unicast",
        nhid: num(r.nhid),
        gateway: str(r.gateway),
        dev: str(r.dev),
        ...(Array.isArray(r.flags) && r.flags.includes("onlink") ? { onlink: true } : {}),
      },
    ];
  });

const hexNumber = (v: unknown): number | undefined => {
  if (typeof v === "number") return v;
  return typeof v === "string" && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : undefined;
};

/** A rule's port match: `sport`/`dport` for one port, `<x>_start`/`<x>_end` for a range. */
const portOf = (r: Json, key: "sport" | "dport"): number | string | undefined => {
  const single = num(r[key]);
  if (single !== undefined) return single;
  const start = num(r[`${key}_start`]);
  const end = num(r[`${key}_end`]);
  return start === undefined ? undefined : `${start}-${end ?? start}`;
};

export const parseRules = (json: unknown): ObservedRule[] =>
  asArray(json).flatMap((r) => {
    const priority = num(r.priority);
    if (priority === undefined) return [];
    const src = str(r.src);
    const from = src === undefined || src === "all" ? "0.0.0.0/0" : `${src}/${num(r.srclen) ?? 32}`;
    const rule: ObservedRule = {
      priority,
      from,
      fwmark: hexNumber(r.fwmark),
      fwmask: hexNumber(r.fwmask),
      table: tableNumber(r.table),
    };
    const ipproto = r.ipproto === undefined ? undefined : String(r.ipproto);
    if (ipproto !== undefined) rule.ipproto = ipproto;
    const sport = portOf(r, "sport");
    if (sport !== undefined) rule.sport = sport;
    const dport = portOf(r, "dport");
    if (dport !== undefined) rule.dport = dport;
    return [rule];
  });

/** `nft -j list table inet X`: chain rule counts, set element counts and the version marker. */
export function parseNft(json: unknown): ObservedNft {
  const items = asArray((json as Json | undefined)?.nftables);
  const out: ObservedNft = { exists: false, chains: {}, sets: {} };
  const counters = new Map<string, CounterValue>();
  const ambiguous = new Set<string>();
  for (const item of items) {
    if (item.table) out.exists = true;
    const chain = item.chain as Json | undefined;
    if (chain && typeof chain.name === "string") out.chains[chain.name] ??= 0;
    const set = (item.set ?? item.map) as Json | undefined;
    if (set && typeof set.name === "string")
      out.sets[set.name] = Array.isArray(set.elem) ? set.elem.length : 0;
    const rule = item.rule as Json | undefined;
    if (rule && typeof rule.chain === "string") {
      out.chains[rule.chain] = (out.chains[rule.chain] ?? 0) + 1;
      if (rule.chain === VERSION_CHAIN && typeof rule.comment === "string")
        out.hash = hashFromComment(rule.comment) ?? out.hash;
      const counter = counterOf(rule);
      if (counter !== undefined && typeof rule.comment === "string") {
        // A comment on two counted rules does not say which value belongs where: keep neither.
        if (counters.has(rule.comment)) ambiguous.add(rule.comment);
        counters.set(rule.comment, counter);
      }
    }
  }
  for (const comment of ambiguous) counters.delete(comment);
  if (counters.size > 0) out.counters = counters;
  return out;
}

/** The first `counter` statement of a rule in `nft -j` output. */
function counterOf(rule: Json): CounterValue | undefined {
  for (const e of asArray(rule.expr)) {
    const c = e.counter as Json | undefined;
    const packets = num(c?.packets);
    const bytes = num(c?.bytes);
    if (packets !== undefined && bytes !== undefined) return { packets, bytes };
  }
  return undefined;
}

/** `egw_set_<table>` / `egw_restore_<table>` (render-node.ts) → table, else undefined. */
const tableOfChain = (target: unknown, prefix: string): number | undefined => {
  if (typeof target !== "string" || !target.startsWith(prefix)) return undefined;
  const rest = target.slice(prefix.length);
  return /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
};

const jumpTarget = (verdict: unknown): unknown =>
  ((verdict as Json | undefined)?.jump as Json | undefined)?.target;

/**
 * `nft -j list table inet egw` on a client node → workload IP → the gateway-set slot the kernel
 * steers its new connections with (map `egw_pod_set`: ip → jump egw_set_<table>), and replica IP
 * → the slot of its pin (map `egw_pin`: ip → jump egw_pin_<table>). A slot counts only when
 * `egw_mark_restore` maps that slot's mark to the same table, i.e. established connections
 * carrying the mark are routed by it; anything else was not written by this design.
 */
export function parseKernelSlots(json: unknown): {
  workloads: Map<string, number>;
  pins: Map<string, number>;
} {
  const elems = new Map<string, unknown[][]>();
  for (const item of asArray((json as Json | undefined)?.nftables)) {
    const map = item.map as Json | undefined;
    if (map && typeof map.name === "string" && Array.isArray(map.elem))
      elems.set(
        map.name,
        map.elem.filter((e): e is unknown[] => Array.isArray(e)),
      );
  }
  const restored = new Set<number>();
  for (const [mark, verdict] of elems.get("egw_mark_restore") ?? []) {
    const slot = slotOfTable(tableOfChain(jumpTarget(verdict), "egw_restore_") ?? 0);
    if (slot !== undefined && hexNumber(mark) === markOfSlot(slot)) restored.add(slot);
  }
  const slotsOf = (map: string, chainPrefix: string): Map<string, number> => {
    const slots = new Map<string, number>();
    for (const [ip, verdict] of elems.get(map) ?? []) {
      const slot = slotOfTable(tableOfChain(jumpTarget(verdict), chainPrefix) ?? 0);
      if (typeof ip === "string" && slot !== undefined && restored.has(slot)) slots.set(ip, slot);
    }
    return slots;
  };
  return { workloads: slotsOf("egw_pod_set", "egw_set_"), pins: slotsOf("egw_pin", "egw_pin_") };
}

/** Workload IP → gateway-set slot (parseKernelSlots without the pins). */
export const parseWorkloadSlots = (json: unknown): Map<string, number> => parseKernelSlots(json).workloads;
