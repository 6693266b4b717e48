// The address groups egw serves to firewalls and the egress IPs in each (pure): one group per
// IPPool that hands out egress IPs, per EgressGateway, per namespace that has gateways, and per
// FirewallFeed (its selector over gateway labels). A group's entries are the egress IPs of the
// gateway replica pods that exist — in any phase, draining ones included, because a drained
// replica's IP may leave a firewall's allow-list only once its pod (and so its last connection) is
// gone. Entries are sorted numerically and unique. It reads stored objects defensively and does
// not render, time-stamp or serve anything (formats.ts, feed-state.ts, server.ts do).
import type { Resource } from "../api/meta.js";
import { FEED_FORMATS, type FeedFormat } from "../api/schemas/routing.js";
import { ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_OWNER, ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import { compareNumbers, compareStrings } from "../util/compare.js";
import { cidrContains, formatIp, parseCidr, parseIp, type Cidr, type IpAddress } from "../util/ip.js";
import { compileFeedScope, feedSpecOf } from "./feed-scope.js";

export type GroupKind = "pool" | "gateway" | "namespace" | "custom";

/** One egress IP of a group, with where it comes from (the JSON format shows these). */
export interface FeedEntry {
  /** `A.B.C.D/32` or `…/128`. */
  cidr: string;
  /** The bare address. */
  ip: string;
  /** `<namespace>/<EgressGateway>`. */
  gateway: string;
  /** `<namespace>/<pod>`. */
  pod: string;
  node?: string;
  /** The pod's creationTimestamp: the IP is listed from then on. */
  since?: string;
  /** The replica drains: its IP stays listed until the pod is gone. */
  draining: boolean;
}

/** How a FirewallFeed asks clients to authenticate (the Secret in SECRET_NAMESPACE is resolved by the server). */
export type FeedAuthRef =
  { kind: "bearer"; secret: { name: string; key: string } } | { kind: "basic"; secret: { name: string } };

export interface AddressGroup {
  kind: GroupKind;
  /** The group's name in its kind: pool, `ns/gateway`, namespace, or FirewallFeed name. */
  name: string;
  /** `pool/egress-a`, `gateway/ns/gw`, … — the URL path below /feeds/ and the Check Point object name. */
  path: string;
  entries: FeedEntry[];
  /** Formats served (a FirewallFeed may restrict them). */
  formats: readonly FeedFormat[];
  /** A FirewallFeed's spec.auth, when set. */
  auth?: FeedAuthRef;
  /** Why the group cannot be computed (a FirewallFeed whose selector does not parse): served as an error, never as an empty list. */
  error?: string;
}

export interface FeedInputs {
  pools: readonly Resource[];
  gateways: readonly Resource[];
  namespaces: readonly Resource[];
  /** Pods (only gateway replicas, those with the owner and egress-IP annotations, count). */
  pods: readonly Resource[];
  firewallFeeds: readonly Resource[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const stringMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
};

export const groupPath = (kind: GroupKind, name: string): string => `${kind}/${name}`;

interface Replica {
  entry: FeedEntry;
  address: IpAddress;
  namespace: string;
  gatewayName: string;
}

const replicaOf = (pod: Resource): Replica | undefined => {
  const ann = stringMap(pod.metadata?.annotations);
  const owner = ann[ANN_GATEWAY_OWNER];
  const address = parseIp(ann[ANN_GATEWAY_EGRESS_IP] ?? "");
  if (owner === undefined || address === undefined) return undefined;
  const slash = owner.indexOf("/");
  if (slash <= 0 || slash === owner.length - 1) return undefined;
  const namespace = pod.metadata.namespace ?? "";
  const spec = isObject(pod.spec) ? pod.spec : {};
  const ip = formatIp(address);
  const entry: FeedEntry = {
    cidr: `${ip}/${address.version === 4 ? 32 : 128}`,
    ip,
    gateway: owner,
    pod: `${namespace}/${pod.metadata.name}`,
    draining:
      ann[ANN_GATEWAY_TERMINATING] !== undefined ||
      (pod.metadata as { deletionTimestamp?: unknown }).deletionTimestamp !== undefined,
  };
  if (typeof spec.nodeName === "string" && spec.nodeName !== "") entry.node = spec.nodeName;
  if (pod.metadata.creationTimestamp !== undefined) entry.since = pod.metadata.creationTimestamp;
  return { entry, address, namespace: owner.slice(0, slash), gatewayName: owner.slice(slash + 1) };
};

/** Sorted by address (IPv4 before IPv6), one entry per address (the first pod by name wins). */
const sortedUnique = (rs: readonly Replica[]): FeedEntry[] => {
  const sorted = [...rs].sort(
    (a, b) =>
      compareNumbers(a.address.version, b.address.version) ||
      compareNumbers(a.address.value, b.address.value) ||
      compareStrings(a.entry.pod, b.entry.pod),
  );
  return sorted.filter((r, i) => i === 0 || sorted[i - 1]?.entry.cidr !== r.entry.cidr).map((r) => r.entry);
};

const isEgressPool = (pool: Resource): boolean => {
  const spec = isObject(pool.spec) ? pool.spec : {};
  return Array.isArray(spec.allowedUses) && spec.allowedUses.includes("EgressGateway");
};

const formatsOf = (spec: Record<string, unknown>): FeedFormat[] => {
  const listed = Array.isArray(spec.formats)
    ? FEED_FORMATS.filter((f) => (spec.formats as unknown[]).includes(f))
    : [];
  return listed.length > 0 ? listed : [...FEED_FORMATS];
};

/** spec.auth of a FirewallFeed, read leniently (bearerTokenSecretRef or basic.secretRef). */
export const feedAuthOf = (feed: Resource): FeedAuthRef | undefined => {
  const auth = feedSpecOf(feed).auth;
  if (!isObject(auth)) return undefined;
  const bearer = auth.bearerTokenSecretRef;
  if (isObject(bearer) && typeof bearer.name === "string" && typeof bearer.key === "string")
    return { kind: "bearer", secret: { name: bearer.name, key: bearer.key } };
  const basic = isObject(auth.basic) ? auth.basic.secretRef : undefined;
  if (isObject(basic) && typeof basic.name === "string")
    return { kind: "basic", secret: { name: basic.name } };
  return undefined;
};

const groupBy = <T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list === undefined) out.set(k, [x]);
    else list.push(x);
  }
  return out;
};

/** Every address group with its entries, sorted by path. */
export const addressGroups = (inputs: FeedInputs): AddressGroup[] => {
  const replicas = inputs.pods.map(replicaOf).filter((r): r is Replica => r !== undefined);
  const groups: AddressGroup[] = [];
  const builtIn = (kind: GroupKind, name: string, members: readonly Replica[]): AddressGroup => ({
    kind,
    name,
    path: groupPath(kind, name),
    entries: sortedUnique(members),
    formats: FEED_FORMATS,
  });

  for (const pool of inputs.pools) {
    if (!isEgressPool(pool)) continue;
    const spec = isObject(pool.spec) ? pool.spec : {};
    const cidr = parseCidr(typeof spec.cidr === "string" ? spec.cidr : "");
    const inPool = (c: Cidr): Replica[] => replicas.filter((r) => cidrContains(c, r.address));
    groups.push(builtIn("pool", pool.metadata.name, cidr.ok ? inPool(cidr.value) : []));
  }

  // Gateways and namespaces: those that exist, and those a remaining replica still names (a
  // deleted gateway's replicas drain, and their IPs stay listed meanwhile).
  const gatewayKeys = new Set<string>(
    inputs.gateways.map((g) => `${g.metadata.namespace ?? ""}/${g.metadata.name}`),
  );
  for (const r of replicas) gatewayKeys.add(r.entry.gateway);
  const byGateway = groupBy(replicas, (r) => r.entry.gateway);
  for (const key of gatewayKeys) groups.push(builtIn("gateway", key, byGateway.get(key) ?? []));
  const byNamespace = groupBy(replicas, (r) => r.namespace);
  const namespaces = new Set([...gatewayKeys].map((k) => k.slice(0, k.indexOf("/"))));
  for (const ns of namespaces) groups.push(builtIn("namespace", ns, byNamespace.get(ns) ?? []));

  const nsLabels = new Map(inputs.namespaces.map((n) => [n.metadata.name, stringMap(n.metadata.labels)]));
  const gwLabels = new Map(
    inputs.gateways.map((g) => [
      `${g.metadata.namespace ?? ""}/${g.metadata.name}`,
      stringMap(g.metadata.labels),
    ]),
  );
  for (const feed of inputs.firewallFeeds) {
    const spec = feedSpecOf(feed);
    const name = feed.metadata.name;
    const auth = feedAuthOf(feed);
    const base = { kind: "custom" as const, name, path: groupPath("custom", name), formats: formatsOf(spec) };
    const scope = compileFeedScope(feed);
    if (!scope.ok) {
      groups.push({ ...base, entries: [], error: scope.error, ...(auth ? { auth } : {}) });
      continue;
    }
    // A replica whose gateway is gone has no labels left to match: it stays only in the
    // pool, namespace and gateway groups until its pod goes.
    // Per gateway, not per replica: a selector is evaluated once for all of a gateway's replicas.
    const covered: Replica[] = [];
    for (const [key, members] of byGateway) {
      const labels = gwLabels.get(key);
      const ns = members[0]?.namespace ?? "";
      if (labels !== undefined && scope.value.covers(labels, nsLabels.get(ns) ?? {}))
        covered.push(...members);
    }
    groups.push({ ...base, entries: sortedUnique(covered), ...(auth ? { auth } : {}) });
  }
  return groups.sort((a, b) => compareStrings(a.path, b.path));
};
