// The agent's Prometheus series: what each one means, and the gauges that describe a plan. The
// parts of the agent count and set them; /metrics renders them (Agent.metricsText).
import type { NodePlan } from "../calc/plan.js";
import { Metrics } from "../daemon/metrics.js";

export function agentMetrics(): Metrics {
  return new Metrics()
    .counter("egw_agent_reconciles_total", "Dataplane reconciles by result (ok, error)")
    .counter("egw_agent_kernel_changes_total", "Kernel changes made by reconciles")
    .gauge("egw_agent_last_reconcile_success", "1 if the last reconcile succeeded, else 0")
    .gauge("egw_agent_last_success_timestamp_seconds", "Unix time of the last successful reconcile")
    .gauge("egw_agent_reconcile_duration_seconds", "Duration of the last reconcile")
    .gauge("egw_agent_workloads", "Workloads on this node in the plan")
    .gauge("egw_agent_blocked_workloads", "Workloads whose egress is blocked (fail closed)")
    .gauge("egw_agent_gateway_sets", "Gateway sets (routing tables) on this node")
    .gauge("egw_agent_unreachable_routes", "Destinations routed 'unreachable' because no gateway is usable")
    .counter("egw_agent_gateway_polls_total", "Readiness polls of gateway replicas by result (up, failed)")
    .gauge("egw_agent_polled_gateways", "Polled gateway replicas by state (up, down, unknown)")
    .counter("egw_agent_skipped_objects_total", "Malformed datastore objects skipped, by kind")
    .counter("egw_agent_watch_resyncs_total", "Watches restarted from a full list, by kind")
    .gauge("egw_agent_policy_problems", "Invalid egress policies or tiers (each logged once)");
}

/** The plan's size and fail-closed state (a NodePlan, or the plan as the kernel holds it). */
export function setPlanGauges(metrics: Metrics, plan: Pick<NodePlan, "workloads" | "gatewaySets">): void {
  metrics.set("egw_agent_workloads", plan.workloads.length);
  metrics.set("egw_agent_blocked_workloads", plan.workloads.filter((w) => w.blocked).length);
  metrics.set("egw_agent_gateway_sets", plan.gatewaySets.length);
  metrics.set(
    "egw_agent_unreachable_routes",
    plan.gatewaySets.reduce((n, s) => n + s.routes.filter((r) => r.action === "unreachable").length, 0),
  );
}
