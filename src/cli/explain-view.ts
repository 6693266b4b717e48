// `egw explain`'s pure part: parse the --to target, run calc's evaluator (the code the agents
// compile to nft) and calc's egress explanation for that destination, and format the answer;
// and the egress lines of `egw describe pod`, from the same explanation.
import { cidrContains, parseCidr, parseIp } from "../util/ip.js";
import {
  describeVerdict,
  evaluateEgress,
  type Connection,
  type RuleRef,
  type Verdict,
} from "../calc/access/evaluate.js";
import {
  explainWorkload,
  type DestinationExplanation,
  type GatewayChoiceExplanation,
  type WorkloadExplanation,
} from "../calc/explain.js";
import type { ClusterIndex } from "../calc/snapshot.js";
import { err, ok, type Result } from "../util/result.js";

const PROTOCOLS = ["tcp", "udp", "icmp", "sctp", "udplite"];

/** `IP:PORT[/tcp|udp|sctp|udplite]` or `IP[/icmp]`; tcp when no protocol is given. */
export function parseTarget(text: string): Result<Connection, string> {
  const bad = (why: string): Result<Connection, string> =>
    err(
      `--to "${text}" is not valid: ${why} (e.g. 198.18.0.10:443/tcp, 198.18.0.10:53/udp, 198.18.0.10/icmp)`,
    );
  const slash = text.lastIndexOf("/");
  const protocol = slash < 0 ? "tcp" : text.slice(slash + 1).toLowerCase();
  const hostPort = slash < 0 ? text : text.slice(0, slash);
  if (!PROTOCOLS.includes(protocol))
    return bad(`unknown protocol "${protocol}": use ${PROTOCOLS.join(", ")}`);
  const colon = hostPort.lastIndexOf(":");
  const ip = colon < 0 ? hostPort : hostPort.slice(0, colon);
  if (parseIp(ip)?.version !== 4) return bad(`"${ip}" is not an IPv4 address`);
  if (protocol === "icmp") {
    if (colon >= 0) return bad("icmp has no port");
    return ok({ ip, protocol });
  }
  const portText = colon < 0 ? "" : hostPort.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    return bad(`${protocol} needs a port 1-65535`);
  return ok({ ip, port: Number(portText), protocol });
}

/** `np:ns/name` → `NetworkPolicy ns/name`, `gnp:name` → `GlobalNetworkPolicy name`. */
export const describePolicyKey = (key: string): string =>
  key.startsWith("np:")
    ? `NetworkPolicy ${key.slice(3)}`
    : key.startsWith("gnp:")
      ? `GlobalNetworkPolicy ${key.slice(4)}`
      : key;

const describeRef = (r: RuleRef): string =>
  `tier "${r.tier}", ${describePolicyKey(r.policy)}, egress rule ${r.rule} (${r.action})`;

/** The explanation route that carries `ip`: the longest matching destination prefix. */
function routeFor(
  destinations: readonly DestinationExplanation[],
  ip: string,
): DestinationExplanation | undefined {
  const addr = parseIp(ip);
  let best: { d: DestinationExplanation; prefix: number } | undefined;
  for (const d of destinations) {
    const c = parseCidr(d.destination);
    if (!c.ok || addr === undefined || !cidrContains(c.value, addr)) continue;
    if (best === undefined || c.value.prefix > best.prefix) best = { d, prefix: c.value.prefix };
  }
  return best?.d;
}

export interface ConnectionExplanation {
  pod: string;
  to: Connection;
  verdict: Verdict;
  summary: string;
  /** How an allowed connection leaves (gateways, what chose them and egress IPs, or node SNAT). */
  egress: string[];
}

export function explainConnection(
  index: ClusterIndex,
  namespace: string,
  pod: string,
  to: Connection,
): Result<ConnectionExplanation, string> {
  const verdict = evaluateEgress(index, namespace, pod, to);
  if (!verdict.ok) return verdict;
  const egress: string[] = [];
  if (verdict.value.verdict === "Deny") egress.push("none: the connection is denied before gateway steering");
  else {
    const w = explainWorkload(index, namespace, pod);
    if (!w.ok) return w;
    const e = w.value;
    if (e.kind === "gateway-replica") egress.push(`the pod is a replica of EgressGateway ${e.owner}`);
    else if (e.kind === "no-gateway") egress.push(e.summary);
    else if (e.kind === "blocked") egress.push(`BLOCKED (fail closed): ${e.reason}`, `source: ${e.source}`);
    else {
      egress.push("via gateways", `source: ${e.source}`);
      const route = routeFor(e.destinations, to.ip);
      if (route === undefined) egress.push("no gateway route covers the destination: normal path");
      else if (route.action === "throw") egress.push(`${route.destination}: no gateway (${route.why})`);
      else if (route.action === "unreachable")
        egress.push(`${route.destination}: UNREACHABLE (fail closed): ${route.reason}`);
      else {
        egress.push(`${route.destination}: ${route.gateways.length} gateway(s), one per connection`);
        if (route.choice !== undefined)
          egress.push(...describeGatewayChoice(route.choice).map((l) => `  ${l}`));
        for (const g of route.gateways)
          egress.push(`  ${g.replica} on ${g.node}: egress IP ${g.egressIP} (${g.health})`);
      }
    }
  }
  return ok({
    pod: `${namespace}/${pod}`,
    to,
    verdict: verdict.value,
    summary: describeVerdict(verdict.value),
    egress,
  });
}

export function formatConnectionExplanation(x: ConnectionExplanation): string[] {
  const target = `${x.to.ip}${x.to.port !== undefined ? `:${x.to.port}` : ""}/${String(x.to.protocol)}`;
  const lines = [`Pod:      ${x.pod}`, `To:       ${target}`, `Verdict:  ${x.verdict.verdict.toUpperCase()}`];
  const d = x.verdict.decision;
  if (d.kind === "rule") lines.push(`Decided:  ${describeRef(d.ref)}`);
  else lines.push(`Decided:  ${x.summary.slice(x.summary.indexOf(":") + 2)}`);
  for (const p of x.verdict.passed)
    lines.push(`Passed:   ${"policy" in p ? describeRef(p) : `tier "${p.tier}" default action (Pass)`}`);
  for (const l of x.verdict.logged) lines.push(`Logged:   ${describeRef(l)} (NFLOG)`);
  lines.push(`Egress:   ${x.egress[0] ?? ""}`, ...x.egress.slice(1).map((l) => `          ${l}`));
  return lines;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;

/** The settings that chose a destination's gateways and which replicas they chose, in words. */
export function describeGatewayChoice(c: GatewayChoiceExplanation): string[] {
  const limit = c.maxNextHops > 0 ? `maxNextHops ${c.maxNextHops}` : "maxNextHops 0 (no limit)";
  const where = c.preference === "PreferNodeLocal" ? "on the pod's node" : `in zone ${c.zone ?? "(none)"}`;
  const preference =
    c.preference === "None"
      ? "gatewayPreference None"
      : c.preference === "PreferSameZone" && c.zone === undefined
        ? "gatewayPreference PreferSameZone (the pod's node has no zone label)"
        : `gatewayPreference ${c.preference}${c.preferred ? "" : ` (no candidate ${where})`}`;
  const from = `${count(c.candidates, "candidate")}${c.preferred ? ` ${where}` : ""}`;
  const which =
    c.picked === undefined
      ? `all ${from} used`
      : `${c.picked.length} of ${from} picked for this pod: ${c.picked.join(", ")}`;
  // Selectors unquoted, one per line: their canonical text has quotes of its own.
  const lines = [
    `selector: ${c.selector}`,
    `namespace selector: ${c.namespaceSelector}`,
    `${limit}, ${preference}: ${which}`,
  ];
  if (c.fallback) {
    lines.push(
      `none of those passed readiness polling: healthy candidates stand in${c.preferred ? ` (${where} first)` : ""}`,
    );
  }
  return lines;
}

/** The `Egress:` lines of `egw describe pod`. */
export function formatWorkloadExplanation(e: WorkloadExplanation): string[] {
  switch (e.kind) {
    case "gateway-replica":
      return [`Egress: this pod is a replica of EgressGateway ${e.owner}`];
    case "no-gateway":
      return [`Egress: ${e.summary}`];
    case "blocked":
      return [`Egress: BLOCKED (fail closed)`, `  Source: ${e.source}`, `  Reason: ${e.reason}`];
    case "gateways": {
      const lines = [`Egress: via gateways`, `  Source: ${e.source}`];
      for (const d of e.destinations) {
        if (d.action === "throw") lines.push(`  ${d.destination}: no gateway (${d.why})`);
        else if (d.action === "unreachable")
          lines.push(`  ${d.destination}: UNREACHABLE (fail closed): ${d.reason}`);
        else {
          lines.push(`  ${d.destination}: ${d.gateways.length} gateway(s)`);
          if (d.choice !== undefined) lines.push(...describeGatewayChoice(d.choice).map((l) => `    ${l}`));
          for (const g of d.gateways) {
            lines.push(
              `    ${g.replica} on ${g.node}${g.zone === undefined ? "" : ` (${g.zone})`}: ` +
                `egress IP ${g.egressIP} (pod IP ${g.podIP}, ${g.health})`,
            );
          }
        }
      }
      for (const n of e.notes) lines.push(`  Note: ${n}`);
      return lines;
    }
  }
}
