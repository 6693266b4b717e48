// Where replicas run (pure): the nodes matching the gateway's template.spec.nodeSelector, why a
// replica's node no longer fits, and which node a new replica takes: the least loaded zone
// (topology.kubernetes.io/zone; unlabelled nodes form one zone of their own), then the least
// loaded node in it; ties broken by a per-gateway hash, so single-replica gateways spread over
// zones and nodes. It does not move running replicas to even out zones.
import { createHash } from "node:crypto";
import type { EgressGateway } from "../api/schemas/egress.js";
import { LABEL_TOPOLOGY_ZONE } from "../api/well-known.js";
import type { Problem } from "./actions.js";
import type { NodeView, ReplicaView } from "./views.js";

export interface Placement {
  /** Nodes a replica may run on. */
  eligible: NodeView[];
  eligibleNames: ReadonlySet<string>;
  /** Every known node. */
  nodeNames: ReadonlySet<string>;
  /** The zone of each eligible node ("" when it has no zone label). */
  zoneOf: ReadonlyMap<string, string>;
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
    zoneOf: new Map(eligible.map((n) => [n.name, n.labels[LABEL_TOPOLOGY_ZONE] ?? ""])),
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

/** Deterministic per-gateway order for ties (of nodes, or of zones with a distinct prefix). */
const tieBreak = (gw: string, what: string): string =>
  createHash("sha256").update(`${gw}\u0000${what}`).digest("hex").slice(0, 16);

/** The key with the least load, ties by hash then name. */
const leastOf = (gw: string, load: ReadonlyMap<string, number>, tiePrefix: string): string | undefined => {
  let best: { key: string; load: number; tie: string } | undefined;
  for (const [key, n] of load) {
    const tie = tieBreak(gw, tiePrefix + key);
    if (
      !best ||
      n < best.load ||
      (n === best.load && (tie < best.tie || (tie === best.tie && key < best.key)))
    )
      best = { key, load: n, tie };
  }
  return best?.key;
};

/**
 * The node for a new replica of gateway `gw` (its key): in the zone with the fewest of its
 * replicas, the node with the fewest; ties by hash then name. Without `zoneOf` (or without zone
 * labels) every node is in one zone, which is plain least-loaded placement.
 */
export const leastLoaded = (
  gw: string,
  load: ReadonlyMap<string, number>,
  zoneOf?: ReadonlyMap<string, string>,
): string => {
  const zoneLoad = new Map<string, number>();
  for (const [node, n] of load) {
    const zone = zoneOf?.get(node) ?? "";
    zoneLoad.set(zone, (zoneLoad.get(zone) ?? 0) + n);
  }
  const zone = leastOf(gw, zoneLoad, "zone\u0000");
  const inZone = new Map([...load].filter(([node]) => (zoneOf?.get(node) ?? "") === zone));
  return leastOf(gw, inZone, "") ?? "";
};
