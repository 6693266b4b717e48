// Where replicas run (pure): the nodes matching the gateway's template.spec.nodeSelector, why a
// replica's node no longer fits, and which node a new replica takes (the least loaded; ties
// broken by a per-gateway hash, so single-replica gateways spread over the nodes).
import { createHash } from "node:crypto";
import type { EgressGateway } from "../api/schemas/egress.js";
import type { Problem } from "./actions.js";
import type { NodeView, ReplicaView } from "./views.js";

export interface Placement {
  /** Nodes a replica may run on. */
  eligible: NodeView[];
  eligibleNames: ReadonlySet<string>;
  /** Every known node. */
  nodeNames: ReadonlySet<string>;
  /** Why no replica can be placed, when that is so and replicas are wanted. */
  problem?: Problem;
}

const matchesSelector = (labels: Record<string, string>, selector: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

export const placement = (gw: EgressGateway, nodes: readonly NodeView[], desired: number): Placement => {
  const nodeSelector = gw.spec.template?.spec?.nodeSelector ?? {};
  // A cordoned node takes no new replica (its own are replaced through the rolling update).
  const eligible = nodes.filter((n) => !n.unschedulable && matchesSelector(n.labels, nodeSelector));
  const p: Placement = {
    eligible,
    eligibleNames: new Set(eligible.map((n) => n.name)),
    nodeNames: new Set(nodes.map((n) => n.name)),
  };
  if (eligible.length === 0 && desired > 0) {
    p.problem = {
      reason: "NoMatchingNode",
      message:
        nodes.length === 0
          ? "no nodes are known, so no replica can be placed"
          : `no node matches spec.template.spec.nodeSelector ${JSON.stringify(nodeSelector)} (${nodes.length} nodes known)`,
    };
  }
  return p;
};

/**
 * Why `r` must move to another node, or undefined when it may stay. With no eligible node at all
 * replicas stay where they are (moving them would only take capacity away).
 */
export const misplaced = (r: ReplicaView, p: Placement): string | undefined => {
  if (p.eligible.length === 0 || (r.node !== undefined && p.eligibleNames.has(r.node))) return undefined;
  if (r.node === undefined) return "has no node";
  return p.nodeNames.has(r.node)
    ? `node ${r.node} no longer matches spec.template.spec.nodeSelector`
    : `node ${r.node} does not exist`;
};

/** Replicas per eligible node, counting `serving`. */
export const nodeLoad = (p: Placement, serving: readonly ReplicaView[]): Map<string, number> => {
  const load = new Map(p.eligible.map((n) => [n.name, 0]));
  for (const r of serving)
    if (r.node !== undefined && load.has(r.node)) load.set(r.node, (load.get(r.node) ?? 0) + 1);
  return load;
};

/** Deterministic per-gateway node order for ties. */
const tieBreak = (gw: string, node: string): string =>
  createHash("sha256").update(`${gw}\u0000${node}`).digest("hex").slice(0, 16);

/** The node with the fewest replicas of gateway `gw` (its key), ties by hash then name. */
export const leastLoaded = (gw: string, load: ReadonlyMap<string, number>): string => {
  let best: { node: string; load: number; tie: string } | undefined;
  for (const [node, n] of load) {
    const tie = tieBreak(gw, node);
    if (
      !best ||
      n < best.load ||
      (n === best.load && (tie < best.tie || (tie === best.tie && node < best.node)))
    )
      best = { node, load: n, tie };
  }
  return best?.node ?? "";
};
