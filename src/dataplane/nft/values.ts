// What may appear inside nft objects egw writes: table and object names, quoted text (comments,
// log prefixes), interface names, values of each key type, and set or map elements against their
// set's type. Each check returns the first problem, naming what would be valid, or undefined.
// Table-wide consistency (what a rule refers to) is validate.ts's. Pure.
import type { Chain, Element, KeyType, MapElement, NftMap, SimpleVerdict, Value } from "./objects.js";
import { CT_STATES, elementKey } from "./objects.js";

/** Interface names as the kernel allows them, minus anything that could break out of a quote. */
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;
export const validIfname = (name: string): boolean => IFNAME.test(name) && name !== "." && name !== "..";
/** An interface-name prefix used as an nft wildcard (`"ew*"`). */
export const validIfnamePrefix = (prefix: string): boolean => /^[A-Za-z0-9_.:@+-]{1,14}$/.test(prefix);

/** nft words a name must never be (egw's `egw_` prefix already rules them out; kept explicit). */
const KEYWORDS = new Set(
  "table chain set map element rule ip ip6 inet arp bridge netdev meta ct fwd counter log accept drop return jump goto continue queue reject limit flags type hook priority policy elements comment".split(
    " ",
  ),
);
/** Object names: egw's prefix, nft-safe characters, short enough for every kernel limit. */
const OBJECT_NAME = /^egw_[a-z0-9_]{1,59}$/;
const TABLE_NAME = /^egw(_[a-z0-9_]{1,59})?$/;
/** Printable ASCII without quote or backslash: nft strings have no escapes. */
const SAFE_TEXT = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
/** nft rejects longer comments; the kernel rejects log prefixes of 128 bytes or more. */
export const COMMENT_MAX = 128;
export const LOG_PREFIX_MAX = 127;

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/**
 * Dotted-quad IPv4 (no leading zeros: util/ip.ts's grammar), optionally a prefix. A regex, not
 * util/ip.ts's parser: it checks a 100,000-element set about three times faster, and no number
 * is needed here.
 */
export const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const IPV4_PREFIX = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}(?:/(?:3[0-2]|[12]?[0-9]))?$`);

export const isUint = (v: unknown, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

export function checkTableName(name: string): string | undefined {
  if (!TABLE_NAME.test(name) || KEYWORDS.has(name))
    return `table name "${name}" must be "egw" or "egw_" followed by 1-59 of [a-z0-9_]`;
  return undefined;
}

export function checkObjectName(what: string, name: string): string | undefined {
  if (!OBJECT_NAME.test(name) || KEYWORDS.has(name))
    return `${what} name "${name}" must be "egw_" followed by 1-59 of [a-z0-9_] (never an nft keyword)`;
  return undefined;
}

export function checkText(what: string, text: string, max: number): string | undefined {
  if (text.length > max) return `${what} "${text}" is ${text.length} characters long; at most ${max} fit`;
  if (!SAFE_TEXT.test(text)) return `${what} "${text}" must be printable ASCII without '"' or '\\'`;
  return undefined;
}

/** Whether `v` is a valid value of `type` (in an interval set when `interval`). */
export function validValue(type: KeyType, v: Value, interval: boolean): boolean {
  switch (type) {
    case "ifname":
    case "iface_index":
      return typeof v === "string" && validIfname(v);
    case "ipv4_addr":
      return typeof v === "string" && (interval ? IPV4_PREFIX : IPV4).test(v);
    case "mark":
      return isUint(v, 0xffffffff);
    case "inet_proto":
      return isUint(v, 255);
    case "inet_service":
      return isUint(v, 65535);
    case "nf_proto":
      return v === "ipv4" || v === "ipv6";
    case "ct_dir":
      return v === "original" || v === "reply";
    case "ct_state":
      return (CT_STATES as readonly Value[]).includes(v);
  }
}

/** What a value of each type must be, for messages. */
export const expected: Record<KeyType, string> = {
  ifname: "an interface name (1-15 of [A-Za-z0-9_.:@+-])",
  iface_index: "an interface name (1-15 of [A-Za-z0-9_.:@+-])",
  ipv4_addr: "an IPv4 address",
  mark: "an integer 0-0xffffffff",
  inet_proto: "a protocol number 0-255",
  inet_service: "a port 0-65535",
  nf_proto: '"ipv4" or "ipv6"',
  ct_dir: '"original" or "reply"',
  ct_state: CT_STATES.join(", "),
};

/** A set element against its set's key type. */
export function checkElement(type: readonly KeyType[], interval: boolean, e: Element): string | undefined {
  const values = typeof e === "object" ? e : undefined;
  if (type.length === 1 ? values !== undefined : values?.length !== type.length)
    return `element ${JSON.stringify(e)} does not fit the set's type ${type.join(" . ")}: ${type.length === 1 ? "one bare value" : `an array of ${type.length} values`} is needed`;
  for (let i = 0; i < type.length; i++) {
    const t = type[i] as KeyType;
    const v = (values === undefined ? e : values[i]) as Value;
    if (!validValue(t, v, interval && type.length === 1))
      return `element ${JSON.stringify(e)}: ${JSON.stringify(v)} is not ${t === "ipv4_addr" && interval ? "an IPv4 address or prefix" : expected[t]}`;
  }
  return undefined;
}

/**
 * Element lists found valid, by identity and the type they were checked against. The lists are
 * immutable and calc hands the same ones to every render until they change (a policy's 100,000
 * nets), so a table rendered again does not check them again.
 */
const validLists = new WeakMap<readonly Element[], string>();

/** Elements of one set or map: valid values, and no key twice where the kernel counts elements. */
export function checkElements(
  what: string,
  type: readonly KeyType[],
  interval: boolean,
  keys: readonly Element[],
): string | undefined {
  const checkedAs = `${type.join(" . ")}${interval ? " interval" : ""}`;
  if (validLists.get(keys) === checkedAs) return undefined;
  const problem = checkKeys(what, type, interval, keys.length, (i) => keys[i] as Element);
  if (problem === undefined && keys.length >= 1000) validLists.set(keys, checkedAs);
  return problem;
}

function checkKeys(
  what: string,
  type: readonly KeyType[],
  interval: boolean,
  count: number,
  keyAt: (i: number) => Element,
): string | undefined {
  if (type.length === 0) return `${what}: a set needs a key type`;
  for (const t of type) if (!(t in expected)) return `${what}: key type "${t}" is not one egw uses`;
  if (interval && (type.length !== 1 || type[0] !== "ipv4_addr"))
    return `${what}: only ipv4_addr sets can be interval sets`;
  const seen = interval ? undefined : new Set<string>();
  const single = type.length === 1 ? (type[0] as KeyType) : undefined;
  for (let i = 0; i < count; i++) {
    const e = keyAt(i);
    // The common case (one key type, a valid value) without building a message.
    const fine = single !== undefined && typeof e !== "object" && validValue(single, e, interval);
    const problem = fine ? undefined : checkElement(type, interval, e);
    if (problem !== undefined) return `${what}: ${problem}`;
    if (seen === undefined) continue;
    const k = elementKey(e);
    // The kernel keeps one copy, so the read-back count would never match the rendered one.
    if (seen.has(k)) return `${what}: element ${JSON.stringify(e)} is listed twice`;
    seen.add(k);
  }
  return undefined;
}

export function checkVerdictTarget(
  what: string,
  v: SimpleVerdict,
  chains: ReadonlyMap<string, Chain>,
): string | undefined {
  if (v.kind !== "jump" && v.kind !== "goto") return undefined;
  const target = chains.get(v.chain);
  if (target === undefined) return `${what}: ${v.kind} to chain "${v.chain}", which the table does not have`;
  if (target.base !== undefined)
    return `${what}: ${v.kind} to base chain "${v.chain}" (only regular chains can be targets)`;
  return undefined;
}

export const checkMapElements = (
  what: string,
  m: Pick<NftMap, "type">,
  elements: readonly MapElement[],
  chains?: ReadonlyMap<string, Chain>,
): string | undefined => {
  const problem = checkKeys(what, m.type, false, elements.length, (i) => (elements[i] as MapElement).key);
  if (problem !== undefined || chains === undefined) return problem;
  const fine = new Set<string>();
  for (const e of elements) {
    const v = e.verdict;
    if ((v.kind !== "jump" && v.kind !== "goto") || fine.has(v.chain)) continue;
    const p = checkVerdictTarget(`${what}: element ${JSON.stringify(e.key)}`, v, chains);
    if (p !== undefined) return p;
    fine.add(v.chain);
  }
  return undefined;
};
