// A liveness endpoint for unit tests: records what the agent or gateway asked of it and lets the
// test play the peers (their session states), calling onChange as the real endpoint would.
import { ok, err } from "../../util/result.js";
import type {
  LivenessEndpoint,
  LivenessEndpointOptions,
  LivenessPeerState,
  LivenessTimers,
  OpenLivenessEndpoint,
} from "../liveness-endpoint.js";

export class FakeLivenessEndpoint implements LivenessEndpoint {
  readonly timers = new Map<string, LivenessTimers>();
  private readonly states = new Map<string, LivenessPeerState>();
  adminDown: number | undefined;
  closed = false;

  constructor(readonly options: LivenessEndpointOptions) {}

  ensure(peer: string, timers: LivenessTimers): void {
    this.timers.set(peer, timers);
    if (!this.states.has(peer))
      this.states.set(peer, { state: "Down", remoteState: undefined, localDiag: 0, remoteDiag: 0, since: 0 });
  }

  remove(peer: string): void {
    this.timers.delete(peer);
    this.states.delete(peer);
  }

  setAdminDown(diag: number | undefined): void {
    this.adminDown = diag;
  }

  peers(): ReadonlyMap<string, LivenessPeerState> {
    return this.states;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The session with `peer` changed (as the protocol would report it). */
  set(peer: string, state: Partial<LivenessPeerState> & { since: number }): void {
    const before = this.states.get(peer) ?? {
      state: "Down",
      remoteState: undefined,
      localDiag: 0,
      remoteDiag: 0,
      since: state.since,
    };
    const next = { ...before, ...state };
    this.states.set(peer, next);
    this.options.onChange(peer, next);
  }

  /** A session that came up at `at` (last packet at `at`). */
  up(peer: string, at: number): void {
    this.set(peer, { state: "Up", remoteState: "Up", localDiag: 0, remoteDiag: 0, since: at, lastRxAt: at });
  }
}

/** An opener that hands out fake endpoints (the last one in `opened`), or fails with `failWith`. */
export function fakeLivenessOpener(failWith?: string): OpenLivenessEndpoint & {
  opened: FakeLivenessEndpoint[];
} {
  const opened: FakeLivenessEndpoint[] = [];
  const open = async (o: LivenessEndpointOptions) => {
    if (failWith !== undefined) return err(failWith);
    const e = new FakeLivenessEndpoint(o);
    opened.push(e);
    return ok<LivenessEndpoint>(e);
  };
  return Object.assign(open, { opened });
}
