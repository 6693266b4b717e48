// Which egress annotations apply to a workload, with Calico's precedence:
//   1. the pod's egressGatewayPolicy, 2. the namespace's egressGatewayPolicy,
//   3. the pod's selector (with the pod's namespaceSelector and maxNextHops),
//   4. the namespace's selector (with the namespace's namespaceSelector and maxNextHops).
// A policy annotation at either level beats a selector at either level. The selector,
// namespaceSelector and maxNextHops travel together from the level that sets the selector (as in
// Calico, which stores them as one spec per pod or namespace): a pod selector is never combined
// with a namespace's namespaceSelector that was written for a different gateway.
//
// Deliberate difference from Calico: when the pod names a policy that does not exist, the pod is
// blocked even if its namespace names one that exists (Calico would fall back to the namespace's).
// The pod's explicit choice is not met, and DESIGN says naming a missing policy fails closed.
import {
  GATEWAY_PREFERENCE_CHOICES,
  isGatewayPreference,
  type GatewayPreference,
} from "../api/schemas/egress.js";
import {
  ANN_EGRESS_GATEWAY_POLICY,
  ANN_EGRESS_GATEWAY_PREFERENCE,
  ANN_EGRESS_MAX_NEXT_HOPS,
  ANN_EGRESS_NAMESPACE_SELECTOR,
  ANN_EGRESS_SELECTOR,
} from "../api/well-known.js";

export type ConfigLevel = "pod" | "namespace";

export type EgressConfig =
  /** No egress annotation: the workload keeps the default path (node SNAT). */
  | { kind: "none" }
  | { kind: "policy"; policy: string; from: ConfigLevel }
  /** A named policy does not exist: egress blocked. */
  | { kind: "missing-policy"; policy: string; from: ConfigLevel }
  | {
      kind: "selector";
      from: ConfigLevel;
      selector: string;
      /** Undefined: the workload's own namespace. */
      namespaceSelector: string | undefined;
      maxNextHops: number;
      /** Set when the maxNextHops annotation was invalid and 0 (all) was used, as Calico does. */
      maxNextHopsProblem?: string;
      gatewayPreference: GatewayPreference;
      /** Set when the gatewayPreference annotation is invalid: the workload's egress is blocked. */
      gatewayPreferenceProblem?: string;
    };

type Annotations = Readonly<Record<string, string>> | undefined;

/** A value counts as set when it is non-blank (Calico treats "" as unset). */
const setValue = (annotations: Annotations, key: string): string | undefined => {
  const v = annotations?.[key];
  return v !== undefined && v.trim() !== "" ? v.trim() : undefined;
};

export function effectiveEgressConfig(
  podAnnotations: Annotations,
  namespaceAnnotations: Annotations,
  policyExists: (name: string) => boolean,
): EgressConfig {
  return (
    policyAt("pod", podAnnotations, policyExists) ??
    policyAt("namespace", namespaceAnnotations, policyExists) ??
    selectorAt("pod", podAnnotations) ??
    selectorAt("namespace", namespaceAnnotations) ?? { kind: "none" }
  );
}

function policyAt(
  from: ConfigLevel,
  annotations: Annotations,
  policyExists: (name: string) => boolean,
): EgressConfig | undefined {
  const policy = setValue(annotations, ANN_EGRESS_GATEWAY_POLICY);
  if (policy === undefined) return undefined;
  return policyExists(policy) ? { kind: "policy", policy, from } : { kind: "missing-policy", policy, from };
}

function selectorAt(from: ConfigLevel, annotations: Annotations): EgressConfig | undefined {
  const selector = setValue(annotations, ANN_EGRESS_SELECTOR);
  if (selector === undefined) return undefined;
  const max = parseMaxNextHops(annotations?.[ANN_EGRESS_MAX_NEXT_HOPS]);
  const preference = parseGatewayPreference(annotations?.[ANN_EGRESS_GATEWAY_PREFERENCE]);
  return {
    kind: "selector",
    from,
    selector,
    namespaceSelector: setValue(annotations, ANN_EGRESS_NAMESPACE_SELECTOR),
    maxNextHops: max.value,
    ...(max.problem === undefined ? {} : { maxNextHopsProblem: max.problem }),
    gatewayPreference: preference.value,
    ...(preference.problem === undefined ? {} : { gatewayPreferenceProblem: preference.problem }),
  };
}

/**
 * "" or absent = None. Unlike maxNextHops, a value that is not one of the preferences is a
 * problem (the caller blocks the workload): guessing could send traffic out of a zone its owner
 * meant to keep it in.
 */
export function parseGatewayPreference(raw: string | undefined): {
  value: GatewayPreference;
  problem?: string;
} {
  if (raw === undefined || raw.trim() === "") return { value: "None" };
  const text = raw.trim();
  if (isGatewayPreference(text)) return { value: text };
  return {
    value: "None",
    problem: `"${raw}" is not valid: use ${GATEWAY_PREFERENCE_CHOICES}`,
  };
}

/** "" or absent = 0 (all). Anything but a non-negative integer also becomes 0, with a note. */
export function parseMaxNextHops(raw: string | undefined): { value: number; problem?: string } {
  if (raw === undefined || raw.trim() === "") return { value: 0 };
  const text = raw.trim();
  if (/^[0-9]{1,9}$/.test(text)) return { value: Number(text) };
  return {
    value: 0,
    problem: `annotation ${ANN_EGRESS_MAX_NEXT_HOPS} "${raw}" is not an integer >= 0; using 0 (all replicas)`,
  };
}

export const describeLevel = (from: ConfigLevel): string =>
  from === "pod" ? "pod annotation" : "namespace annotation";
