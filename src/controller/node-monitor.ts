// The node-liveness loop (I/O around node-liveness.ts): every second it lists the agents' leases
// and the Nodes, feeds the tracker, and writes each Node's EgwNodeReachable condition when the
// decision changes it. Writing the condition is all it does: the Node watch then queues every
// gateway, and gateway-actions.ts replaces the replicas of a lost node. A failed list only makes
// the tracker blind (nothing is written, so nothing is deleted).
import { conditionOf } from "../api/conditions.js";
import { CONDITION_NODE_REACHABLE, NODE_LEASE_NAMESPACE, NODE_LEASE_PREFIX } from "../api/well-known.js";
import { periodic, type Clock, type Periodic } from "../daemon/clock.js";
import { publishCondition } from "../daemon/publish-condition.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import { LeaseTracker, nodeLivenessActions, type NodeLivenessAction } from "./node-liveness.js";

export interface NodeMonitorOptions {
  store: Datastore;
  log: Logger;
  clock: Clock;
  now: () => number;
  nodeLostMs: number;
  /** How often leases are listed; default 1000 ms. */
  periodMs?: number;
}

const renewTimeOf = (spec: unknown): string | undefined => {
  const v =
    typeof spec === "object" && spec !== null ? (spec as Record<string, unknown>).renewTime : undefined;
  return typeof v === "string" && v !== "" ? v : undefined;
};

export class NodeMonitor {
  private readonly tracker = new LeaseTracker();
  private timer: Periodic | undefined;
  private inFlight: Promise<unknown> | undefined;
  private lastError: string | undefined;
  private stopped = false;

  constructor(private readonly o: NodeMonitorOptions) {}

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = periodic(this.o.clock, this.o.periodMs ?? 1000, () => {
      if (this.inFlight !== undefined) return;
      this.inFlight = this.pass().finally(() => {
        this.inFlight = undefined;
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.stop();
    await this.inFlight;
  }

  /** One observation and the condition writes it calls for; the actions taken are returned. */
  async pass(): Promise<Result<NodeLivenessAction[], string>> {
    const observed = await this.observe();
    if (!observed.ok) {
      this.tracker.blind();
      if (observed.error !== this.lastError)
        this.o.log.warn("cannot read node leases; no node is judged until they can be read", {
          error: observed.error,
        });
      this.lastError = observed.error;
      return observed;
    }
    this.lastError = undefined;
    const actions = nodeLivenessActions({
      nowMs: this.o.now(),
      nodeLostMs: this.o.nodeLostMs,
      leases: this.tracker.leases(),
      nodes: observed.value,
    });
    for (const a of actions) {
      if (this.stopped) break;
      const written = await publishCondition(
        this.o.store,
        { kind: "Node", name: a.node },
        {
          type: CONDITION_NODE_REACHABLE,
          status: a.reachable ? "True" : "False",
          reason: a.reason,
          message: a.message,
        },
        () => new Date(this.o.now()),
      );
      if (!written.ok)
        this.o.log.warn("cannot write the node's reachability", { node: a.node, error: written.error });
      else if (a.reachable) this.o.log.info("node reachable again", { node: a.node, message: a.message });
      else this.o.log.warn("node lost", { node: a.node, message: a.message });
    }
    return ok(actions);
  }

  private async observe(): Promise<Result<Map<string, { reachable: boolean | undefined }>, string>> {
    const leases = await this.o.store.list("Lease", { namespace: NODE_LEASE_NAMESPACE });
    if (!leases.ok) return err(`listing leases in ${NODE_LEASE_NAMESPACE}: ${leases.error.message}`);
    const nodes = await this.o.store.list("Node");
    if (!nodes.ok) return err(`listing nodes: ${nodes.error.message}`);
    const observation = new Map<string, string | undefined>();
    for (const l of leases.value.items)
      if (l.metadata.name.startsWith(NODE_LEASE_PREFIX))
        observation.set(l.metadata.name.slice(NODE_LEASE_PREFIX.length), renewTimeOf(l.spec));
    this.tracker.observe(observation, this.o.now());
    const view = new Map<string, { reachable: boolean | undefined }>();
    for (const n of nodes.value.items) {
      const c = conditionOf(n, CONDITION_NODE_REACHABLE);
      view.set(n.metadata.name, {
        reachable: c?.status === "True" ? true : c?.status === "False" ? false : undefined,
      });
    }
    return ok(view);
  }
}
