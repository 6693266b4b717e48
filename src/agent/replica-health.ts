// What the agent's plan loop and cluster feed need from whoever judges gateway replicas' health:
// readiness polling (gateway-health.ts, `--liveness poll`) or data-path liveness sessions
// (liveness.ts, `--liveness bfd`). Both write their verdicts into the ClusterIndex
// (setGatewayHealth) and ask for a new plan; this only names the calls.
import type { PodInput } from "../calc/inputs.js";
import type { NodePlan } from "../calc/plan.js";
import type { Resource } from "../api/meta.js";
import type { Metrics } from "../daemon/metrics.js";
import type { KernelGatewayGroup } from "../dataplane/kernel-groups.js";

export interface ReplicaHealth {
  /** A pod was stored (gateway pods reporting Ready=False are held until proven). */
  podChanged(pod: PodInput): void;
  /** A pod was deleted. */
  podRemoved(pod: PodInput): void;
  /** An EgressGateway was stored or deleted (its failureDetection settings). */
  egressGatewayChanged(gateway: Resource, present: boolean): void;
  /**
   * Once, when the agent adopts the kernel's state: replicas the kernel's groups do not route
   * through are held until proven; true when the plan must be recomputed.
   */
  holdOutsideKernelGroups(plan: NodePlan, groups: readonly KernelGatewayGroup[]): boolean;
  /** Every pass: the replicas to watch are the plan's tunnel peers (and those judged down). */
  follow(plan: NodePlan): void;
  /** The kernel holds `plan` since `at` (clock ms): failovers it completes are reported. */
  applied(plan: NodePlan, at: number): void;
  /** Sets the gauges describing the watched replicas (on /metrics). */
  setGauges(metrics: Metrics): void;
  stop(): Promise<void>;
}
