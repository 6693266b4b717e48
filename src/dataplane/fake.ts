// In-memory stand-in for the node dataplane, for agent unit tests: it gives gateway sets their
// slots and renders each plan exactly as the real one does (so slot adoption, blocked overflow and
// bad plans behave as they would for real) and records what was applied.
import type { NodePlan } from "../calc/plan.js";
import { err, ok, type Result } from "../util/result.js";
import type { DataplaneOptions } from "./config.js";
import { groupsBySet, type TableGatewayGroup } from "./kernel-groups.js";
import { kernelPlanOf, type KernelNodePlan } from "./kernel-plan.js";
import type { AdoptedKernelState, NodeDataplanePort, NodeReconcileReport } from "./node-dataplane.js";
import { renderNode } from "./render-node.js";
import { GatewaySetSlots } from "./slots.js";

export class FakeNodeDataplane implements NodeDataplanePort {
  /** Every plan accepted, in order, as the kernel would hold it (gateway sets with their slots). */
  readonly applied: KernelNodePlan[] = [];
  private lastHash: string | undefined;
  /** The kernel a restarted agent finds: workload IP → gateway-set slot it is steered with. */
  kernelSlots = new Map<string, number>();
  /** The kernel a restarted agent finds: its gateway nexthop groups, by table. */
  kernelGroups: TableGatewayGroup[] = [];
  /** When set, the next reconcile fails with this message (to test the agent's error path). */
  failNext: string | undefined;
  private readonly slots = new GatewaySetSlots(() => Promise.resolve(ok(new Map(this.kernelSlots))));

  constructor(private readonly options: Partial<DataplaneOptions> = {}) {}

  async reconcile(plan: NodePlan): Promise<Result<NodeReconcileReport, string>> {
    if (this.failNext !== undefined) {
      const message = this.failNext;
      this.failNext = undefined;
      return err(message);
    }
    const assigned = await this.slots.assign(plan);
    if (!assigned.ok) return assigned;
    const placed = kernelPlanOf(plan, assigned.value);
    const r = renderNode(placed.plan, this.options);
    if (!r.ok) return err(`node ${plan.node}: invalid plan: ${r.error.join("; ")}`);
    this.applied.push(placed.plan);
    const fingerprint = r.value.shape.hash + JSON.stringify(r.value.desired);
    const changed = fingerprint !== this.lastHash;
    this.lastHash = fingerprint;
    return ok({
      changes: changed ? 1 : 0,
      actions: changed ? ["render"] : [],
      plan: placed.plan,
      problems: placed.problems,
    });
  }

  async adoptKernelState(plan: NodePlan): Promise<Result<AdoptedKernelState, string>> {
    const preview = await this.slots.preview(plan);
    if (!preview.ok) return preview;
    return ok({ gatewayGroups: groupsBySet(this.kernelGroups, preview.value.slots) });
  }

  get last(): KernelNodePlan | undefined {
    return this.applied[this.applied.length - 1];
  }
}
