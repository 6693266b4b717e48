// Rules beyond the schema, for one object that already passed its schema and got its defaults:
// names, label syntax, CIDRs and addresses, selectors, ports, probe timing, BGP and feed settings.
import { formatSelectorError } from "../selector/errors.js";
import { parseSelector } from "../selector/selector.js";
import { kindInfo } from "./kinds.js";
import { type Cidr, type IpVersion, parseCidr, parseIp } from "../util/ip.js";
import { type IssueList, type PathSegment, showValue } from "./issues.js";
import type { ObjectMeta, Resource } from "./meta.js";
import {
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  domainProblem,
  interfaceNameProblem,
  labelValueProblem,
  qualifiedKeyProblem,
} from "./names.js";
import {
  ANN_EGRESS_GATEWAY_POLICY,
  ANN_EGRESS_GATEWAY_PREFERENCE,
  ANN_EGRESS_MAX_NEXT_HOPS,
  ANN_EGRESS_NAMESPACE_SELECTOR,
  ANN_EGRESS_SELECTOR,
  ANN_GATEWAY_EGRESS_IP,
} from "./well-known.js";
import type { Lease } from "./schemas/coordination.js";
import type { Namespace, Node, Pod, Secret } from "./schemas/core.js";
import { BGP_LIMITS, type BGPConfiguration, type BGPPeer, type FirewallFeed } from "./schemas/routing.js";
import { BGP_CONFIGURATION_NAME, isBase64, isCommunityValue, parseCommunity } from "./routing.js";
import {
  GATEWAY_PREFERENCE_CHOICES,
  isGatewayPreference,
  type EgressGateway,
  type EgressGatewayPolicy,
  type IPAllocation,
  type IPPool,
} from "./schemas/egress.js";
import type {
  EntityRule,
  GlobalNetworkPolicy,
  GlobalNetworkSet,
  NetworkPolicy,
  Rule,
} from "./schemas/policy.js";

type Path = readonly PathSegment[];

// ---- field checks -------------------------------------------------------------------------

export function checkSelector(
  issues: IssueList,
  path: Path,
  src: string,
  opts: { nonEmpty?: boolean } = {},
): void {
  if (opts.nonEmpty && src.trim() === "") {
    issues.add(
      path,
      `${showValue(src)} is not valid: a selector is required here (all() selects everything)`,
    );
    return;
  }
  const parsed = parseSelector(src);
  if (!parsed.ok) issues.add(path, formatSelectorError(parsed.error));
}

function checkCidr(issues: IssueList, path: Path, s: string, allowBareIp = false): Cidr | undefined {
  const r = parseCidr(s, { allowBareIp });
  if (!r.ok) issues.add(path, `${showValue(s)} ${r.error}`);
  return r.ok ? r.value : undefined;
}

function checkIp(issues: IssueList, path: Path, s: string): void {
  if (parseIp(s) === undefined)
    issues.add(path, `${showValue(s)} is not a valid IP address: expected e.g. 10.0.0.1 or 2001:db8::1`);
}

function checkStringMap(
  issues: IssueList,
  path: Path,
  map: Record<string, string> | undefined,
  labels: boolean,
): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    issues.check([...path, k], k, qualifiedKeyProblem(k));
    if (labels) issues.check([...path, k], v, labelValueProblem(v));
  }
}

/** Checks `nets` entries and that a list does not mix IPv4 and IPv6; returns the version seen. */
function checkNets(issues: IssueList, path: Path, nets: readonly string[]): IpVersion[] {
  const versions: IpVersion[] = [];
  nets.forEach((n, i) => {
    const c = checkCidr(issues, [...path, i], n, true);
    if (c) versions.push(c.version);
  });
  return versions;
}

// ---- metadata -----------------------------------------------------------------------------

/** The workload annotations that select gateways (Namespace and Pod). */
function checkEgressAnnotations(issues: IssueList, annotations: Record<string, string> | undefined): void {
  if (!annotations) return;
  const path = (key: string): Path => ["metadata", "annotations", key];
  for (const key of [ANN_EGRESS_SELECTOR, ANN_EGRESS_NAMESPACE_SELECTOR]) {
    const v = annotations[key];
    if (v !== undefined) checkSelector(issues, path(key), v);
  }
  const hops = annotations[ANN_EGRESS_MAX_NEXT_HOPS];
  if (hops !== undefined && hops !== "" && !/^(0|[1-9][0-9]{0,8})$/.test(hops)) {
    issues.add(
      path(ANN_EGRESS_MAX_NEXT_HOPS),
      `${showValue(hops)} is not valid: expected a whole number >= 0 (0 = all gateways)`,
    );
  }
  const policy = annotations[ANN_EGRESS_GATEWAY_POLICY];
  if (policy !== undefined)
    issues.check(path(ANN_EGRESS_GATEWAY_POLICY), policy, dns1123SubdomainProblem(policy));
  const preference = annotations[ANN_EGRESS_GATEWAY_PREFERENCE];
  if (preference !== undefined && preference.trim() !== "" && !isGatewayPreference(preference.trim())) {
    issues.add(
      path(ANN_EGRESS_GATEWAY_PREFERENCE),
      `${showValue(preference)} is not valid: use ${GATEWAY_PREFERENCE_CHOICES}`,
    );
  }
}

export function checkMetadata(issues: IssueList, kind: string, meta: ObjectMeta): void {
  const info = kindInfo(kind);
  const nameProblem =
    kind === "Namespace" ? dns1123LabelProblem(meta.name) : dns1123SubdomainProblem(meta.name);
  issues.check(["metadata", "name"], meta.name, nameProblem);
  if (info?.namespaced) {
    if (meta.namespace === undefined) {
      issues.add(
        ["metadata", "namespace"],
        `is required: ${kind} is namespaced; expected a DNS-1123 label such as "default"`,
      );
    } else {
      issues.check(["metadata", "namespace"], meta.namespace, dns1123LabelProblem(meta.namespace));
    }
  } else if (meta.namespace !== undefined) {
    issues.add(
      ["metadata", "namespace"],
      `${showValue(meta.namespace)} is not allowed: ${kind} is cluster-scoped; remove the namespace`,
    );
  }
  checkStringMap(issues, ["metadata", "labels"], meta.labels, true);
  checkStringMap(issues, ["metadata", "annotations"], meta.annotations, false);
}

// ---- per kind -----------------------------------------------------------------------------

const BLOCK_SIZE_RANGE: Record<IpVersion, [number, number]> = { 4: [20, 32], 6: [116, 128] };

function checkIPPool(issues: IssueList, o: IPPool): void {
  const spec = o.spec;
  const cidr = checkCidr(issues, ["spec", "cidr"], spec.cidr);
  if (cidr && spec.blockSize !== undefined) {
    const [lo, hi] = BLOCK_SIZE_RANGE[cidr.version];
    if (spec.blockSize < lo || spec.blockSize > hi) {
      issues.add(
        ["spec", "blockSize"],
        `${spec.blockSize} is not valid for an IPv${cidr.version} pool: expected ${lo}-${hi}`,
      );
    } else if (spec.blockSize < cidr.prefix) {
      issues.add(
        ["spec", "blockSize"],
        `${spec.blockSize} is not valid: a block must fit in the pool ${cidr.text}; expected ${cidr.prefix}-${hi}`,
      );
    }
  }
  if (spec.nodeSelector !== undefined) checkSelector(issues, ["spec", "nodeSelector"], spec.nodeSelector);
}

/** Calico: "probe timeout must be greater than interval", enforced as timeoutMs >= intervalMs. */
function checkProbeTiming(
  issues: IssueList,
  path: Path,
  p: { intervalMs?: number; timeoutMs?: number },
): void {
  if (p.intervalMs !== undefined && p.timeoutMs !== undefined && p.timeoutMs < p.intervalMs) {
    issues.add(
      [...path, "timeoutMs"],
      `${p.timeoutMs} is not valid: must be >= intervalMs (${p.intervalMs})`,
    );
  }
}

function checkEgressGateway(issues: IssueList, o: EgressGateway): void {
  const spec = o.spec;
  spec.ipPools.forEach((ref, i) => {
    const path: Path = ["spec", "ipPools", i];
    if (ref.name === undefined && ref.cidr === undefined) {
      issues.add(path, `${showValue(ref)} is not valid: name an IPPool by name or cidr`);
    }
    if (ref.name !== undefined) issues.check([...path, "name"], ref.name, dns1123SubdomainProblem(ref.name));
    if (ref.cidr !== undefined) checkCidr(issues, [...path, "cidr"], ref.cidr);
  });
  checkStringMap(issues, ["spec", "template", "metadata", "labels"], spec.template?.metadata?.labels, true);
  checkStringMap(
    issues,
    ["spec", "template", "metadata", "annotations"],
    spec.template?.metadata?.annotations,
    false,
  );
  checkStringMap(
    issues,
    ["spec", "template", "spec", "nodeSelector"],
    spec.template?.spec?.nodeSelector,
    true,
  );
  const rolling = spec.strategy?.rollingUpdate;
  if (rolling?.maxSurge === 0 && rolling.maxUnavailable === 0)
    issues.add(
      ["spec", "strategy", "rollingUpdate", "maxUnavailable"],
      "0 is not valid when maxSurge is 0: no replica could ever be replaced; set maxSurge or maxUnavailable to 1 or more",
    );
  const fd = spec.failureDetection;
  if (fd) {
    const fdPath: Path = ["spec", "failureDetection"];
    if (!fd.icmpProbe && !fd.httpProbe && !fd.liveness)
      issues.add(fdPath, "{} is not valid: configure icmpProbe, httpProbe or both (or liveness)");
    if (fd.icmpProbe) {
      fd.icmpProbe.ips.forEach((ip, i) => checkIp(issues, [...fdPath, "icmpProbe", "ips", i], ip));
      checkProbeTiming(issues, [...fdPath, "icmpProbe"], fd.icmpProbe);
    }
    if (fd.httpProbe) {
      fd.httpProbe.urls.forEach((url, i) => {
        if (!isHttpUrl(url))
          issues.add(
            [...fdPath, "httpProbe", "urls", i],
            `${showValue(url)} is not valid: expected an http:// or https:// URL`,
          );
      });
      checkProbeTiming(issues, [...fdPath, "httpProbe"], fd.httpProbe);
    }
  }
  o.status?.replicas?.forEach((r, i) => {
    if (r.egressIP !== undefined) checkIp(issues, ["status", "replicas", i, "egressIP"], r.egressIP);
  });
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

function checkEgressGatewayPolicy(issues: IssueList, o: EgressGatewayPolicy): void {
  const firstRuleFor = new Map<string, number>();
  o.spec.rules.forEach((rule, i) => {
    const path: Path = ["spec", "rules", i];
    if (rule.destination) {
      const cidr = checkCidr(issues, [...path, "destination", "cidr"], rule.destination.cidr);
      const first = cidr && firstRuleFor.get(cidr.text);
      if (cidr && first !== undefined) {
        issues.add(
          [...path, "destination", "cidr"],
          `${showValue(rule.destination.cidr)} is not valid: rules[${first}] has the same destination; each destination may appear once`,
        );
      } else if (cidr) firstRuleFor.set(cidr.text, i);
    }
    if (rule.gateway) {
      checkSelector(issues, [...path, "gateway", "selector"], rule.gateway.selector, { nonEmpty: true });
      checkSelector(issues, [...path, "gateway", "namespaceSelector"], rule.gateway.namespaceSelector, {
        nonEmpty: true,
      });
    }
  });
}

const PORT_PROTOCOLS = new Set<string | number>(["TCP", "UDP", "SCTP", "UDPLite", 6, 17, 132, 136]);

function portProblem(p: number | string): string | undefined {
  const inRange = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (typeof p === "number") return inRange(p) ? undefined : "is not a valid port: expected 1-65535";
  const m = /^([0-9]{1,5})(?::([0-9]{1,5}))?$/.exec(p);
  if (!m)
    return 'is not a valid port: expected a number 1-65535 or a range "lo:hi" (named ports are not supported)';
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (!inRange(lo) || !inRange(hi)) return "is not a valid port range: ports must be 1-65535";
  if (lo > hi) return `is not a valid port range: the start must not exceed the end (use "${hi}:${lo}")`;
  return undefined;
}

function checkEntityRule(issues: IssueList, path: Path, rule: Rule, d: EntityRule): void {
  const versions = [
    ...checkNets(issues, [...path, "nets"], d.nets ?? []),
    ...checkNets(issues, [...path, "notNets"], d.notNets ?? []),
  ];
  if (new Set(versions).size > 1) {
    issues.add(
      [...path, "nets"],
      `${showValue([...(d.nets ?? []), ...(d.notNets ?? [])])} is not valid: nets and notNets of one rule must all be IPv4 or all IPv6`,
    );
  }
  if (rule.ipVersion !== undefined && versions.some((v) => v !== rule.ipVersion)) {
    issues.add(
      [...path, "nets"],
      `${showValue(d.nets ?? d.notNets)} is not valid: the rule has ipVersion ${rule.ipVersion}`,
    );
  }
  if (d.selector !== undefined) checkSelector(issues, [...path, "selector"], d.selector);
  if (d.namespaceSelector !== undefined)
    checkSelector(issues, [...path, "namespaceSelector"], d.namespaceSelector);
  for (const field of ["ports", "notPorts"] as const) {
    const ports = d[field];
    if (!ports) continue;
    ports.forEach((p, i) => issues.check([...path, field, i], p, portProblem(p)));
    if (ports.length > 0 && (rule.protocol === undefined || !PORT_PROTOCOLS.has(rule.protocol))) {
      issues.add(
        [...path, field],
        `${showValue(ports)} is not valid with protocol ${showValue(rule.protocol ?? "(none)")}: ports need protocol TCP, UDP, SCTP or UDPLite`,
      );
    }
  }
  if (d.domains) {
    d.domains.forEach((name, i) => issues.check([...path, "domains", i], name, domainProblem(name)));
    if (rule.action !== "Allow") {
      issues.add(
        [...path, "domains"],
        `${showValue(d.domains)} is not valid with action ${rule.action}: domains are allowed only in Allow rules`,
      );
    }
    if ((d.nets?.length ?? 0) > 0 || d.selector !== undefined) {
      issues.add(
        [...path, "domains"],
        `${showValue(d.domains)} is not valid: a rule with domains must not also set nets or selector`,
      );
    }
  }
}

function checkRule(issues: IssueList, path: Path, rule: Rule): void {
  const icmpVersion: Record<string, IpVersion> = { ICMP: 4, ICMPv6: 6, "1": 4, "58": 6 };
  const protoVersion = rule.protocol === undefined ? undefined : icmpVersion[String(rule.protocol)];
  if (rule.ipVersion !== undefined && protoVersion !== undefined && protoVersion !== rule.ipVersion) {
    issues.add(
      [...path, "protocol"],
      `${showValue(rule.protocol)} is not valid with ipVersion ${rule.ipVersion}`,
    );
  }
  if (rule.destination) checkEntityRule(issues, [...path, "destination"], rule, rule.destination);
}

function checkPolicy(issues: IssueList, o: NetworkPolicy | GlobalNetworkPolicy): void {
  const spec = o.spec;
  if (spec.tier !== undefined) issues.check(["spec", "tier"], spec.tier, dns1123SubdomainProblem(spec.tier));
  if (spec.selector !== undefined) checkSelector(issues, ["spec", "selector"], spec.selector);
  if ("namespaceSelector" in spec && spec.namespaceSelector !== undefined) {
    checkSelector(issues, ["spec", "namespaceSelector"], spec.namespaceSelector);
  }
  if (spec.types && (spec.egress?.length ?? 0) > 0 && !spec.types.includes("Egress")) {
    issues.add(
      ["spec", "types"],
      `${showValue(spec.types)} is not valid: the policy has egress rules, so types must include "Egress"`,
    );
  }
  spec.egress?.forEach((rule, i) => checkRule(issues, ["spec", "egress", i], rule));
}

function checkNode(issues: IssueList, o: Node): void {
  if (o.spec?.podCIDR !== undefined) checkCidr(issues, ["spec", "podCIDR"], o.spec.podCIDR);
  o.spec?.podCIDRs?.forEach((c, i) => checkCidr(issues, ["spec", "podCIDRs", i], c));
  o.status?.addresses?.forEach((a, i) => {
    if (a.type === "InternalIP" || a.type === "ExternalIP")
      checkIp(issues, ["status", "addresses", i, "address"], a.address);
  });
  const bgp = o.status?.bgp;
  bgp?.announced?.forEach((c, i) => checkCidr(issues, ["status", "bgp", "announced", i], c));
  bgp?.peers?.forEach((p, i) => checkIp(issues, ["status", "bgp", "peers", i, "peerIP"], p.peerIP));
}

// ---- routing ------------------------------------------------------------------------------

/** Names of spec.communities: no ':' so that advertise.communities can tell names from values. */
const COMMUNITY_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function checkBGPConfiguration(issues: IssueList, o: BGPConfiguration): void {
  if (o.metadata.name !== BGP_CONFIGURATION_NAME)
    issues.add(
      ["metadata", "name"],
      `${showValue(o.metadata.name)} is not valid: only the BGPConfiguration named "default" is used (one per cluster); name it default`,
    );
  const spec = o.spec ?? {};
  const names = new Map<string, number>();
  spec.communities?.forEach((c, i) => {
    const path: Path = ["spec", "communities", i];
    if (!COMMUNITY_NAME.test(c.name))
      issues.add(
        [...path, "name"],
        `${showValue(c.name)} is not a valid community name: use 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
      );
    const first = names.get(c.name);
    if (first !== undefined)
      issues.add(
        [...path, "name"],
        `${showValue(c.name)} is not valid: communities[${first}] has the same name; names must be unique`,
      );
    else names.set(c.name, i);
    const parsed = parseCommunity(c.value);
    if (!parsed.ok) issues.add([...path, "value"], `${showValue(c.value)} ${parsed.error}`);
  });
  const advertise = spec.advertise;
  advertise?.ipPools?.forEach((pool, i) =>
    issues.check(["spec", "advertise", "ipPools", i], pool, dns1123SubdomainProblem(pool)),
  );
  advertise?.communities?.forEach((ref, i) => {
    const path: Path = ["spec", "advertise", "communities", i];
    if (isCommunityValue(ref)) {
      const parsed = parseCommunity(ref);
      if (!parsed.ok) issues.add(path, `${showValue(ref)} ${parsed.error}`);
    } else if (!names.has(ref)) {
      const known = [...names.keys()].sort().join(", ") || "none";
      issues.add(
        path,
        `${showValue(ref)} is not valid: no community of that name in spec.communities (known: ${known}); use a defined name or a value such as "64512:100"`,
      );
    }
  });
}

/** Addresses a router cannot have: unspecified, loopback, link-local, multicast, broadcast. */
function peerAddressProblem(ip: string): string | undefined {
  const parsed = parseIp(ip);
  if (parsed === undefined)
    return "is not a valid IP address: expected the router's IPv4 address, e.g. 172.30.0.1";
  if (parsed.version === 6)
    return "is not supported: BGP peers must be IPv4 (nodes announce IPv4 egress IPs over IPv4 sessions)";
  const first = Number(parsed.value >> 24n);
  const second = Number((parsed.value >> 16n) & 255n);
  if (parsed.value === 0n || parsed.value === 0xffffffffn || first === 127 || first >= 224)
    return "is not valid: a router's address must be a unicast address (not 0.0.0.0, loopback, multicast or broadcast)";
  if (first === 169 && second === 254)
    return "is not supported: link-local peers need an interface scope egw does not configure; use the router's routable address";
  return undefined;
}

/** Keys of a Secret's data: Kubernetes' rule. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const secretKeyProblem = (key: string): string | undefined =>
  key.length > 253 || !SECRET_KEY.test(key)
    ? "is not a valid Secret key: use 1-253 letters, digits, '-', '_' or '.'"
    : undefined;

function checkSecretKeyRef(issues: IssueList, path: Path, ref: { name: string; key?: string }): void {
  issues.check([...path, "name"], ref.name, dns1123SubdomainProblem(ref.name));
  if (ref.key !== undefined) issues.check([...path, "key"], ref.key, secretKeyProblem(ref.key));
}

function checkBGPPeer(issues: IssueList, o: BGPPeer): void {
  const spec = o.spec;
  issues.check(["spec", "peerIP"], spec.peerIP, peerAddressProblem(spec.peerIP));
  if (spec.node !== undefined) issues.check(["spec", "node"], spec.node, dns1123SubdomainProblem(spec.node));
  if (spec.nodeSelector !== undefined) {
    if (spec.node !== undefined)
      issues.add(
        ["spec", "nodeSelector"],
        `${showValue(spec.nodeSelector)} is not valid together with spec.node (${showValue(spec.node)}): set node for one node or nodeSelector for several, not both`,
      );
    checkSelector(issues, ["spec", "nodeSelector"], spec.nodeSelector);
  }
  const hold = spec.holdTimeSeconds;
  if (hold !== undefined && hold !== 0 && hold < BGP_LIMITS.holdTimeSeconds.min)
    issues.add(
      ["spec", "holdTimeSeconds"],
      `${hold} is not valid: BGP allows 0 (no hold timer) or 3 to 65535 seconds`,
    );
  const ref = spec.password?.secretKeyRef;
  if (ref) checkSecretKeyRef(issues, ["spec", "password", "secretKeyRef"], ref);
}

function checkFirewallFeed(issues: IssueList, o: FirewallFeed): void {
  const spec = o.spec;
  checkSelector(issues, ["spec", "selector"], spec.selector, { nonEmpty: true });
  if (spec.namespaceSelector !== undefined)
    checkSelector(issues, ["spec", "namespaceSelector"], spec.namespaceSelector, { nonEmpty: true });
  const auth = spec.auth;
  if (auth) {
    const set = [auth.bearerTokenSecretRef && "bearerTokenSecretRef", auth.basic && "basic"].filter(
      (x): x is string => typeof x === "string",
    );
    if (set.length !== 1)
      issues.add(
        ["spec", "auth"],
        `${showValue(auth)} is not valid: set exactly one of bearerTokenSecretRef or basic (omit auth for a public feed)`,
      );
    if (auth.bearerTokenSecretRef)
      checkSecretKeyRef(issues, ["spec", "auth", "bearerTokenSecretRef"], auth.bearerTokenSecretRef);
    if (auth.basic) checkSecretKeyRef(issues, ["spec", "auth", "basic", "secretRef"], auth.basic.secretRef);
  }
  const status = o.status;
  if (status?.url !== undefined && !isHttpUrl(status.url))
    issues.add(
      ["status", "url"],
      `${showValue(status.url)} is not valid: expected an http:// or https:// URL`,
    );
  if (status?.lastChange !== undefined) checkTime(issues, ["status", "lastChange"], status.lastChange);
}

function checkSecret(issues: IssueList, o: Secret): void {
  for (const [k, v] of Object.entries(o.data ?? {})) {
    issues.check(["data", k], k, secretKeyProblem(k));
    if (!isBase64(v))
      issues.add(
        ["data", k],
        "the value (not shown) is not valid base64: data values are base64-encoded; use stringData for plain text",
      );
  }
  for (const k of Object.keys(o.stringData ?? {})) issues.check(["stringData", k], k, secretKeyProblem(k));
}

/** RFC 3339 times, as Kubernetes writes a Lease's acquireTime and renewTime. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkTime(issues: IssueList, path: Path, v: string): void {
  if (!RFC3339.test(v) || !Number.isFinite(Date.parse(v)))
    issues.add(
      path,
      `${showValue(v)} is not valid: expected an RFC 3339 time, e.g. 2026-01-01T12:00:00.000Z`,
    );
}

function checkLease(issues: IssueList, o: Lease): void {
  for (const field of ["acquireTime", "renewTime"] as const) {
    const v = o.spec?.[field];
    if (v !== undefined) checkTime(issues, ["spec", field], v);
  }
}

function checkPod(issues: IssueList, o: Pod): void {
  checkEgressAnnotations(issues, o.metadata.annotations);
  const egressIP = o.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP];
  if (egressIP !== undefined) checkIp(issues, ["metadata", "annotations", ANN_GATEWAY_EGRESS_IP], egressIP);
  if (o.spec?.nodeName !== undefined)
    issues.check(["spec", "nodeName"], o.spec.nodeName, dns1123SubdomainProblem(o.spec.nodeName));
  if (o.status?.podIP !== undefined) checkIp(issues, ["status", "podIP"], o.status.podIP);
  if (o.status?.hostIP !== undefined) checkIp(issues, ["status", "hostIP"], o.status.hostIP);
  const iface = o.status?.hostInterface;
  if (iface !== undefined) issues.check(["status", "hostInterface"], iface, interfaceNameProblem(iface));
}

function checkIPAllocation(issues: IssueList, o: IPAllocation): void {
  issues.check(["spec", "pool"], o.spec.pool, dns1123SubdomainProblem(o.spec.pool));
  checkIp(issues, ["spec", "ip"], o.spec.ip);
}

const CHECKS: Record<string, (issues: IssueList, o: never) => void> = {
  IPPool: checkIPPool,
  EgressGateway: checkEgressGateway,
  EgressGatewayPolicy: checkEgressGatewayPolicy,
  NetworkPolicy: checkPolicy,
  GlobalNetworkPolicy: checkPolicy,
  GlobalNetworkSet: (issues, o: GlobalNetworkSet) =>
    void checkNets(issues, ["spec", "nets"], o.spec?.nets ?? []),
  Namespace: (issues, o: Namespace) => checkEgressAnnotations(issues, o.metadata.annotations),
  Pod: checkPod,
  Node: checkNode,
  Lease: checkLease,
  IPAllocation: checkIPAllocation,
  BGPConfiguration: checkBGPConfiguration,
  BGPPeer: checkBGPPeer,
  FirewallFeed: checkFirewallFeed,
  Secret: checkSecret,
};

/** Semantic checks of the spec/status of one schema-valid, defaulted object. */
export function checkSemantics(issues: IssueList, obj: Resource): void {
  CHECKS[obj.kind]?.(issues, obj as never);
}
