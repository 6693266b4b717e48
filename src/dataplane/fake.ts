// In-memory stand-in for the node dataplane, for agent unit tests: it gives gateway sets their
// slots and renders each plan exactly as the real one does (so slot adoption, blocked overflow and
// bad plans behave as they would for real), takes the same element-update-or-replace decision
// (node-update.ts) against a kernel that always holds what it applied last, and records what was
// applied and which reconciles were full.
import type { NodePlan } from "../calc/plan.js";
import { err, ok, type Result } from "../util/result.js";
import { NODE_NFT_TABLE, type DataplaneOptions } from "./config.js";
import { groupsBySet, type TableGatewayGroup } from "./kernel-groups.js";
import { kernelPlanOf, type KernelNodePlan } from "./kernel-plan.js";
import { elementUpdate } from "./nft/elements.js";
import type {
  AdoptedKernelState,
  NodeDataplanePort,
  NodeReconcileReport,
  ReconcileOptions,
} from "./node-dataplane.js";
import { deviceKey, elementsAction, nftStep, routingKey, type NodeApplied } from "./node-update.js";
import { renderNode } from "./render-node.js";
import { GatewaySetSlots } from "./slots.js";

export class FakeNodeDataplane implements NodeDataplanePort {
  /** Every plan accepted, in order, as the kernel would hold it (gateway sets with their slots). */
  readonly applied: KernelNodePlan[] = [];
  /** Every reconcile call's `full` option, in order (failed calls included). */
  readonly fullReconciles: boolean[] = [];
  private kernel: NodeApplied | undefined;
  /** The kernel a restarted agent finds: workload IP → gateway-set slot it is steered with. */
  kernelSlots = new Map<string, number>();
  /** The kernel a restarted agent finds: replica IP → the slot of its pin. */
  kernelPins = new Map<string, number>();
  /** The kernel a restarted agent finds: its gateway nexthop groups, by table. */
  kernelGroups: TableGatewayGroup[] = [];
  /** When set, the next reconcile fails with this message (to test the agent's error path). */
  failNext: string | undefined;
  private readonly slots = new GatewaySetSlots(() =>
    Promise.resolve(ok({ workloads: new Map(this.kernelSlots), pins: new Map(this.kernelPins) })),
  );
  /** Like the real dataplane: after a failure the next reconcile is full. */
  private trusted = false;

  constructor(private readonly options: Partial<DataplaneOptions> = {}) {}

  async reconcile(
    plan: NodePlan,
    options: ReconcileOptions = {},
  ): Promise<Result<NodeReconcileReport, string>> {
    const full = options.full === true;
    this.fullReconciles.push(full);
    const trusted = this.trusted;
    this.trusted = false;
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
    const routing = routingKey(r.value.desired);
    const actions: string[] = [];
    if (this.kernel?.routing !== routing) actions.push("routing");
    const step = nftStep(trusted ? this.kernel : undefined, r.value, full);
    if (step.kind === "elements") actions.push(elementsAction(NODE_NFT_TABLE, step.count));
    else if (step.kind === "full" && !this.kernelHolds(r.value.table, r.value.shape.hash))
      actions.push(`nft -f (replace table inet ${NODE_NFT_TABLE}, plan ${r.value.shape.hash})`);
    this.kernel = {
      table: r.value.table,
      hash: r.value.shape.hash,
      routing,
      device: deviceKey(r.value.desired),
    };
    this.trusted = true;
    return ok({ changes: actions.length, actions, plan: placed.plan, problems: placed.problems });
  }

  /** Whether the fake kernel's table equals `table` (a full reconcile's read-back). */
  private kernelHolds(table: NodeApplied["table"], hash: string): boolean {
    if (this.kernel === undefined || this.kernel.hash !== hash) return false;
    return elementUpdate(this.kernel.table, table)?.transaction.operations.length === 0;
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
