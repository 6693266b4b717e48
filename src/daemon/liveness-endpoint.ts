// The data-path liveness endpoint as the agent and the gateway use it: a port over the BFD
// endpoint (daemon/bfd), so their decisions (which sessions, what a state means, readiness on the
// wire) can be unit-tested with a fake (testing/fake-liveness.ts). It only names the surface;
// the protocol, its timers and the socket are the BFD library's.
import type { Result } from "../util/result.js";

/** BFD session states (RFC 5880 §4.1). */
export type LivenessSessionState = "AdminDown" | "Down" | "Init" | "Up";

/** The diagnostic codes egw sends and reads (RFC 5880 §4.1). */
export const LIVENESS_DIAG = {
  None: 0,
  /** The local detection time expired: no packet from the peer. */
  TimeExpired: 1,
  /** The peer said its session went down. */
  NeighborDown: 3,
  /** A gateway whose upstream probes fail or whose dataplane is not applied. */
  ConcatenatedPathDown: 6,
  /** A gateway that drains: no new connections, established ones continue. */
  AdminDown: 7,
} as const;

/** Desired min tx = required min rx = intervalMs; detection time = intervalMs × multiplier. */
export interface LivenessTimers {
  intervalMs: number;
  multiplier: number;
}

export interface LivenessPeerState {
  state: LivenessSessionState;
  remoteState: LivenessSessionState | undefined;
  localDiag: number;
  remoteDiag: number;
  /** Clock ms of the last state change. */
  since: number;
  /** Clock ms of the last valid packet from the peer. */
  lastRxAt?: number;
}

export interface LivenessEndpoint {
  /** Starts an active session with `peer` (an IP), or retimes it. */
  ensure(peer: string, timers: LivenessTimers): void;
  remove(peer: string): void;
  /** Every session AdminDown with this diagnostic, or (undefined) back to normal. */
  setAdminDown(diag: number | undefined): void;
  peers(): ReadonlyMap<string, LivenessPeerState>;
  close(): Promise<void>;
}

export interface LivenessEndpointOptions {
  /** The local address to bind (the node IP on a client node, the pod IP on a gateway). */
  address: string;
  /** Passive side: a packet from an unknown peer starts a session when this returns timers. */
  acceptPeer?(ip: string): LivenessTimers | undefined;
  onChange(peer: string, state: LivenessPeerState): void;
}

/** Opens an endpoint (binds its socket); an error names the address and why. */
export type OpenLivenessEndpoint = (o: LivenessEndpointOptions) => Promise<Result<LivenessEndpoint, string>>;
