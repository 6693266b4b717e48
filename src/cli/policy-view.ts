// `egw describe networkpolicy|globalnetworkpolicy`'s rule table (pure): each egress rule with
// what it matches and the packets and bytes it counted on the nodes, or why counters are not
// available from here.
import type { Resource } from "../api/meta.js";
import { accessPolicyKey, type AccessPolicyKind, type AccessRuleInput } from "../calc/access/inputs.js";
import { countersOfPolicy, type RuleCounter } from "../dataplane/policy-counters.js";
import { formatTable } from "../util/table.js";

export const ACCESS_POLICY_KINDS: readonly string[] = ["NetworkPolicy", "GlobalNetworkPolicy"];

export type CounterSource =
  | { kind: "read"; where: string; counters: readonly RuleCounter[]; nodes: string[]; errors: string[] }
  | { kind: "unavailable"; why: string };

const list = (xs: readonly unknown[] | undefined): string | undefined =>
  xs === undefined || xs.length === 0 ? undefined : xs.map(String).join(",");

/** What a rule matches, in one short line (the spec above has every field). */
export function describeRuleMatch(r: AccessRuleInput): string {
  const parts: string[] = [];
  if (r.protocol !== undefined) parts.push(String(r.protocol));
  if (r.notProtocol !== undefined) parts.push(`not ${String(r.notProtocol)}`);
  if (r.ipVersion !== undefined) parts.push(`IPv${r.ipVersion}`);
  const d = r.destination ?? {};
  const add = (label: string, v: string | undefined): void => {
    if (v !== undefined) parts.push(`${label} ${v}`);
  };
  add("to", list(d.nets));
  add("not to", list(d.notNets));
  add("to pods/sets", d.selector === undefined ? undefined : `"${d.selector}"`);
  add("in namespaces", d.namespaceSelector === undefined ? undefined : `"${d.namespaceSelector}"`);
  add("ports", list(d.ports));
  add("not ports", list(d.notPorts));
  add("domains", list(d.domains));
  return parts.length > 0 ? parts.join(" ") : "everything";
}

/** The "Egress rules" section of a NetworkPolicy or GlobalNetworkPolicy description. */
export function describePolicyRules(obj: Resource, source: CounterSource): string[] {
  const kind = obj.kind as AccessPolicyKind;
  const key = accessPolicyKey(kind, obj.metadata.namespace ?? "default", obj.metadata.name);
  const rules = ((obj.spec as { egress?: unknown } | undefined)?.egress ?? []) as AccessRuleInput[];
  const counted = source.kind === "read" ? countersOfPolicy(source.counters, key) : undefined;
  const lines = ["Egress rules:"];
  if (!Array.isArray(rules) || rules.length === 0) lines.push("  (none)");
  else {
    const rows = [["RULE", "ACTION", "PACKETS", "BYTES", "MATCH"]];
    rules.forEach((r, i) => {
      const c = counted?.get(i);
      const n = (v: number | undefined): string => (counted === undefined ? "-" : String(v ?? 0));
      rows.push([String(i), String(r.action), n(c?.packets), n(c?.bytes), describeRuleMatch(r)]);
    });
    lines.push(...formatTable(rows).map((l) => `  ${l}`));
  }
  if (source.kind === "unavailable") lines.push(`Counters: ${source.why}`);
  else {
    const nodes = source.nodes.length > 0 ? source.nodes.join(", ") : "none";
    lines.push(
      `Counters: packets of new connections per rule (established traffic is not re-evaluated), summed over ${source.where} nodes ${nodes}`,
    );
    for (const e of source.errors) lines.push(`  not read: ${e}`);
  }
  return lines;
}
