// EgressGatewayPolicy → validated routes, longest prefix first. A policy that fails validation is
// kept as an error so the workloads naming it are blocked with that message (fail closed).
import {
  GATEWAY_PREFERENCE_CHOICES,
  isGatewayPreference,
  type GatewayPreference,
} from "../api/schemas/egress.js";
import { parseCidr } from "../util/ip.js";
import { formatSelectorError, type SelectorError } from "../selector/errors.js";
import type { Selector } from "../selector/selector.js";
import { err, ok, type Result } from "../util/result.js";
import type { EgressGatewayPolicyInput } from "./inputs.js";
import { compareStrings } from "../util/compare.js";

export type ParseSelectorFn = (src: string) => Result<Selector, SelectorError>;

/** Which gateway replicas one destination uses. */
export interface GatewayTarget {
  selector: Selector;
  namespaceSelector: Selector;
  /** 0 = all matching replicas. */
  maxNextHops: number;
  /** Prefer replicas on the client's node (PreferNodeLocal) or in its zone (PreferSameZone). */
  preference: GatewayPreference;
}

export interface PolicyRoute {
  /** Canonical CIDR text. */
  destination: string;
  prefix: number;
  version: 4 | 6;
  /** Absent: this destination skips the gateways (a `throw` route). */
  target?: GatewayTarget;
}

export interface ParsedPolicy {
  name: string;
  /** Longest prefix first, then by address text: the order the kernel would consult them. */
  routes: PolicyRoute[];
}

export const DEFAULT_DESTINATION = "0.0.0.0/0";

/** Validates a policy; the error names the policy and the field path. */
export function parsePolicy(
  policy: EgressGatewayPolicyInput,
  parse: ParseSelectorFn,
): Result<ParsedPolicy, string> {
  const name = policy.metadata.name;
  const fail = (path: string, problem: string): Result<ParsedPolicy, string> =>
    err(`EgressGatewayPolicy "${name}": ${path} ${problem}`);
  const rules = policy.spec?.rules ?? [];
  if (rules.length === 0) return fail("spec.rules", "must list at least one rule");

  const routes: PolicyRoute[] = [];
  const seen = new Map<string, number>();
  for (const [i, rule] of rules.entries()) {
    const at = `spec.rules[${i}]`;
    const cidrText = rule.destination?.cidr ?? DEFAULT_DESTINATION;
    const cidr = parseCidr(cidrText);
    if (!cidr.ok) return fail(`${at}.destination.cidr`, `"${cidrText}" ${cidr.error}`);
    const earlier = seen.get(cidr.value.text);
    if (earlier !== undefined) {
      return fail(
        `${at}.destination.cidr`,
        `"${cidr.value.text}" repeats spec.rules[${earlier}]: each destination may appear once`,
      );
    }
    seen.set(cidr.value.text, i);

    const preference = rule.gatewayPreference ?? "None";
    if (!isGatewayPreference(preference)) {
      return fail(
        `${at}.gatewayPreference`,
        `"${preference}" is not valid: use ${GATEWAY_PREFERENCE_CHOICES}`,
      );
    }
    const route: PolicyRoute = {
      destination: cidr.value.text,
      prefix: cidr.value.prefix,
      version: cidr.value.version,
    };
    const gw = rule.gateway;
    if (gw !== undefined) {
      const selector = parseRequired(gw.selector, parse);
      if (!selector.ok) return fail(`${at}.gateway.selector`, selector.error);
      const namespaceSelector = parseRequired(gw.namespaceSelector, parse);
      if (!namespaceSelector.ok) return fail(`${at}.gateway.namespaceSelector`, namespaceSelector.error);
      const max = gw.maxNextHops ?? 0;
      if (!Number.isInteger(max) || max < 0) {
        return fail(
          `${at}.gateway.maxNextHops`,
          `${String(max)} is not valid: use an integer >= 0 (0 = all replicas)`,
        );
      }
      route.target = {
        selector: selector.value,
        namespaceSelector: namespaceSelector.value,
        maxNextHops: max,
        preference,
      };
    }
    routes.push(route);
  }
  routes.sort(byLongestPrefix);
  return ok({ name, routes });
}

function parseRequired(src: string | undefined, parse: ParseSelectorFn): Result<Selector, string> {
  if (src === undefined || src.trim() === "") return err(`is required (use "all()" to match everything)`);
  const parsed = parse(src);
  return parsed.ok ? parsed : err(`is not valid: ${formatSelectorError(parsed.error)}`);
}

export function byLongestPrefix(
  a: { prefix: number; destination: string },
  b: { prefix: number; destination: string },
): number {
  return b.prefix - a.prefix || compareStrings(a.destination, b.destination);
}
