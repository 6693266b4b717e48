// The client node's dataplane: reconcile(plan) = give the plan's gateway sets their slots → read
// kernel → diff → apply, level-triggered and idempotent. It adopts matching kernel state (a
// restart keeps each set's slot, the resilient groups and conntrack marks, and changes nothing),
// repairs drift, and never touches objects outside egw's bands. Between full reconciles (the
// first one, resyncs, anything after a failure) it trusts what it applied last: unchanged routing
// is not read back, and a table whose sets and maps are all that changed gets one transaction of
// element operations instead of a replacement (node-update.ts decides).
import type { NodePlan } from "../calc/plan.js";
import { err, ok, type Result } from "../util/result.js";
import { NODE_NFT_TABLE, VXLAN_DEVICE, withDefaults, type DataplaneOptions } from "./config.js";
import { diffPeers, diffRouting, mergeChanges, type Changes } from "./diff.js";
import {
  deleteNftTable,
  ensureSysctls,
  ensureVxlan,
  loadNft,
  nodeNftMatches,
  readBandRouting,
  readGatewayGroups,
  readNodeNft,
  readPeers,
  readKernelSlots,
  runBatch,
} from "./kernel.js";
import { groupsBySet, type KernelGatewayGroup } from "./kernel-groups.js";
import { kernelPlanOf, type KernelNodePlan } from "./kernel-plan.js";
import { replaceTableText } from "./nft/text.js";
import { withCounterValues } from "./nft-text.js";
import {
  elementsAction,
  nftStep,
  routingKey,
  deviceKey,
  deviceUnchanged,
  routingUnchanged,
  type NftStep,
  type NodeApplied,
} from "./node-update.js";
import { NftSession } from "./nft-session.js";
import { checkNodeTable, renderNode, type NodeRender } from "./render-node.js";
import type { Runner } from "./runner.js";
import { GatewaySetSlots } from "./slots.js";

export interface ReconcileReport {
  /** Number of kernel changes made (0 when the kernel already matched the plan). */
  changes: number;
  /** What was changed, as the commands issued (the nft load is one entry). */
  actions: string[];
}

/** A client node's reconcile: the kernel changes, and how the plan was placed in the kernel. */
export interface NodeReconcileReport extends ReconcileReport {
  /** The plan as the kernel holds it now: gateway sets with their fwmark and table. */
  plan: KernelNodePlan;
  /**
   * Where the kernel departs from the plan, one line each: workloads blocked because the node
   * needs more gateway sets than egw's band holds (fail closed), pods or addresses left out
   * because the kernel cannot hold them.
   */
  problems: string[];
}

/** What a previous process left in the kernel (see NodeDataplanePort.adoptKernelState). */
export interface AdoptedKernelState {
  /** The gateway nexthop groups the kernel routes through, by gateway set and destination. */
  gatewayGroups: KernelGatewayGroup[];
}

export interface ReconcileOptions {
  /**
   * Read everything back from the kernel and repair what differs (the agent's periodic resync and
   * its retries). Without it, what this dataplane applied last is trusted: routing whose desired
   * state did not change is neither read nor written, and a table that changed only in set and
   * map elements is updated element by element. The first reconcile, and the first after any
   * failure, is full either way.
   */
  full?: boolean;
}

/** The agent-facing port; the fake in fake.ts implements it for unit tests. */
export interface NodeDataplanePort {
  /** Gives the plan's gateway sets their slots (kept across calls), then programs the kernel. */
  reconcile(plan: NodePlan, options?: ReconcileOptions): Promise<Result<NodeReconcileReport, string>>;
  /**
   * Read once by a starting agent, before its first reconcile: adopts the gateway-set slots the
   * kernel steers `plan`'s workloads with (reconcile does so by itself when this was not called)
   * and returns the kernel's gateway groups named by `plan`'s gateway sets.
   */
  adoptKernelState(plan: NodePlan): Promise<Result<AdoptedKernelState, string>>;
}

/** Works out the routing changes for a render against the kernel (used by reconcile and dry runs). */
export async function planRoutingChanges(
  runner: Runner,
  r: NodeRender,
  o: DataplaneOptions,
): Promise<Result<Changes, string>> {
  // Independent read-backs, run at once: a failover waits for the slowest, not their sum.
  const [peers, observed] = await Promise.all([readPeers(runner, VXLAN_DEVICE), readBandRouting(runner)]);
  if (!peers.ok) return peers;
  if (!observed.ok) return observed;
  const routing = diffRouting(
    {
      device: VXLAN_DEVICE,
      groups: r.desired.groups,
      routes: r.desired.routes,
      rules: r.desired.rules,
      buckets: o.resilientBuckets,
      idleTimerSec: o.resilientIdleTimerSec,
    },
    observed.value,
  );
  if (routing.problems.length > 0) return err(routing.problems.join("; "));
  return ok(
    mergeChanges(
      diffPeers(VXLAN_DEVICE, r.desired.peers, peers.value.neighbours, peers.value.fdb),
      routing.changes,
    ),
  );
}

export class NodeDataplane implements NodeDataplanePort {
  private readonly options: DataplaneOptions;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly slots: GatewaySetSlots;
  /** What the last successful reconcile applied; undefined makes the next one full. */
  private applied: NodeApplied | undefined;
  /** Applies element updates when the runner can keep a process (else each is an `nft -f`). */
  private readonly session: NftSession | undefined;

  constructor(
    private readonly runner: Runner,
    options: Partial<DataplaneOptions> = {},
  ) {
    this.options = withDefaults(options);
    this.slots = new GatewaySetSlots(() => readKernelSlots(this.runner, NODE_NFT_TABLE));
    const start = runner.start?.bind(runner);
    this.session = start === undefined ? undefined : new NftSession(() => start(["nft", "-i"]), runner.where);
  }

  /** Ends the nft session process (tests; an agent's ends with the agent). */
  close(): void {
    this.session?.close();
  }

  adoptKernelState(plan: NodePlan): Promise<Result<AdoptedKernelState, string>> {
    return this.serialised(async () => {
      const preview = await this.slots.preview(plan);
      if (!preview.ok) return preview;
      const groups = await readGatewayGroups(this.runner);
      if (!groups.ok) return err(`reading the kernel's gateway nexthop groups failed: ${groups.error}`);
      return ok({ gatewayGroups: groupsBySet(groups.value, preview.value.slots) });
    });
  }

  /** Serialised: a watch event and the periodic resync never interleave their batches. */
  reconcile(plan: NodePlan, options: ReconcileOptions = {}): Promise<Result<NodeReconcileReport, string>> {
    return this.serialised(() => this.reconcileNow(plan, options.full === true));
  }

  private serialised<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reconcileNow(plan: NodePlan, full: boolean): Promise<Result<NodeReconcileReport, string>> {
    // Any failure below leaves this undefined, so the next reconcile reads everything back.
    const applied = this.applied;
    this.applied = undefined;
    const assigned = await this.slots.assign(plan);
    if (!assigned.ok) return assigned;
    const placed = kernelPlanOf(plan, assigned.value);
    const rendered = renderNode(placed.plan, this.options, { tableCheck: false });
    if (!rendered.ok) return err(`node ${plan.node}: invalid plan: ${rendered.error.join("; ")}`);
    const r = rendered.value;
    // Every check before the first kernel change: an element update's operations were checked as
    // they were built; a table that may be loaded whole is checked whole.
    const step = nftStep(applied, r, full);
    if (step.kind === "full") {
      const invalid = checkNodeTable(plan.node, r.table);
      if (invalid !== undefined) return err(`node ${plan.node}: invalid plan: ${invalid}`);
    }
    const actions: string[] = [];

    const routing = routingKey(r.desired);
    const skipRouting = routingUnchanged(applied, routing, full);
    let c: Changes | undefined;
    const device = deviceKey(r.desired);
    if (!skipRouting) {
      if (!deviceUnchanged(applied, device, full)) {
        const link = await ensureVxlan(this.runner, r.desired.link);
        if (!link.ok) return link;
        actions.push(...link.value.map((l) => `ip ${l}`));
        const sysctls = await ensureSysctls(this.runner, r.desired.sysctls);
        if (!sysctls.ok) return sysctls;
        actions.push(...sysctls.value);
      }
      const planned = await planRoutingChanges(this.runner, r, this.options);
      if (!planned.ok) return planned;
      c = planned.value;
      // Add first: tables, routes and rules exist before any mark points at them.
      const added = await this.runBatches(
        [
          ["bridge", c.bridgeAdd],
          ["ip", c.ipAdd],
        ],
        actions,
      );
      if (!added.ok) return added;
    }

    const nft = await this.applyNft(step, r, plan.node, actions);
    // A failed load leaves the old ruleset in force, which still uses the old objects: no removals.
    if (!nft.ok) return nft;
    if (c !== undefined) {
      const removed = await this.runBatches(
        [
          ["ip", c.ipRemove],
          ["bridge", c.bridgeRemove],
        ],
        actions,
      );
      if (!removed.ok) return removed;
    }
    this.applied = { table: r.table, hash: r.shape.hash, routing, device };
    return ok({ changes: actions.length, actions, plan: placed.plan, problems: placed.problems });
  }

  private async runBatches(
    batches: readonly (readonly ["ip" | "bridge", readonly string[]])[],
    actions: string[],
  ): Promise<Result<void, string>> {
    for (const [tool, lines] of batches) {
      const applied = await runBatch(this.runner, tool, lines);
      if (!applied.ok) return applied;
      actions.push(...lines.map((l) => `${tool} ${l}`));
    }
    return ok(undefined);
  }

  /**
   * Brings the node table to the render: an element transaction when that is all that changed,
   * else (or when that transaction fails, e.g. because an element it deletes is gone) a read-back
   * and, if the kernel differs, a whole-table replacement.
   */
  private async applyNft(
    step: NftStep,
    r: NodeRender,
    node: string,
    actions: string[],
  ): Promise<Result<void, string>> {
    if (step.kind === "none") return ok(undefined);
    let elementsFailed: string | undefined;
    if (step.kind === "elements") {
      const loaded =
        this.session !== undefined
          ? await this.session.apply(step.text)
          : await loadNft(this.runner, step.text);
      if (loaded.ok) {
        actions.push(elementsAction(NODE_NFT_TABLE, step.count));
        return ok(undefined);
      }
      elementsFailed = loaded.error;
      actions.push(`nft element update failed, table read back: ${loaded.error}`);
      const invalid = checkNodeTable(node, r.table);
      if (invalid !== undefined) return err(`element update failed (${elementsFailed}); ${invalid}`);
    }
    const nft = await readNodeNft(this.runner, NODE_NFT_TABLE);
    if (!nft.ok) return nft;
    if (nodeNftMatches(nft.value, r.table, r.shape)) return ok(undefined);
    // The replacement starts each rule's counter where the kernel's stands now.
    const loaded = await loadNft(
      this.runner,
      replaceTableText(withCounterValues(r.table, nft.value.counters)),
    );
    if (!loaded.ok)
      return elementsFailed === undefined
        ? loaded
        : err(`element update failed (${elementsFailed}); table replacement failed too: ${loaded.error}`);
    actions.push(`nft -f (replace table inet ${NODE_NFT_TABLE}, plan ${r.shape.hash})`);
    return ok(undefined);
  }

  /** Removes everything egw owns on this node (uninstall, tests): its table, band objects, device. */
  async teardown(): Promise<Result<void, string>> {
    this.applied = undefined;
    this.session?.close();
    const observed = await readBandRouting(this.runner);
    if (!observed.ok) return observed;
    const none = { device: VXLAN_DEVICE, groups: [], routes: [], rules: [], buckets: 0, idleTimerSec: 0 };
    const { changes } = diffRouting(none, observed.value);
    const removed = await runBatch(this.runner, "ip", changes.ipRemove);
    if (!removed.ok) return removed;
    const nft = await deleteNftTable(this.runner, NODE_NFT_TABLE);
    if (!nft.ok) return nft;
    await this.runner.run(["ip", "link", "del", VXLAN_DEVICE]);
    return ok(undefined);
  }
}
