// Node liveness from the agents' leases (pure): when the controller last saw each node's lease
// change, and which Nodes' EgwNodeReachable condition must change. Time is the controller's own
// clock (ms), measured from the moment it saw a renewTime change, never from the renewTime
// itself, so clock skew between nodes and the controller does not matter.
//
// Not lost on a guess: a node without a lease is not judged (no agent renews it yet); after any
// failed observation (list error) every lease gets its full grace again from the next successful
// one, so a datastore or controller outage never makes nodes lost; and when no node at all has a
// fresh lease, no node is declared lost (the fault is then far more likely on this side, and
// there is nowhere to move replicas to). A lost node is healthy again only when its lease is seen
// to change, so a controller restart does not forgive it. The node-monitor.ts loop does the I/O.
import { REASON_LEASE_EXPIRED, REASON_LEASE_RENEWED } from "../api/well-known.js";

/** What the controller knows about one node's lease. */
interface LeaseSeen {
  renewTime: string;
  /** Controller clock when renewTime was last seen to change (or first seen, or re-based). */
  changedAtMs: number;
  /** renewTime changed at least once while this controller watched. */
  renewed: boolean;
}

/** The lease observations of one successful list: node → renewTime (undefined: none yet). */
export type LeaseObservation = ReadonlyMap<string, string | undefined>;

export class LeaseTracker {
  private readonly seen = new Map<string, LeaseSeen>();
  private rebase = false;

  /** A list failed: nothing is known about the meantime, so every grace restarts at the next observation. */
  blind(): void {
    this.rebase = true;
  }

  /** Records a successful list of the leases at `nowMs`. */
  observe(leases: LeaseObservation, nowMs: number): void {
    for (const node of [...this.seen.keys()]) if (!leases.has(node)) this.seen.delete(node);
    for (const [node, renewTime] of leases) {
      if (renewTime === undefined) {
        this.seen.delete(node);
        continue;
      }
      const before = this.seen.get(node);
      if (before === undefined) this.seen.set(node, { renewTime, changedAtMs: nowMs, renewed: false });
      else if (before.renewTime !== renewTime)
        this.seen.set(node, { renewTime, changedAtMs: nowMs, renewed: true });
      else if (this.rebase) before.changedAtMs = nowMs;
    }
    this.rebase = false;
  }

  /** The leases as last observed (a copy). */
  leases(): Map<string, Readonly<LeaseSeen>> {
    return new Map([...this.seen].map(([k, v]) => [k, { ...v }]));
  }
}

export interface NodeLivenessInput {
  nowMs: number;
  nodeLostMs: number;
  leases: ReadonlyMap<string, Readonly<LeaseSeen>>;
  /** Every Node: what its EgwNodeReachable condition says (undefined: not written yet). */
  nodes: ReadonlyMap<string, { reachable: boolean | undefined }>;
}

/** A change of one Node's EgwNodeReachable condition. */
export interface NodeLivenessAction {
  node: string;
  reachable: boolean;
  reason: typeof REASON_LEASE_EXPIRED | typeof REASON_LEASE_RENEWED;
  message: string;
}

export const nodeLivenessActions = (i: NodeLivenessInput): NodeLivenessAction[] => {
  const expired = (l: LeaseSeen): boolean => i.nowMs - l.changedAtMs > i.nodeLostMs;
  const judged = [...i.nodes.keys()].filter((n) => i.leases.has(n)).sort();
  const anyFresh = judged.some((n) => !expired(i.leases.get(n) as LeaseSeen));
  const out: NodeLivenessAction[] = [];
  for (const node of judged) {
    const lease = i.leases.get(node) as LeaseSeen;
    const reachable = i.nodes.get(node)?.reachable;
    if (expired(lease)) {
      if (reachable !== false && anyFresh)
        out.push({
          node,
          reachable: false,
          reason: REASON_LEASE_EXPIRED,
          message:
            `the agent's lease was not renewed for ${Math.round((i.nowMs - lease.changedAtMs) / 1000)} s ` +
            `(node-lost time ${i.nodeLostMs / 1000} s; last renewTime ${lease.renewTime}); its gateway replicas are replaced`,
        });
    } else if (lease.renewed && reachable !== true) {
      out.push({
        node,
        reachable: true,
        reason: REASON_LEASE_RENEWED,
        message: `the agent renews its lease (last renewTime ${lease.renewTime})`,
      });
    }
  }
  return out;
};
