// Shape checks for objects read from the datastore, before they reach calc. The CLI validates
// what users apply, but a daemon must survive anything stored by other writers: a malformed
// object is reported (kind/name, field path, what is expected) and skipped, never a crash.

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): boolean =>
  isObject(v) && Object.values(v).every((x) => typeof x === "string");
const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === "string");

type Check = (v: unknown) => boolean;
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const str: Check = (v) => typeof v === "string";
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);

/** Field path → check (and the expected shape, for the message). */
type Fields = [path: string, check: Check, expected: string][];

const at = (obj: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), obj);

const META: Fields = [
  ["metadata.name", (v) => typeof v === "string" && v !== "", "a non-empty string"],
  ["metadata.namespace", optional(str), "a string"],
  ["metadata.labels", optional(isStringMap), "a map of strings"],
  ["metadata.annotations", optional(isStringMap), "a map of strings"],
  ["metadata.deletionTimestamp", optional(str), "a string"],
  ["spec", optional(isObject), "an object"],
  ["status", optional(isObject), "an object"],
];

const isPortList = (v: unknown): boolean =>
  Array.isArray(v) && v.every((p) => typeof p === "string" || typeof p === "number");
const isProtocol = (v: unknown): boolean => typeof v === "string" || typeof v === "number";

/** An egress rule in the shape calc/access/parse.ts reads (its values are validated there). */
const isAccessRule = (r: unknown): boolean =>
  isObject(r) &&
  str(r.action) &&
  optional(isProtocol)(r.protocol) &&
  optional(isProtocol)(r.notProtocol) &&
  optional(num)(r.ipVersion) &&
  optional(isObject)(r.destination) &&
  ["nets", "notNets", "domains"].every((k) => optional(isStringArray)(at(r, `destination.${k}`))) &&
  ["selector", "namespaceSelector"].every((k) => optional(str)(at(r, `destination.${k}`))) &&
  ["ports", "notPorts"].every((k) => optional(isPortList)(at(r, `destination.${k}`)));

const ACCESS_POLICY: Fields = [
  ["spec.tier", optional(str), "a string"],
  ["spec.order", optional(num), "a number"],
  ["spec.selector", optional(str), "a string"],
  ["spec.types", optional(isStringArray), "a list of strings"],
  [
    "spec.egress",
    optional((v) => Array.isArray(v) && v.every(isAccessRule)),
    "a list of rules {action, protocol, notProtocol, ipVersion, destination: {nets, notNets, selector, namespaceSelector, ports, notPorts, domains}}",
  ],
];

const BY_KIND: Record<string, Fields> = {
  Pod: [
    ["spec.nodeName", optional(str), "a string"],
    ["status.phase", optional(str), "a string"],
    ["status.podIP", optional(str), "a string"],
    ["status.hostInterface", optional(str), "a string"],
  ],
  Node: [
    ["spec.podCIDR", optional(str), "a string"],
    ["spec.podCIDRs", optional(isStringArray), "a list of strings"],
    [
      "status.addresses",
      optional((v) => Array.isArray(v) && v.every((a) => isObject(a) && str(a.type) && str(a.address))),
      "a list of {type, address} strings",
    ],
  ],
  Namespace: [],
  IPPool: [
    ["spec.cidr", optional(str), "a string"],
    ["spec.allowedUses", optional(isStringArray), "a list of strings"],
  ],
  EgressGatewayPolicy: [
    [
      "spec.rules",
      optional(
        (v) =>
          Array.isArray(v) &&
          v.every(
            (r) =>
              isObject(r) &&
              optional(isObject)(r.destination) &&
              optional(str)(at(r, "destination.cidr")) &&
              optional(isObject)(r.gateway) &&
              optional(str)(at(r, "gateway.selector")) &&
              optional(str)(at(r, "gateway.namespaceSelector")) &&
              optional(num)(at(r, "gateway.maxNextHops")) &&
              optional(str)(r.gatewayPreference),
          ),
      ),
      "a list of rules {destination: {cidr}, gateway: {selector, namespaceSelector, maxNextHops}}",
    ],
  ],
  Tier: [
    ["spec.order", optional(num), "a number"],
    ["spec.defaultAction", optional(str), "a string"],
  ],
  NetworkPolicy: ACCESS_POLICY,
  GlobalNetworkPolicy: [...ACCESS_POLICY, ["spec.namespaceSelector", optional(str), "a string"]],
  GlobalNetworkSet: [["spec.nets", optional(isStringArray), "a list of strings"]],
  EgressGateway: [
    ["spec.failureDetection", optional(isObject), "an object"],
    ["spec.failureDetection.icmpProbe.ips", optional(isStringArray), "a list of strings"],
    ["spec.failureDetection.icmpProbe.intervalMs", optional(num), "a number"],
    ["spec.failureDetection.icmpProbe.timeoutMs", optional(num), "a number"],
    ["spec.failureDetection.httpProbe.urls", optional(isStringArray), "a list of strings"],
    ["spec.failureDetection.httpProbe.intervalMs", optional(num), "a number"],
    ["spec.failureDetection.httpProbe.timeoutMs", optional(num), "a number"],
  ],
};

/** Describes an object for messages even when its metadata is broken. */
export function describeObject(kind: string, obj: unknown): string {
  const name = at(obj, "metadata.name");
  const ns = at(obj, "metadata.namespace");
  const n = typeof name === "string" ? name : "(no name)";
  return typeof ns === "string" && ns !== "" ? `${kind} ${ns}/${n}` : `${kind} ${n}`;
}

/** undefined when the object has the shape the daemons read; otherwise why not. */
export function malformed(kind: string, obj: unknown): string | undefined {
  if (!isObject(obj)) return `${kind}: not an object`;
  for (const [path, check, expected] of [...META, ...(BY_KIND[kind] ?? [])]) {
    if (!check(at(obj, path))) return `${describeObject(kind, obj)}: ${path} must be ${expected}`;
  }
  return undefined;
}
