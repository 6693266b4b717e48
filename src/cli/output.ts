// Printers for `egw get`: kubectl-like tables (normal and wide) and YAML/JSON of the stored objects.
// Pure: every function returns text; the caller writes it.
import { stringify } from "yaml";
import { conditionOf } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { formatTable } from "../util/table.js";
import { drainText, livenessSummary, upstreamWord, type ReplicaVisibility } from "./replica-view.js";
import { establishedText, nodeBgpText, peerNodesText, type SessionsByPeer } from "./routing-view.js";

export const OUTPUT_FORMATS = ["table", "wide", "yaml", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const NONE = "<none>";

export interface Column {
  header: string;
  value: (r: Resource) => string;
}

/** Reads a dotted path (`spec.template.metadata.labels`) without trusting the shape. */
export const field = (obj: unknown, path: string): unknown => {
  if (path === "") return obj;
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
};

/**
 * One cell: lists comma-joined (a list item with a single field, like `{name: pool-a}`, shows its
 * value), maps as k=v pairs, absent or empty as <none>.
 */
export const cell = (v: unknown, inList = false): string => {
  if (v === undefined || v === null || v === "") return NONE;
  if (Array.isArray(v)) return v.length === 0 ? NONE : v.map((x) => cell(x, true)).join(",");
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return NONE;
    const only = entries.length === 1 ? entries[0]?.[1] : undefined;
    if (inList && only !== undefined && typeof only !== "object") return String(only);
    return entries.map(([k, x]) => `${k}=${typeof x === "object" ? JSON.stringify(x) : String(x)}`).join(",");
  }
  return String(v);
};

const at = (header: string, path: string): Column => ({ header, value: (r) => cell(field(r, path)) });

const count = (header: string, path: string): Column => ({
  header,
  value: (r) => {
    const v = field(r, path);
    return String(Array.isArray(v) ? v.length : 0);
  },
});

const mapItems = (header: string, listPath: string, itemPath: string): Column => ({
  header,
  value: (r) => {
    const v = field(r, listPath);
    return Array.isArray(v) ? cell(v.map((x) => field(x, itemPath)).filter((x) => x !== undefined)) : NONE;
  },
});

const labels: Column = { header: "LABELS", value: (r) => cell(r.metadata.labels) };

/** Short duration like kubectl's AGE: 45s, 12m, 5h, 3d, 2y. */
export const formatAge = (created: string | undefined, now: Date): string => {
  if (!created) return NONE;
  const t = Date.parse(created);
  if (Number.isNaN(t)) return NONE;
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 730 ? `${d}d` : `${Math.floor(d / 365)}y`;
};

interface KindColumns {
  normal: Column[];
  /** Appended after `normal` with -o wide. */
  wide: Column[];
}

const policyColumns: KindColumns = {
  normal: [at("TIER", "spec.tier"), at("ORDER", "spec.order"), at("SELECTOR", "spec.selector")],
  wide: [at("TYPES", "spec.types"), count("EGRESS-RULES", "spec.egress")],
};

const statusReplicas = (r: Resource): unknown[] => {
  const v = field(r, "status.replicas");
  return Array.isArray(v) ? v : [];
};

/** `ready/desired` replicas of an EgressGateway (desired defaults to 1, as the controller does). */
const readyReplicas: Column = {
  header: "READY",
  value: (r) => {
    const ready = statusReplicas(r).filter((x) => field(x, "ready") === true).length;
    const desired = field(r, "spec.replicas");
    return `${ready}/${typeof desired === "number" ? desired : 1}`;
  },
};

/**
 * One word for an EgressGateway's state: the reason it is degraded (PoolInvalid, PoolExhausted,
 * NoMatchingNode, …), else Ready, else why it is not ready yet; <none> before the controller ran.
 */
const gatewayState: Column = {
  header: "STATUS",
  value: (r) => {
    const degraded = conditionOf(r, "Degraded");
    if (field(degraded, "status") === "True") return cell(field(degraded, "reason") ?? "Degraded");
    const ready = conditionOf(r, "Ready");
    if (ready === undefined) return NONE;
    return field(ready, "status") === "True" ? "Ready" : cell(field(ready, "reason") ?? "NotReady");
  },
};

/** Distinct values of one replica field, in replica order. */
const replicaValues = (header: string, path: string): Column => ({
  header,
  value: (r) =>
    cell([
      ...new Set(
        statusReplicas(r)
          .map((x) => field(x, path))
          .filter((x) => typeof x === "string"),
      ),
    ]),
});

/** Every replica as name:node:egressIP:ready|not-ready (wide). */
const replicaDetails: Column = {
  header: "REPLICAS",
  value: (r) =>
    cell(
      statusReplicas(r).map((x) =>
        [
          cell(field(x, "name")),
          cell(field(x, "node")),
          cell(field(x, "egressIP")),
          field(x, "ready") === true ? "ready" : "not-ready",
        ].join(":"),
      ),
    ),
};

/** When a FirewallFeed's entries last changed, as an age (`12s`), like kubectl's LAST SEEN. */
const feedLastChange = (now: Date): Column => ({
  header: "LAST-CHANGE",
  value: (r) => {
    const v = field(r, "status.lastChange");
    return formatAge(typeof v === "string" ? v : undefined, now);
  },
});

/** A Secret's number of keys (data and stringData), as kubectl's DATA. */
const secretKeys: Column = {
  header: "DATA",
  value: (r) => {
    const keys = (path: string): string[] => {
      const v = field(r, path);
      return typeof v === "object" && v !== null ? Object.keys(v) : [];
    };
    return String(new Set([...keys("data"), ...keys("stringData")]).size);
  },
};

/** BGPConfiguration's advertised pools; absent or empty = every egress pool. */
const advertisedPools: Column = {
  header: "IPPOOLS",
  value: (r) => {
    const v = field(r, "spec.advertise.ipPools");
    return Array.isArray(v) && v.length > 0 ? cell(v) : "<all egress pools>";
  },
};

/** Key spec fields per kind; kinds not listed show NAME and AGE only. */
const KIND_COLUMNS: Record<string, KindColumns> = {
  IPPool: {
    normal: [
      at("CIDR", "spec.cidr"),
      at("BLOCKSIZE", "spec.blockSize"),
      at("ALLOWEDUSES", "spec.allowedUses"),
    ],
    wide: [
      at("NATOUTGOING", "spec.natOutgoing"),
      at("DISABLEBGPEXPORT", "spec.disableBGPExport"),
      at("NODESELECTOR", "spec.nodeSelector"),
    ],
  },
  EgressGateway: {
    normal: [
      readyReplicas,
      gatewayState,
      replicaValues("EGRESS-IPS", "egressIP"),
      replicaValues("NODES", "node"),
      mapItems("IPPOOLS", "spec.ipPools", ""),
    ],
    wide: [
      replicaDetails,
      at("TEMPLATE-LABELS", "spec.template.metadata.labels"),
      at("NODESELECTOR", "spec.template.spec.nodeSelector"),
    ],
  },
  EgressGatewayPolicy: {
    normal: [count("RULES", "spec.rules")],
    wide: [mapItems("DESTINATIONS", "spec.rules", "destination.cidr")],
  },
  Tier: { normal: [at("ORDER", "spec.order"), at("DEFAULTACTION", "spec.defaultAction")], wide: [] },
  NetworkPolicy: policyColumns,
  GlobalNetworkPolicy: policyColumns,
  GlobalNetworkSet: { normal: [count("NETS", "spec.nets")], wide: [at("CIDRS", "spec.nets"), labels] },
  Namespace: { normal: [], wide: [labels] },
  Pod: {
    normal: [at("STATUS", "status.phase"), at("IP", "status.podIP"), at("NODE", "spec.nodeName")],
    wide: [at("INTERFACE", "status.hostInterface"), labels],
  },
  Node: {
    normal: [mapItems("ADDRESSES", "status.addresses", "address")],
    wide: [at("POD-CIDR", "spec.podCIDR"), { header: "BGP", value: nodeBgpText }, labels],
  },
  Secret: { normal: [at("TYPE", "type"), secretKeys], wide: [] },
  BGPConfiguration: {
    normal: [at("ENABLED", "spec.enabled"), at("ASN", "spec.asNumber"), advertisedPools],
    wide: [
      at("PORT", "spec.listenPort"),
      at("COMMUNITIES", "spec.advertise.communities"),
      at("BFD-INTERVAL-MS", "spec.bfd.minIntervalMs"),
      at("BFD-MULTIPLIER", "spec.bfd.multiplier"),
    ],
  },
  BGPPeer: {
    normal: [
      at("PEERIP", "spec.peerIP"),
      at("ASN", "spec.asNumber"),
      { header: "NODES", value: peerNodesText },
    ],
    wide: [
      at("BFD", "spec.bfd"),
      at("HOLDTIME", "spec.holdTimeSeconds"),
      at("PASSWORD", "spec.password.secretKeyRef.name"),
    ],
  },
  FirewallFeed: {
    // LAST-CHANGE is added in columnsFor (it needs the clock).
    normal: [at("ENTRIES", "status.entries")],
    wide: [
      at("SELECTOR", "spec.selector"),
      at("NAMESPACESELECTOR", "spec.namespaceSelector"),
      at("FORMATS", "spec.formats"),
      at("DELAY", "spec.publishDelaySeconds"),
    ],
  },
  Lease: {
    normal: [at("HOLDER", "spec.holderIdentity"), at("RENEWED", "spec.renewTime")],
    wide: [at("DURATION", "spec.leaseDurationSeconds")],
  },
};

/** Replicas of EgressGateways as seen from outside, by "<namespace>/<name>" (see replica-view.ts). */
export type ReplicaVisibilityByGateway = ReadonlyMap<string, readonly ReplicaVisibility[]>;

/** One `<replica> <text>` per replica (texts may contain commas, so replicas are separated by "; "). */
const perReplica = (
  header: string,
  replicas: ReplicaVisibilityByGateway,
  text: (r: ReplicaVisibility) => string | undefined,
): Column => ({
  header,
  value: (gw) => {
    const parts = (replicas.get(`${gw.metadata.namespace ?? "default"}/${gw.metadata.name}`) ?? []).flatMap(
      (r) => {
        const t = text(r);
        return t === undefined ? [] : [`${r.name} ${t}`];
      },
    );
    return parts.length === 0 ? NONE : parts.join("; ");
  },
});

/** The wide columns that need more than the EgressGateway object: clients' liveness, upstream, drain. */
const replicaVisibilityColumns = (replicas: ReplicaVisibilityByGateway, now: Date): Column[] => [
  perReplica("LIVENESS", replicas, (r) => livenessSummary(r.clients, now)),
  perReplica("UPSTREAM", replicas, (r) => upstreamWord(r.upstream)),
  perReplica("DRAIN", replicas, (r) =>
    r.drainDeadline === undefined ? undefined : drainText(r.drainDeadline, now),
  ),
];

interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
  now: Date;
  replicas?: ReplicaVisibilityByGateway;
  /** BGPPeers' sessions as the nodes report them, for -o wide. */
  sessions?: SessionsByPeer;
}

export const columnsFor = (kind: string, opts: TableOptions): Column[] => {
  const spec = KIND_COLUMNS[kind] ?? { normal: [], wide: [labels] };
  const cols: Column[] = [];
  if (opts.allNamespaces) cols.push({ header: "NAMESPACE", value: (r) => r.metadata.namespace ?? "" });
  cols.push({ header: "NAME", value: (r) => r.metadata.name });
  cols.push(...spec.normal);
  if (kind === "FirewallFeed") cols.push(feedLastChange(opts.now), at("URL", "status.url"));
  if (opts.wide && kind === "BGPPeer" && opts.sessions !== undefined) {
    const sessions = opts.sessions;
    cols.push({ header: "ESTABLISHED", value: (r) => establishedText(sessions.get(r.metadata.name)) });
  }
  if (opts.wide) {
    for (const c of spec.wide) {
      cols.push(c);
      // Next to the replica list: what the clients, the replica itself and the drain say about each.
      if (c === replicaDetails && opts.replicas !== undefined)
        cols.push(...replicaVisibilityColumns(opts.replicas, opts.now));
    }
  }
  cols.push({ header: "AGE", value: (r) => formatAge(r.metadata.creationTimestamp, opts.now) });
  return cols;
};

/** Left-aligned columns separated by three spaces, no trailing blanks. */
export const renderTable = (headers: readonly string[], rows: readonly (readonly string[])[]): string => {
  return formatTable([headers, ...rows], { gap: "   " }).join("\n") + "\n";
};

export const renderResourceTable = (
  resources: readonly Resource[],
  opts: TableOptions & { kind: string },
): string => {
  const cols = columnsFor(opts.kind, opts);
  return renderTable(
    cols.map((c) => c.header),
    resources.map((r) => cols.map((c) => c.value(r))),
  );
};

/** Several objects print as a Kubernetes `List`, which `egw apply -f` reads back. */
export const asList = (
  items: readonly Resource[],
): { apiVersion: "v1"; kind: "List"; items: Resource[] } => ({
  apiVersion: "v1",
  kind: "List",
  items: [...items],
});

export const renderYaml = (value: unknown): string => stringify(value, { lineWidth: 0 });
export const renderJson = (value: unknown): string => JSON.stringify(value, null, 2) + "\n";

/**
 * Everything `egw get` prints on stdout. `single` (a name was asked for and one object found)
 * prints the object itself in yaml/json instead of a List.
 */
export const renderResources = (
  resources: readonly Resource[],
  opts: {
    format: OutputFormat;
    kind: string;
    allNamespaces: boolean;
    single: boolean;
    now: Date;
    /** EgressGateway replicas as seen from outside, for -o wide. */
    replicas?: ReplicaVisibilityByGateway;
    /** BGPPeers' sessions as the nodes report them, for -o wide. */
    sessions?: SessionsByPeer;
  },
): string => {
  switch (opts.format) {
    case "yaml":
      return renderYaml(opts.single && resources[0] ? resources[0] : asList(resources));
    case "json":
      return renderJson(opts.single && resources[0] ? resources[0] : asList(resources));
    case "table":
    case "wide":
      return renderResourceTable(resources, { ...opts, wide: opts.format === "wide" });
  }
};

const indent = (text: string, by: string): string =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => by + l)
    .join("\n");

/** `Labels:  a=b` with further pairs aligned under the first. */
const describeMap = (title: string, map: Record<string, string> | undefined, pad: number): string => {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return `${title.padEnd(pad)}${NONE}`;
  return entries.map(([k, v], i) => `${(i === 0 ? title : "").padEnd(pad)}${k}=${v}`).join("\n");
};

const DESCRIBE_PAD = 19;

const describeSection = (title: string, value: unknown): string =>
  value === undefined || (typeof value === "object" && value !== null && Object.keys(value).length === 0)
    ? `${`${title}:`.padEnd(DESCRIBE_PAD)}${NONE}`
    : `${title}:\n${indent(renderYaml(value), "  ")}`;

/** A Secret's keys and sizes, never the values (as kubectl describe secret). */
const describeSecretData = (r: Resource): string => {
  const sizes = new Map<string, number>();
  const data = field(r, "data");
  if (typeof data === "object" && data !== null)
    for (const [k, v] of Object.entries(data))
      sizes.set(k, typeof v === "string" ? Buffer.from(v, "base64").length : 0);
  const plain = field(r, "stringData");
  if (typeof plain === "object" && plain !== null)
    for (const [k, v] of Object.entries(plain))
      sizes.set(k, typeof v === "string" ? Buffer.byteLength(v) : 0);
  if (sizes.size === 0) return `${"Data:".padEnd(DESCRIBE_PAD)}${NONE}`;
  const lines = [...sizes].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k}:  ${n} bytes`);
  return ["Data:", ...lines].join("\n");
};

/** `egw describe`: metadata as aligned fields, then spec and status as indented YAML. */
export const renderDescription = (r: Resource, now: Date): string => {
  const pad = DESCRIBE_PAD;
  const m = r.metadata;
  const created = m.creationTimestamp
    ? `${m.creationTimestamp} (${formatAge(m.creationTimestamp, now)} ago)`
    : NONE;
  const lines = [
    `${"Name:".padEnd(pad)}${m.name}`,
    ...(m.namespace !== undefined ? [`${"Namespace:".padEnd(pad)}${m.namespace}`] : []),
    `${"Kind:".padEnd(pad)}${r.kind}`,
    `${"API Version:".padEnd(pad)}${r.apiVersion}`,
    describeMap("Labels:", m.labels, pad),
    describeMap("Annotations:", m.annotations, pad),
    `${"Created:".padEnd(pad)}${created}`,
    `${"Resource Version:".padEnd(pad)}${m.resourceVersion ?? NONE}`,
    ...(m.uid !== undefined ? [`${"UID:".padEnd(pad)}${m.uid}`] : []),
    // A Secret has no spec or status: its payload is beside metadata.
    ...(r.kind === "Secret"
      ? [describeSecretData(r)]
      : [describeSection("Spec", r.spec), describeSection("Status", r.status)]),
  ];
  return lines.join("\n") + "\n";
};
