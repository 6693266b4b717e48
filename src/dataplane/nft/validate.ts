// A table's internal consistency, checked before any text exists: every set, verdict map and
// chain a rule or element names exists with the right type, matches compare values of their
// field's type, statements are well formed, base chains hook where they may, and jumps form no
// loop. Values and elements are checked by values.ts. Returns the first problem or undefined. Pure.
import type {
  Chain,
  KeyType,
  Match,
  NftMap,
  NftSet,
  Rule,
  Selector,
  SimpleVerdict,
  Statement,
  Table,
} from "./objects.js";
import { CT_STATES, FIELD_TYPES, PRIORITIES } from "./objects.js";
import {
  checkElements,
  checkMapElements,
  checkObjectName,
  checkTableName,
  checkText,
  checkVerdictTarget,
  COMMENT_MAX,
  expected,
  IPV4,
  isUint,
  LOG_PREFIX_MAX,
  validIfnamePrefix,
  validValue,
} from "./values.js";

const sameTypes = (a: readonly KeyType[], b: readonly KeyType[]): boolean =>
  a.length === b.length && a.every((t, i) => t === b[i]);

interface Scope {
  sets: ReadonlyMap<string, NftSet>;
  maps: ReadonlyMap<string, NftMap>;
  chains: ReadonlyMap<string, Chain>;
}

function checkSelector(s: Selector): string | undefined {
  if (s.fields.length === 0) return "a selector needs a field";
  for (const f of s.fields) if (!(f in FIELD_TYPES)) return `field "${f}" is not one egw uses`;
  if (s.mask !== undefined) {
    if (s.fields.length !== 1 || FIELD_TYPES[s.fields[0] as keyof typeof FIELD_TYPES] !== "mark")
      return "only a single mark field can be masked";
    if (!isUint(s.mask, 0xffffffff) || s.mask === 0)
      return `mask ${s.mask} must be a non-zero 32-bit integer`;
  }
  return undefined;
}

function checkMatch(m: Match, scope: Scope): string | undefined {
  const bad = checkSelector(m.left);
  if (bad !== undefined) return bad;
  const types = m.left.fields.map((f) => FIELD_TYPES[f]);
  const single = types.length === 1 ? types[0] : undefined;
  const r = m.right;
  switch (r.kind) {
    case "set": {
      const s = scope.sets.get(r.name);
      if (s === undefined) return `set "${r.name}" does not exist in the table`;
      if (!sameTypes(s.type, types))
        return `set "${r.name}" holds ${s.type.join(" . ")}, but the match compares ${types.join(" . ")}`;
      return undefined;
    }
    case "value":
      if (single === undefined) return "a concatenation can only be looked up in a set";
      if (single === "ifname" && typeof r.value === "string" && r.value.endsWith("*"))
        return validIfnamePrefix(r.value.slice(0, -1))
          ? undefined
          : `"${r.value}" is not a valid interface-name wildcard (1-14 of [A-Za-z0-9_.:@+-] then *)`;
      if (single === "ct_state") return "ct state is matched with a list of states";
      return validValue(single, r.value, false)
        ? undefined
        : `${JSON.stringify(r.value)} is not ${expected[single]}`;
    case "range":
    case "anonymous": {
      if (single !== "inet_service" && single !== "inet_proto")
        return `ranges and inline sets are for ports and protocols, not ${types.join(" . ")}`;
      const max = single === "inet_service" ? 65535 : 255;
      const items = r.kind === "range" ? [r] : r.elements;
      if (items.length === 0) return "an inline set needs elements";
      for (const x of items) {
        const [from, to] = typeof x === "number" ? [x, x] : [x.from, x.to];
        if (!isUint(from, max) || !isUint(to, max) || from > to)
          return `${typeof x === "number" ? x : `${x.from}-${x.to}`} is not a value or range within 0-${max}`;
      }
      return undefined;
    }
    case "states":
      if (single !== "ct_state") return "a list of states needs the ct state field";
      if (r.states.length === 0 || r.states.some((s) => !CT_STATES.includes(s)))
        return `ct states ${JSON.stringify(r.states)} must be some of ${CT_STATES.join(", ")}`;
      return undefined;
  }
}

function checkStatement(s: Statement, c: Chain): string | undefined {
  switch (s.kind) {
    case "counter":
      if ((s.packets === undefined) !== (s.bytes === undefined))
        return "a counter start value needs both packets and bytes";
      if (
        s.packets !== undefined &&
        (!isUint(s.packets, Number.MAX_SAFE_INTEGER) || !isUint(s.bytes, Number.MAX_SAFE_INTEGER))
      )
        return `counter values ${s.packets}/${s.bytes} must be non-negative integers`;
      return undefined;
    case "log":
      if (!isUint(s.group, 65535)) return `log group ${s.group} must be 0-65535`;
      return checkText("log prefix", s.prefix, LOG_PREFIX_MAX);
    case "mark":
      if (!isUint(s.mask, 0xffffffff) || s.mask === 0)
        return `mark mask ${s.mask} must be a non-zero 32-bit integer`;
      if (!isUint(s.value, 0xffffffff) || (s.value & ~s.mask) !== 0)
        return `mark value ${s.value} must lie inside its mask ${s.mask}`;
      return undefined;
    case "snat":
      if (c.base?.type !== "nat" || c.base.hook !== "postrouting")
        return "snat belongs in a nat postrouting chain";
      return IPV4.test(s.to) ? undefined : `snat address "${s.to}" is not an IPv4 address`;
  }
}

/** `rt ip nexthop` reads the routing decision, which a packet has only after routing. */
const BEFORE_ROUTING: ReadonlySet<string> = new Set(["prerouting", "input"]);
const readsNexthop = (r: Rule): boolean =>
  r.match.some((m) => m.left.fields.includes("rt ip nexthop")) ||
  (r.verdict?.kind === "vmap" && r.verdict.key.fields.includes("rt ip nexthop"));

function checkRule(r: Rule, c: Chain, scope: Scope): string | undefined {
  // Only a base chain's own rules are checked here; a regular chain does not know its hooks.
  if (c.base !== undefined && BEFORE_ROUTING.has(c.base.hook) && readsNexthop(r))
    return `rt ip nexthop in a ${c.base.hook} chain: the packet has no route yet`;
  for (const [i, m] of r.match.entries()) {
    const p = checkMatch(m, scope);
    if (p !== undefined) return `match ${i}: ${p}`;
  }
  for (const [i, s] of r.statements.entries()) {
    const p = checkStatement(s, c);
    if (p !== undefined) return `statement ${i}: ${p}`;
  }
  if (r.comment !== undefined) {
    const p = checkText("comment", r.comment, COMMENT_MAX);
    if (p !== undefined) return p;
  }
  const v = r.verdict;
  if (v === undefined) return undefined;
  if (v.kind !== "vmap") return checkVerdictTarget("verdict", v, scope.chains);
  const bad = checkSelector(v.key);
  if (bad !== undefined) return `vmap key: ${bad}`;
  const m = scope.maps.get(v.map);
  if (m === undefined) return `verdict map "${v.map}" does not exist in the table`;
  const types = v.key.fields.map((f) => FIELD_TYPES[f]);
  if (!sameTypes(m.type, types))
    return `verdict map "${v.map}" is keyed by ${m.type.join(" . ")}, not ${types.join(" . ")}`;
  return undefined;
}

function checkBase(c: Chain): string | undefined {
  const b = c.base;
  if (b === undefined) return undefined;
  if (!["prerouting", "input", "forward", "output", "postrouting"].includes(b.hook))
    return `hook "${b.hook}" is not valid`;
  if (b.type === "nat" && b.hook === "forward") return "nat chains cannot hook forward";
  if (!(b.priority.base in PRIORITIES) || !Number.isInteger(b.priority.offset))
    return `priority ${JSON.stringify(b.priority)} must be a named priority plus an integer`;
  return b.policy === "accept" || b.policy === "drop"
    ? undefined
    : `policy "${b.policy}" must be accept or drop`;
}

/** Chains reachable by jump/goto (rules and verdict-map elements) form no loop: the kernel refuses loops. */
function checkLoops(scope: Scope): string | undefined {
  const edges = new Map<string, string[]>();
  for (const c of scope.chains.values()) {
    const out: string[] = [];
    const add = (v: SimpleVerdict | undefined): void => {
      if (v !== undefined && (v.kind === "jump" || v.kind === "goto")) out.push(v.chain);
    };
    for (const r of c.rules) {
      if (r.verdict?.kind === "vmap")
        for (const e of scope.maps.get(r.verdict.map)?.elements ?? []) add(e.verdict);
      else add(r.verdict);
    }
    edges.set(c.name, out);
  }
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (name: string): string | undefined => {
    if (done.has(name)) return undefined;
    if (onPath.has(name)) return `chains loop: ${[...path, name].join(" -> ")}`;
    onPath.add(name);
    path.push(name);
    for (const next of edges.get(name) ?? []) {
      const p = visit(next);
      if (p !== undefined) return p;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return undefined;
  };
  for (const name of edges.keys()) {
    const p = visit(name);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** The first problem of a whole table, or undefined. */
export function checkTable(t: Table): string | undefined {
  const at = `table inet ${t.name}`;
  const nameProblem = checkTableName(t.name);
  if (nameProblem !== undefined) return nameProblem;
  const sets = new Map<string, NftSet>();
  const maps = new Map<string, NftMap>();
  const chains = new Map<string, Chain>();
  const names = new Set<string>();
  for (const o of t.objects) {
    const p = checkObjectName(o.kind, o.name);
    if (p !== undefined) return `${at}: ${p}`;
    if (names.has(o.name)) return `${at}: "${o.name}" is declared twice`;
    names.add(o.name);
    if (o.kind === "set") sets.set(o.name, o);
    else if (o.kind === "map") maps.set(o.name, o);
    else chains.set(o.name, o);
  }
  const scope: Scope = { sets, maps, chains };
  for (const s of sets.values()) {
    const p = checkElements(`${at}: set ${s.name}`, s.type, s.interval === true, s.elements);
    if (p !== undefined) return p;
  }
  for (const m of maps.values()) {
    const p = checkMapElements(`${at}: map ${m.name}`, m, m.elements, chains);
    if (p !== undefined) return p;
  }
  for (const c of chains.values()) {
    const base = checkBase(c);
    if (base !== undefined) return `${at}: chain ${c.name}: ${base}`;
    for (const [i, r] of c.rules.entries()) {
      const p = checkRule(r, c, scope);
      if (p !== undefined) return `${at}: chain ${c.name}: rule ${i}: ${p}`;
    }
  }
  const loop = checkLoops(scope);
  return loop === undefined ? undefined : `${at}: ${loop}`;
}
