// Defaults, applied to a copy of a schema-valid object so they show in `egw get -o yaml`.
// Values follow Calico's where the concept is the same (see shared/reference/calico-egress-gateway.md).
import { LABEL_GATEWAY, LABEL_NAMESPACE_NAME } from "./well-known.js";
import { ipFamilyOf, parseCidr } from "../util/ip.js";
import { FEED_FORMATS } from "./schemas/routing.js";

export const DEFAULTS = {
  ipPool: {
    blockSizeV4: 26,
    blockSizeV6: 122,
    allowedUses: ["Workload"] as const,
    natOutgoing: false,
    disableBGPExport: false,
    nodeSelector: "all()",
  },
  egressGateway: {
    replicas: 1,
    /** Calico's operator leaves it unset, so Kubernetes' 30 s applies. */
    terminationGracePeriodSeconds: 30,
    /** As a Deployment's, but in whole replicas: surge one, never go below spec.replicas. */
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    gatewayLabel: LABEL_GATEWAY,
    // Calico's icmpProbe/httpProbe intervalSeconds/timeoutSeconds defaults, in milliseconds.
    icmpProbe: { intervalMs: 5000, timeoutMs: 15000 },
    httpProbe: { intervalMs: 10000, timeoutMs: 30000 },
    /** Data-path liveness (BFD): detection in 300 ms, a recovered replica waits 2 s. */
    liveness: { intervalMs: 100, multiplier: 3, holdDownMs: 2000 },
  },
  egressGatewayPolicy: { destinationCidr: "0.0.0.0/0", gatewayPreference: "None", maxNextHops: 0 },
  tier: { defaultAction: "Deny" },
  policy: { tier: "default", selector: "all()" },
  namespaceNameLabel: LABEL_NAMESPACE_NAME,
  /** Calico's default AS and BGP's port; BFD as egw's data-path liveness (300 ms detection). */
  bgpConfiguration: {
    enabled: true,
    asNumber: 64512,
    listenPort: 179,
    bfd: { minIntervalMs: 100, multiplier: 3 },
  },
  /** RFC 4271's suggested hold time (BIRD's own default is 240 s); BFD detects failures first. */
  bgpPeer: { bfd: true, holdTimeSeconds: 90 },
  firewallFeed: { namespaceSelector: "all()", formats: FEED_FORMATS, publishDelaySeconds: 0 },
  /** Kubernetes' default Secret type. */
  secret: { type: "Opaque" },
} as const;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep copy of JSON-like data (plain objects and arrays); other values are shared as they are. */
export function cloneJson<T>(v: T, depth = 0): T {
  if (depth > 200) throw new RangeError("object nested too deeply");
  if (Array.isArray(v)) return v.map((x) => cloneJson(x, depth + 1)) as T;
  if (isObject(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x, depth + 1);
    return out as T;
  }
  return v;
}

/** `parent[key]` as an object, creating it if absent; undefined if it holds something else. */
function child(parent: Obj, key: string): Obj | undefined {
  if (parent[key] === undefined) parent[key] = {};
  const c = parent[key];
  return isObject(c) ? c : undefined;
}

function setDefault(o: Obj | undefined, key: string, value: unknown): void {
  if (o && o[key] === undefined) o[key] = cloneJson(value);
}

const eachObject = (list: unknown, f: (o: Obj) => void): void => {
  if (Array.isArray(list)) for (const x of list) if (isObject(x)) f(x);
};

const DEFAULTERS: Record<string, (o: Obj, name: string) => void> = {
  IPPool(o) {
    const spec = child(o, "spec");
    if (!spec) return;
    const d = DEFAULTS.ipPool;
    const cidr = typeof spec.cidr === "string" ? spec.cidr : "";
    // Defaults come before the semantic checks: a malformed cidr gets its family's standard block
    // size, and the checks report the cidr.
    const parsed = parseCidr(cidr, { maskHostBits: true });
    const family = parsed.ok ? parsed.value.version : ipFamilyOf(cidr);
    const standard = family === 6 ? d.blockSizeV6 : d.blockSizeV4;
    // A pool smaller than a standard block gets blocks of its own size (Calico would reject it).
    setDefault(
      spec,
      "blockSize",
      parsed.ok && parsed.value.prefix > standard ? parsed.value.prefix : standard,
    );
    setDefault(spec, "allowedUses", d.allowedUses);
    setDefault(spec, "natOutgoing", d.natOutgoing);
    setDefault(spec, "disableBGPExport", d.disableBGPExport);
    setDefault(spec, "nodeSelector", d.nodeSelector);
  },
  EgressGateway(o, name) {
    const spec = child(o, "spec");
    if (!spec) return;
    const d = DEFAULTS.egressGateway;
    setDefault(spec, "replicas", d.replicas);
    const strategy = child(spec, "strategy");
    const rolling = strategy ? child(strategy, "rollingUpdate") : undefined;
    setDefault(rolling, "maxSurge", d.rollingUpdate.maxSurge);
    setDefault(rolling, "maxUnavailable", d.rollingUpdate.maxUnavailable);
    const template = child(spec, "template");
    if (!template) return;
    const meta = child(template, "metadata");
    // As Calico: an empty label set gets the default too (replicas must be selectable).
    if (
      meta &&
      (meta.labels === undefined || (isObject(meta.labels) && Object.keys(meta.labels).length === 0))
    ) {
      meta.labels = { [d.gatewayLabel]: name };
    }
    setDefault(child(template, "spec"), "terminationGracePeriodSeconds", d.terminationGracePeriodSeconds);
    const fd = isObject(spec.failureDetection) ? spec.failureDetection : undefined;
    for (const probe of ["icmpProbe", "httpProbe"] as const) {
      const p = fd?.[probe];
      if (!isObject(p)) continue;
      setDefault(p, "intervalMs", d[probe].intervalMs);
      setDefault(p, "timeoutMs", d[probe].timeoutMs);
    }
    // Only a liveness block that is there gets its defaults written: agents use the same
    // defaults for a gateway without one, and most gateways never mention it.
    const liveness = fd?.liveness;
    if (isObject(liveness))
      for (const [key, value] of Object.entries(d.liveness)) setDefault(liveness, key, value);
  },
  EgressGatewayPolicy(o) {
    const spec = isObject(o.spec) ? o.spec : undefined;
    const d = DEFAULTS.egressGatewayPolicy;
    eachObject(spec?.rules, (rule) => {
      setDefault(rule, "destination", { cidr: d.destinationCidr });
      setDefault(rule, "gatewayPreference", d.gatewayPreference);
      if (isObject(rule.gateway)) setDefault(rule.gateway, "maxNextHops", d.maxNextHops);
    });
  },
  Tier(o) {
    setDefault(child(o, "spec"), "defaultAction", DEFAULTS.tier.defaultAction);
  },
  NetworkPolicy(o) {
    const spec = child(o, "spec");
    setDefault(spec, "tier", DEFAULTS.policy.tier);
    setDefault(spec, "selector", DEFAULTS.policy.selector);
  },
  GlobalNetworkPolicy(o) {
    DEFAULTERS.NetworkPolicy?.(o, "");
  },
  BGPConfiguration(o) {
    const spec = child(o, "spec");
    if (!spec) return;
    const d = DEFAULTS.bgpConfiguration;
    setDefault(spec, "enabled", d.enabled);
    setDefault(spec, "asNumber", d.asNumber);
    setDefault(spec, "listenPort", d.listenPort);
    const bfd = child(spec, "bfd");
    setDefault(bfd, "minIntervalMs", d.bfd.minIntervalMs);
    setDefault(bfd, "multiplier", d.bfd.multiplier);
  },
  BGPPeer(o) {
    const spec = isObject(o.spec) ? o.spec : undefined;
    setDefault(spec, "bfd", DEFAULTS.bgpPeer.bfd);
    setDefault(spec, "holdTimeSeconds", DEFAULTS.bgpPeer.holdTimeSeconds);
  },
  FirewallFeed(o) {
    const spec = isObject(o.spec) ? o.spec : undefined;
    const d = DEFAULTS.firewallFeed;
    setDefault(spec, "namespaceSelector", d.namespaceSelector);
    setDefault(spec, "formats", d.formats);
    setDefault(spec, "publishDelaySeconds", d.publishDelaySeconds);
  },
  Secret(o) {
    setDefault(o, "type", DEFAULTS.secret.type);
  },
  Namespace(o, name) {
    const meta = child(o, "metadata");
    const labels = meta && child(meta, "labels");
    // Kubernetes sets this label on every namespace and overwrites any other value.
    if (labels) labels[DEFAULTS.namespaceNameLabel] = name;
  },
};

/**
 * Returns a copy of `obj` with the defaults of `kind` filled in. The input is not modified.
 * Meant for schema-valid objects; parts of the wrong shape are left alone.
 */
export function applyDefaults<T>(kind: string, obj: T): T {
  const copy = cloneJson(obj);
  const defaulter = DEFAULTERS[kind];
  if (defaulter && isObject(copy)) {
    const meta = copy.metadata;
    const name = isObject(meta) && typeof meta.name === "string" ? meta.name : "";
    defaulter(copy, name);
  }
  return copy;
}
