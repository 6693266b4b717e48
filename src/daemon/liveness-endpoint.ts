// The data-path liveness endpoint as the agent and the gateway use it: a port over the BFD
// endpoint (daemon/bfd), so their decisions (which sessions, what a state means, readiness on the
// wire) can be unit-tested with a fake (testing/fake-liveness.ts), and the opener of the real one.
// The protocol, its timers and the sockets are the BFD library's.
import { DEFAULTS } from "../api/defaults.js";
import type { Logger } from "../util/log.js";
import type { Result } from "../util/result.js";
import type { Clock } from "./clock.js";
import { BfdEndpoint, type BfdPeerState, type BfdTimers } from "./bfd/endpoint.js";
import { BfdDiag, type BfdState } from "./bfd/packet.js";

/** BFD session states (RFC 5880 §4.1). */
export type LivenessSessionState = BfdState;

/** The diagnostic codes egw sends and reads (RFC 5880 §4.1). */
export const LIVENESS_DIAG = {
  None: BfdDiag.None,
  /** The local detection time expired: no packet from the peer. */
  TimeExpired: BfdDiag.TimeExpired,
  /** The peer said its session went down. */
  NeighborDown: BfdDiag.NeighborDown,
  /** A gateway whose upstream probes fail or whose dataplane is not applied. */
  ConcatenatedPathDown: BfdDiag.ConcatenatedPathDown,
  /** A gateway that drains: no new connections, established ones continue. */
  AdminDown: BfdDiag.AdminDown,
} as const;

/** Desired min tx = required min rx = intervalMs; detection time = intervalMs × multiplier. */
export type LivenessTimers = BfdTimers;

export type LivenessPeerState = BfdPeerState;

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

/** Opens real BFD endpoints (UDP port 3784 on the given address) on `clock`. */
export const bfdOpener =
  (clock: Clock, log: Logger, port?: number): OpenLivenessEndpoint =>
  async (o) =>
    BfdEndpoint.open({
      address: o.address,
      clock,
      log,
      onChange: o.onChange,
      ...(port === undefined ? {} : { port }),
      ...(o.acceptPeer === undefined ? {} : { acceptPeer: o.acceptPeer }),
    });

/** A replica's liveness settings: its EgressGateway's spec.failureDetection.liveness with defaults. */
export interface LivenessSettings extends LivenessTimers {
  /** How long a recovered replica stays out of new connections (client side). */
  holdDownMs: number;
}

type Json = Record<string, unknown>;

/** The liveness settings of an EgressGateway's spec (defaults for what it leaves out). */
export function livenessSettingsOf(gateway: { spec?: unknown } | undefined): LivenessSettings {
  const d = DEFAULTS.egressGateway.liveness;
  const spec = gateway?.spec as Json | undefined;
  const fd = spec?.failureDetection as Json | undefined;
  const l = (fd?.liveness ?? {}) as Partial<Record<keyof LivenessSettings, unknown>>;
  const pick = (v: unknown, fallback: number, min: number): number =>
    typeof v === "number" && Number.isInteger(v) && v >= min ? v : fallback;
  return {
    intervalMs: pick(l.intervalMs, d.intervalMs, 50),
    multiplier: pick(l.multiplier, d.multiplier, 1),
    holdDownMs: pick(l.holdDownMs, d.holdDownMs, 0),
  };
}
