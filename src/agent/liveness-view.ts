// The client view of one gateway replica from its liveness session (pure; times are passed in):
//   up        the session is Up and any hold-down has passed: the replica takes new connections;
//   draining  the replica says AdminDown with diagnostic 7: established connections stay, no new ones;
//   down      judged unusable: its session went down (no packets, or it reported its upstream path
//             down, diagnostic 6), or it never came up within the slow-start detection time;
//   held      not proven yet: never Up since this agent started watching it (when there is a
//             reason to doubt it), or Up again but still in hold-down after a recovery;
//   pending   never judged and no reason to doubt it: the kernel was already routing through it
//             when this agent (re)started, so it keeps its connections until its session decides.
// Health for calc: up → true, pending → undefined (counts as usable), everything else → false.
// It does not run timers: the caller asks `nextDeadline()` and calls `tick(now)` then.
import { SLOW_TX_US } from "../daemon/bfd/session.js";
import { LIVENESS_DIAG, type LivenessPeerState, type LivenessSettings } from "../daemon/liveness-endpoint.js";

export type ClientView = "up" | "draining" | "down" | "held" | "pending";

export type ReplicaLivenessSettings = LivenessSettings;

/**
 * RFC 5880 §6.8.3: a session that is not Up sends at most one packet a second, so a new session
 * is given this long per missed packet before it is judged down.
 */
export const SLOW_TX_MS = SLOW_TX_US / 1000;

export interface ViewChange {
  from: ClientView;
  to: ClientView;
  reason: string;
  /** Clock ms of the last packet seen from the replica before the change (if any). */
  lastRxAt: number | undefined;
}

export class ReplicaLiveness {
  private view: ClientView;
  private reason: string;
  private since: number;
  private everUp = false;
  /** Lost after having been Up: the next Up is a recovery and waits the hold-down. */
  private recovering = false;
  private holdUntil: number | undefined;
  private session: LivenessPeerState | undefined;
  private startedAt: number;

  /**
   * `doubt`: why the replica must not take new connections before its session is Up (its pod says
   * not ready, the kernel's group left it out, it is new to this agent); undefined: pending.
   */
  constructor(
    private settings: ReplicaLivenessSettings,
    now: number,
    doubt: string | undefined,
  ) {
    this.view = doubt === undefined ? "pending" : "held";
    this.reason =
      doubt === undefined ? "in the kernel's nexthop group at agent start; waiting for its session" : doubt;
    this.since = now;
    this.startedAt = now;
  }

  get state(): { view: ClientView; reason: string; since: number } {
    return { view: this.view, reason: this.reason, since: this.since };
  }

  /** Undefined counts as usable (calc's unknown). */
  get health(): boolean | undefined {
    return this.view === "up" ? true : this.view === "pending" ? undefined : false;
  }

  get lastRxAt(): number | undefined {
    return this.session?.lastRxAt;
  }

  retime(settings: ReplicaLivenessSettings): void {
    this.settings = settings;
  }

  /**
   * A reason to doubt the replica appeared (its pod reported not ready): a replica never judged
   * is held until its session is Up. A judged one is left to its session.
   */
  doubt(reason: string, now: number): ViewChange | undefined {
    if (this.view !== "pending") return undefined;
    return this.move("held", reason, now);
  }

  /** The session reported a new state. */
  observe(s: LivenessPeerState, now: number): ViewChange | undefined {
    this.session = s;
    if (s.state === "Up") {
      if (this.view === "up") return undefined;
      if (this.view === "held" && this.holdUntil !== undefined) return undefined; // hold-down runs
      this.everUp = true;
      if (this.recovering && this.settings.holdDownMs > 0) {
        this.holdUntil = now + this.settings.holdDownMs;
        return this.move("held", `hold-down after recovery for ${this.settings.holdDownMs} ms`, now);
      }
      this.recovering = false;
      return this.move("up", "session up", now);
    }
    this.holdUntil = undefined;
    if (s.remoteState === "AdminDown") {
      const draining = s.remoteDiag === LIVENESS_DIAG.AdminDown;
      return this.lose(
        draining ? "draining" : "down",
        draining
          ? "the replica is draining (AdminDown, diagnostic 7)"
          : s.remoteDiag === LIVENESS_DIAG.ConcatenatedPathDown
            ? "the replica reports its upstream path down (AdminDown, diagnostic 6)"
            : `the replica's session is administratively down (diagnostic ${s.remoteDiag})`,
        now,
      );
    }
    if (!this.everUp) return undefined; // still coming up: tick() judges it at the deadline
    const why =
      s.localDiag === LIVENESS_DIAG.TimeExpired
        ? `no liveness packet for ${this.settings.intervalMs * this.settings.multiplier} ms (${this.settings.multiplier} × ${this.settings.intervalMs} ms)`
        : s.localDiag === LIVENESS_DIAG.NeighborDown
          ? "the replica reset the session (it signalled Down)"
          : `session ${s.state} (diagnostic ${s.localDiag})`;
    return this.lose("down", why, now);
  }

  /** When tick() has something to decide, if ever. */
  nextDeadline(): number | undefined {
    if (this.holdUntil !== undefined) return this.holdUntil;
    if (!this.everUp && (this.view === "pending" || this.view === "held")) return this.judgeAt();
    return undefined;
  }

  /** Time passed: a hold-down ends, or a session that never came up is judged down. */
  tick(now: number): ViewChange | undefined {
    if (this.holdUntil !== undefined) {
      if (now < this.holdUntil) return undefined;
      this.holdUntil = undefined;
      this.recovering = false;
      if (this.session?.state === "Up") return this.move("up", "hold-down passed; session up", now);
      return undefined;
    }
    if (this.everUp || (this.view !== "pending" && this.view !== "held") || now < this.judgeAt())
      return undefined;
    return this.lose(
      "down",
      `no liveness session within ${this.judgeAt() - this.startedAt} ms of watching it`,
      now,
    );
  }

  private judgeAt(): number {
    return this.startedAt + this.settings.multiplier * Math.max(this.settings.intervalMs, SLOW_TX_MS);
  }

  private lose(to: "down" | "draining", reason: string, now: number): ViewChange | undefined {
    if (this.everUp) this.recovering = true;
    if (this.view === to && this.reason === reason) return undefined;
    return this.move(to, reason, now);
  }

  private move(to: ClientView, reason: string, now: number): ViewChange {
    const change = { from: this.view, to, reason, lastRxAt: this.session?.lastRxAt };
    if (this.view !== to) this.since = now;
    this.view = to;
    this.reason = reason;
    return change;
  }
}
