// Why a workload leaves the way it does: the effective gateway set per destination with replica
// names and egress IPs, or the reason it is blocked, or that it uses no gateway (for describe).
import { ANN_EGRESS_GATEWAY_POLICY, ANN_EGRESS_SELECTOR, ANN_GATEWAY_OWNER } from "../api/well-known.js";
import { err, ok, type Result } from "../util/result.js";
import { describeLevel, type EgressConfig } from "./effective-config.js";
import { replicaOf, resolveWorkloadEgress } from "./gateway-selection.js";
import type { DestinationRoute } from "./plan.js";
import { isGatewayPod, type ClusterIndex } from "./snapshot.js";

export interface GatewayExplanation {
  replica: string;
  node: string;
  podIP: string;
  egressIP: string;
  /** "ready" or "not polled yet" (both are used). */
  health: string;
}

export type DestinationExplanation =
  | { destination: string; action: "gateways"; gateways: GatewayExplanation[] }
  | { destination: string; action: "throw"; why: string }
  | { destination: string; action: "unreachable"; reason: string };

export type WorkloadExplanation =
  | { kind: "gateway-replica"; owner: string }
  | { kind: "no-gateway"; summary: string }
  | { kind: "blocked"; reason: string; source: string }
  | {
      kind: "gateways";
      source: string;
      gatewaySet: string;
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
  const egress = resolveWorkloadEgress(index, pod, pod.spec?.nodeName ?? "");
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
      return ok({
        kind: "gateways",
        source: describeSource(egress.config),
        gatewaySet: egress.key,
        destinations: egress.routes.map((r) => explainRoute(index, r, fromPolicy)),
        notes: egress.notes,
      });
    }
  }
}

function explainRoute(
  index: ClusterIndex,
  route: DestinationRoute,
  fromPolicy: ReadonlySet<string>,
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
        gateways: route.hops.map((hop) => {
          const [ns = "", podName = ""] = hop.replica.split("/", 2);
          const pod = index.pod(ns, podName);
          const replica = pod === undefined ? undefined : replicaOf(index, pod);
          return {
            replica: hop.replica,
            node: replica?.node ?? "",
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
        (config.maxNextHops > 0 ? `, maxNextHops ${config.maxNextHops}` : "")
      );
  }
}

/** Human-readable lines for `egw describe pod`. */
export function formatExplanation(e: WorkloadExplanation): string[] {
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
          for (const g of d.gateways) {
            lines.push(
              `    ${g.replica} on ${g.node}: egress IP ${g.egressIP} (pod IP ${g.podIP}, ${g.health})`,
            );
          }
        }
      }
      for (const n of e.notes) lines.push(`  Note: ${n}`);
      return lines;
    }
  }
}
