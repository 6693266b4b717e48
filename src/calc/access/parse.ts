// NetworkPolicy / GlobalNetworkPolicy → a validated, normalised form (selectors parsed, protocols
// as numbers, ports as ranges, nets as canonical IPv4 CIDRs). Parsed once per object update.
// A rule that fails validation (the API rejects it, so only a bypassed datastore gets here)
// becomes a Deny of everything at its position: fail closed, with the reason kept for status.
import { parseCidr } from "../../util/ip.js";
import { formatSelectorError } from "../../selector/errors.js";
import type { Selector } from "../../selector/selector.js";
import { err, ok, type Result } from "../../util/result.js";
import type { ParseSelectorFn } from "../policy.js";
import {
  accessPolicyKey,
  type AccessPolicyKind,
  type AccessRuleInput,
  type NetworkPolicyInput,
  type PortInput,
} from "./inputs.js";

export type RuleAction = "Allow" | "Deny" | "Log" | "Pass";
export const RULE_ACTIONS: readonly RuleAction[] = ["Allow", "Deny", "Log", "Pass"];

export interface PortRange {
  from: number;
  to: number;
}

export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  tcp: 6,
  udp: 17,
  icmp: 1,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};
/** Protocols with ports: TCP, UDP, SCTP, UDPLite. */
export const PORT_PROTOCOLS: readonly number[] = [6, 17, 132, 136];

export const DEFAULT_TIER = "default";

export interface ParsedAccessRule {
  /** Position in spec.egress. */
  index: number;
  action: RuleAction;
  protocol?: number;
  notProtocol?: number;
  ipVersion?: 4 | 6;
  /** Canonical IPv4 CIDRs; absent = any destination. */
  nets?: string[];
  notNets?: string[];
  /** Destination workloads / network sets by label. */
  selector?: Selector;
  namespaceSelector?: Selector;
  ports?: PortRange[];
  notPorts?: PortRange[];
  /** Why the rule can never match IPv4 traffic on this dataplane (IPv6 nets, domains). */
  never?: string;
  /** Why this rule was replaced by a fail-closed Deny of everything. */
  invalid?: string;
}

export interface ParsedAccessPolicy {
  kind: AccessPolicyKind;
  /** NetworkPolicy only. */
  namespace?: string;
  name: string;
  key: string;
  tier: string;
  order?: number;
  selector: Selector;
  /** GlobalNetworkPolicy only; absent = every namespace. */
  namespaceSelector?: Selector;
  /** Whether the policy has type Egress (explicit, or inferred as Calico does). */
  egress: boolean;
  rules: ParsedAccessRule[];
  /** Rule problems (each rule listed is a fail-closed Deny). */
  problems: string[];
}

/** Calico's inference: explicit types win; otherwise Egress iff there are egress rules. */
export function hasEgressType(spec: NetworkPolicyInput["spec"]): boolean {
  if (spec?.types !== undefined && spec.types.length > 0) return spec.types.includes("Egress");
  return (spec?.egress?.length ?? 0) > 0;
}

export function protocolNumber(p: string | number): number | undefined {
  if (typeof p === "number") return Number.isInteger(p) && p >= 1 && p <= 255 ? p : undefined;
  if (/^[0-9]{1,3}$/.test(p)) return protocolNumber(Number(p));
  return PROTOCOL_NUMBERS[p.toLowerCase()];
}

export function parsePort(p: PortInput): PortRange | undefined {
  const valid = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (typeof p === "number") return valid(p) ? { from: p, to: p } : undefined;
  const m = /^([0-9]{1,5})(?::([0-9]{1,5}))?$/.exec(p.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return valid(from) && valid(to) && from <= to ? { from, to } : undefined;
}

/** Splits nets into canonical IPv4 CIDRs (host bits cleared) and a count of IPv6 ones. */
export function ipv4Nets(nets: readonly string[]): Result<{ v4: string[]; v6: number }, string> {
  const v4: string[] = [];
  let v6 = 0;
  for (const [i, n] of nets.entries()) {
    // Calico masks host bits; follow it rather than fail the rule.
    const c = parseCidr(n, { allowBareIp: true, maskHostBits: true });
    if (!c.ok) return err(`[${i}] "${n}" ${c.error}`);
    if (c.value.version === 4) v4.push(c.value.text);
    else v6++;
  }
  return ok({ v4, v6 });
}

function parseRule(
  rule: AccessRuleInput,
  index: number,
  parse: ParseSelectorFn,
): Result<ParsedAccessRule, string> {
  const at = `spec.egress[${index}]`;
  const action = rule.action as RuleAction;
  if (!RULE_ACTIONS.includes(action))
    return err(`${at}.action "${rule.action}" is not valid: use Allow, Deny, Log or Pass`);
  const out: ParsedAccessRule = { index, action };
  const nevers: string[] = [];
  for (const field of ["protocol", "notProtocol"] as const) {
    const p = rule[field];
    if (p === undefined) continue;
    const n = protocolNumber(p);
    if (n === undefined)
      return err(
        `${at}.${field} "${String(p)}" is not valid: use TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255`,
      );
    out[field] = n;
  }
  if (rule.ipVersion !== undefined) {
    if (rule.ipVersion !== 4 && rule.ipVersion !== 6)
      return err(`${at}.ipVersion ${String(rule.ipVersion)} is not valid: use 4 or 6`);
    out.ipVersion = rule.ipVersion;
    if (rule.ipVersion === 6) nevers.push("ipVersion 6 (the dataplane is IPv4)");
  }
  if (out.protocol === 58) nevers.push("protocol ICMPv6 (the dataplane is IPv4)");
  const d = rule.destination ?? {};
  for (const field of ["nets", "notNets"] as const) {
    const list = d[field];
    if (list === undefined || list.length === 0) continue;
    const nets = ipv4Nets(list);
    if (!nets.ok) return err(`${at}.destination.${field}${nets.error}`);
    out[field] = nets.value.v4;
    if (field === "nets" && nets.value.v4.length === 0) nevers.push("only IPv6 nets (the dataplane is IPv4)");
  }
  for (const field of ["selector", "namespaceSelector"] as const) {
    const src = d[field];
    if (src === undefined) continue;
    const s = parse(src);
    if (!s.ok) return err(`${at}.destination.${field} is not valid: ${formatSelectorError(s.error)}`);
    out[field] = s.value;
  }
  for (const field of ["ports", "notPorts"] as const) {
    const list = d[field];
    if (list === undefined || list.length === 0) continue;
    const ranges: PortRange[] = [];
    for (const [i, p] of list.entries()) {
      const r = parsePort(p);
      if (r === undefined)
        return err(
          `${at}.destination.${field}[${i}] "${String(p)}" is not valid: use a port 1-65535 or a range "lo:hi" with lo <= hi`,
        );
      ranges.push(r);
    }
    out[field] = ranges;
  }
  if (
    (out.ports ?? out.notPorts) !== undefined &&
    out.protocol !== undefined &&
    !PORT_PROTOCOLS.includes(out.protocol)
  )
    nevers.push(`ports with protocol ${out.protocol} (ports need TCP, UDP, SCTP or UDPLite)`);
  if (d.domains !== undefined && d.domains.length > 0)
    nevers.push("domains (DNS policy is not supported yet: the rule matches nothing)");
  if (nevers.length > 0) out.never = nevers.join("; ");
  return ok(out);
}

/** Validates and normalises a policy; an error names the policy and field path. */
export function parseAccessPolicy(
  kind: AccessPolicyKind,
  policy: NetworkPolicyInput,
  parse: ParseSelectorFn,
): Result<ParsedAccessPolicy, string> {
  const name = policy.metadata.name;
  const namespace = kind === "NetworkPolicy" ? (policy.metadata.namespace ?? "default") : undefined;
  const what =
    kind === "NetworkPolicy" ? `NetworkPolicy "${namespace}/${name}"` : `GlobalNetworkPolicy "${name}"`;
  const spec = policy.spec ?? {};
  const selector = parse(spec.selector ?? "all()");
  if (!selector.ok) return err(`${what}: spec.selector is not valid: ${formatSelectorError(selector.error)}`);
  let namespaceSelector: Selector | undefined;
  if (kind === "GlobalNetworkPolicy" && spec.namespaceSelector !== undefined) {
    const s = parse(spec.namespaceSelector);
    if (!s.ok) return err(`${what}: spec.namespaceSelector is not valid: ${formatSelectorError(s.error)}`);
    namespaceSelector = s.value;
  }
  const rules: ParsedAccessRule[] = [];
  const problems: string[] = [];
  for (const [i, rule] of (spec.egress ?? []).entries()) {
    const r = parseRule(rule, i, parse);
    if (r.ok) rules.push(r.value);
    else {
      const problem = `${what}: ${r.error}; the rule denies everything until fixed (fail closed)`;
      problems.push(problem);
      rules.push({ index: i, action: "Deny", invalid: problem });
    }
  }
  return ok({
    kind,
    ...(namespace !== undefined ? { namespace } : {}),
    name,
    key: accessPolicyKey(kind, namespace, name),
    tier: spec.tier ?? DEFAULT_TIER,
    ...(spec.order !== undefined && Number.isFinite(spec.order) ? { order: spec.order } : {}),
    selector: selector.value,
    ...(namespaceSelector !== undefined ? { namespaceSelector } : {}),
    egress: hasEgressType(spec),
    rules,
    problems,
  });
}
