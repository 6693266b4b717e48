// Why a workload leaves the way it does, as data for `egw describe pod` and `egw explain`: per
// destination the gateways with replica names and egress IPs and the settings that chose them
// (selectors, maxNextHops, gateway preference, which replicas), or the reason it is blocked,
// or that it uses no gateway. Formatting is the CLI's; internal keys stay out of it.
import type { GatewayPreference } from "../api/schemas/egress.js";
import { ANN_EGRESS_GATEWAY_POLICY, ANN_EGRESS_SELECTOR, ANN_GATEWAY_OWNER } from "../api/well-known.js";
import { err, ok, type Result } from "../util/result.js";
import { describeLevel, type EgressConfig } from "./effective-config.js";
import {
  gatewayChoices,
  replicaOf,
  resolveWorkloadEgress,
  zoneOf,
  type GatewayChoice,
} from "./gateway-selection.js";
import type { DestinationRoute } from "./plan.js";
import { isGatewayPod, type ClusterIndex } from "./snapshot.js";

export interface GatewayExplanation {
  replica: string;
  node: string;
  /** The replica's node's zone, when it has one. */
  zone?: string;
  podIP: string;
  egressIP: string;
  /** "ready" or "not polled yet" (both are used). */
  health: string;
}

/** The settings that chose a destination's gateways, and which replicas they chose. */
export interface GatewayChoiceExplanation {
  /** Gateway replicas' labels must match (canonical selector text). */
  selector: string;
  /** Their namespaces' labels must match (the pod's own namespace unless set). */
  namespaceSelector: string;
  /** At most this many replicas per workload; 0 = no limit. */
  maxNextHops: number;
  /** Which candidates are preferred: those on the pod's node, in its zone, or none in particular. */
  preference: GatewayPreference;
  /** The pod's node's zone (PreferSameZone), when it has one. */
  zone?: string;
  /** How many candidates (matching replicas that may be used) the choice was made from. */
  candidates: number;
  /** The candidates were the preferred ones (on the pod's node, or in its zone). */
  preferred: boolean;
  /** The replicas maxNextHops picked for this pod; absent when all candidates are used. */
  picked?: string[];
  /** None of the chosen replicas passed readiness polling: healthy candidates stand in. */
  fallback: boolean;
}

export type DestinationExplanation =
  | {
      destination: string;
      action: "gateways";
      gateways: GatewayExplanation[];
      choice?: GatewayChoiceExplanation;
    }
  | { destination: string; action: "throw"; why: string }
  | { destination: string; action: "unreachable"; reason: string };

export type WorkloadExplanation =
  | { kind: "gateway-replica"; owner: string }
  | { kind: "no-gateway"; summary: string }
  | { kind: "blocked"; reason: string; source: string }
  | {
      kind: "gateways";
      source: string;
      destinations: DestinationExplanation[];
      notes: string[];
    };

/** Explains one pod's egress; an error value when the pod is unknown. */
export function explainWorkload(
  index: ClusterIndex,
  namespace: string,
  name: string,
): Result<WorkloadExplanation, string> {
  const pod = index.pod(namespace, name);
  if (pod === undefined) return err(`pod "${namespace}/${name}" not found`);
  if (isGatewayPod(pod)) {
    return ok({
      kind: "gateway-replica",
      owner: pod.metadata.annotations?.[ANN_GATEWAY_OWNER] ?? "(unknown)",
    });
  }
  const node = pod.spec?.nodeName ?? "";
  const egress = resolveWorkloadEgress(index, pod, node);
  switch (egress.kind) {
    case "none":
      return ok({
        kind: "no-gateway",
        summary: "no gateway (node SNAT): no egress annotation on the pod or its namespace",
      });
    case "blocked":
      return ok({ kind: "blocked", reason: egress.reason, source: describeSource(egress.config) });
    case "gateways": {
      const fromPolicy = new Set<string>();
      if (egress.config.kind === "policy") {
        const policy = index.policy(egress.config.policy);
        if (policy?.ok) for (const r of policy.value.routes) fromPolicy.add(r.destination);
      }
      const choices = new Map(gatewayChoices(index, pod, node).map((c) => [c.destination, c]));
      const zone = zoneOf(index, node);
      return ok({
        kind: "gateways",
        source: describeSource(egress.config),
        destinations: egress.routes.map((r) =>
          explainRoute(index, r, fromPolicy, choices.get(r.destination), zone),
        ),
        notes: egress.notes,
      });
    }
  }
}

function explainChoice(c: GatewayChoice, zone: string | undefined): GatewayChoiceExplanation {
  const out: GatewayChoiceExplanation = {
    selector: c.target.selector.toString(),
    namespaceSelector: c.target.namespaceSelector.toString(),
    maxNextHops: c.target.maxNextHops,
    preference: c.target.preference,
    candidates: c.pool.length,
    preferred: c.pool !== c.candidates,
    fallback: c.fallback,
  };
  if (c.target.preference === "PreferSameZone" && zone !== undefined) out.zone = zone;
  if (c.picked !== undefined) out.picked = c.picked.map((r) => r.key);
  return out;
}

function explainRoute(
  index: ClusterIndex,
  route: DestinationRoute,
  fromPolicy: ReadonlySet<string>,
  choice: GatewayChoice | undefined,
  zone: string | undefined,
): DestinationExplanation {
  switch (route.action) {
    case "throw":
      return {
        destination: route.destination,
        action: "throw",
        why: fromPolicy.has(route.destination)
          ? "policy rule without gateway: normal path"
          : "not covered by the policy: normal path",
      };
    case "unreachable":
      return route;
    case "gateways":
      return {
        destination: route.destination,
        action: "gateways",
        ...(choice === undefined ? {} : { choice: explainChoice(choice, zone) }),
        gateways: route.hops.map((hop) => {
          const [ns = "", podName = ""] = hop.replica.split("/", 2);
          const pod = index.pod(ns, podName);
          const replica = pod === undefined ? undefined : replicaOf(index, pod);
          const node = replica?.node ?? "";
          const replicaZone = zoneOf(index, node);
          return {
            replica: hop.replica,
            node,
            ...(replicaZone === undefined ? {} : { zone: replicaZone }),
            podIP: hop.ip,
            egressIP: hop.egressIP,
            health: replica?.healthy === true ? "ready" : "not polled yet",
          };
        }),
      };
  }
}

function describeSource(config: EgressConfig): string {
  switch (config.kind) {
    case "none":
      return "no egress annotation";
    case "policy":
    case "missing-policy":
      return `EgressGatewayPolicy "${config.policy}" (${describeLevel(config.from)} ${ANN_EGRESS_GATEWAY_POLICY})`;
    case "selector":
      return (
        `${describeLevel(config.from)} ${ANN_EGRESS_SELECTOR} "${config.selector}"` +
        (config.namespaceSelector === undefined
          ? " (gateways in the pod's own namespace)"
          : `, namespaceSelector "${config.namespaceSelector}"`) +
        (config.maxNextHops > 0 ? `, maxNextHops ${config.maxNextHops}` : "") +
        (config.gatewayPreference !== "None" ? `, gatewayPreference ${config.gatewayPreference}` : "")
      );
  }
}
