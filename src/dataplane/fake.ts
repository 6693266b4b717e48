// In-memory stand-in for the node dataplane, for agent unit tests: it renders each plan (so bad
// plans fail exactly as they would for real) and records what was applied.
import type { NodePlan } from "../calc/plan.js";
import { err, ok, type Result } from "../util/result.js";
import type { DataplaneOptions } from "./config.js";
import type { KernelGatewayGroup } from "./kernel-groups.js";
import type { NodeDataplanePort, ReconcileReport } from "./node-dataplane.js";
import { renderNode } from "./render-node.js";

export class FakeNodeDataplane implements NodeDataplanePort {
  /** Every plan accepted, in order. */
  readonly applied: NodePlan[] = [];
  private lastHash: string | undefined;
  /** What readWorkloadSlots reports (the kernel state a restarted agent would find). */
  kernelSlots = new Map<string, number>();
  /** What readGatewayGroups reports (the nexthop groups a restarted agent would find). */
  kernelGroups: KernelGatewayGroup[] = [];
  /** When set, the next reconcile fails with this message (to test the agent's error path). */
  failNext: string | undefined;

  constructor(private readonly options: Partial<DataplaneOptions> = {}) {}

  async reconcile(plan: NodePlan): Promise<Result<ReconcileReport, string>> {
    if (this.failNext !== undefined) {
      const message = this.failNext;
      this.failNext = undefined;
      return err(message);
    }
    const r = renderNode(plan, this.options);
    if (!r.ok) return err(`node ${plan.node}: invalid plan: ${r.error.join("; ")}`);
    this.applied.push(plan);
    const fingerprint = r.value.shape.hash + JSON.stringify(r.value.desired);
    const changed = fingerprint !== this.lastHash;
    this.lastHash = fingerprint;
    return ok({ changes: changed ? 1 : 0, actions: changed ? ["render"] : [] });
  }

  readWorkloadSlots(): Promise<Result<Map<string, number>, string>> {
    return Promise.resolve(ok(new Map(this.kernelSlots)));
  }

  readGatewayGroups(): Promise<Result<KernelGatewayGroup[], string>> {
    return Promise.resolve(ok(this.kernelGroups.map((g) => ({ ...g, hops: [...g.hops] }))));
  }

  get last(): NodePlan | undefined {
    return this.applied[this.applied.length - 1];
  }
}
