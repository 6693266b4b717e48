// One BFD session's state machine in asynchronous mode (RFC 5880 §6.8): the three-way handshake
// Down → Init → Up, detection of a silent peer (remote Detect Mult × the agreed interval), AdminDown
// in both directions, the Poll/Final sequence for timer changes, jittered periodic transmission
// (slow, 1 s, while not Up), and the discriminators. Driven by a Clock and by the packets it is
// handed; it sends through a callback, so it has no socket and unit tests run it on a FakeClock.
// It does not demultiplex packets (endpoint.ts finds the session) and it does not check packets
// on their own (packet.ts did). Not implemented: Demand mode (a remote D bit is ignored, we keep
// sending periodically, which RFC 5880 §6.6 allows a system that does not support it), Echo
// (we advertise Required Min Echo RX 0) and authentication.
import type { Clock, TimerHandle } from "../clock.js";
import { BfdDiag, type BfdControl, type BfdState } from "./packet.js";
import {
  advertisedIntervals,
  detectionTimeMs,
  finalReceived,
  jitteredTxMs,
  negotiate,
  timersProblem,
  txIntervalMs,
  type BfdTimers,
  type Intervals,
  type Negotiation,
} from "./timers.js";

export type { BfdTimers } from "./timers.js";
// Kept here too: callers that reason about the slow rate import it with the session.
export { SLOW_TX_US } from "./timers.js";

/** What a session looks like from outside, reported on every change of state or diagnostic. */
export interface BfdPeerState {
  state: BfdState;
  /** The peer's state in its last valid packet; undefined before one or after a detection timeout. */
  remoteState: BfdState | undefined;
  localDiag: number;
  remoteDiag: number;
  /** Clock ms of the last change of `state`. */
  since: number;
  /** Clock ms of the last valid packet. */
  lastRxAt?: number;
  localDiscriminator?: number;
  /** 0 while the peer's is not known. */
  remoteDiscriminator?: number;
  /** How long the peer may stay silent before we declare it down (ms); undefined until it spoke. */
  detectionTimeMs?: number;
}

export type BfdRole = "active" | "passive";

export interface BfdSessionOptions {
  localDiscriminator: number;
  timers: BfdTimers;
  /** Passive sessions stay silent until the peer has spoken (RFC 5880 §6.1). */
  role: BfdRole;
  /** Start administratively down with this diagnostic. */
  adminDown?: number;
  clock: Clock;
  random: () => number;
  send(p: BfdControl): void;
  onChange(s: BfdPeerState): void;
}

export class BfdSession {
  readonly localDiscriminator: number;
  private role: BfdRole;
  private state: BfdState;
  private localDiag: number;
  private since: number;
  private detectMult: number;
  private configuredUs: number;

  private remoteDiscr = 0;
  private remoteState: BfdState | undefined;
  private remoteDiag = 0;
  /** RFC 5880 §6.8.1: 1 µs until the peer says otherwise. */
  private remoteMinRxUs = 1;
  private remoteDesiredMinTxUs: number | undefined;
  private remoteDetectMult: number | undefined;
  private lastRxAt: number | undefined;

  /** Intervals in force (tx for our transmissions, rx for detecting the peer) and the Poll in flight. */
  private negotiation: Negotiation;

  private txTimer: TimerHandle | undefined;
  private nextTxAt: number | undefined;
  private detectTimer: TimerHandle | undefined;
  private stopped = false;
  private reported = "";

  constructor(private readonly o: BfdSessionOptions) {
    const problem = timersProblem(o.timers);
    if (problem !== undefined) throw new RangeError(`BFD session timers: ${problem}`);
    this.localDiscriminator = o.localDiscriminator;
    this.role = o.role;
    this.state = o.adminDown === undefined ? "Down" : "AdminDown";
    this.localDiag = o.adminDown ?? BfdDiag.None;
    this.since = o.clock.now();
    this.detectMult = o.timers.multiplier;
    this.configuredUs = o.timers.intervalMs * 1000;
    this.negotiation = { effective: this.advertised(), polling: undefined };
    // The first state is the caller's to announce (it knows the session exists); changes are ours.
    this.reported = this.reportKey();
    this.scheduleTx(0);
  }

  /** The session as seen from outside. */
  snapshot(): BfdPeerState {
    const detection = this.detectionTimeMs();
    return {
      state: this.state,
      remoteState: this.remoteState,
      localDiag: this.localDiag,
      remoteDiag: this.remoteDiag,
      since: this.since,
      ...(this.lastRxAt === undefined ? {} : { lastRxAt: this.lastRxAt }),
      localDiscriminator: this.localDiscriminator,
      remoteDiscriminator: this.remoteDiscr,
      ...(detection === undefined ? {} : { detectionTimeMs: detection }),
    };
  }

  /** A passive session that is now wanted by this side too starts sending on its own. */
  makeActive(): void {
    if (this.role === "active") return;
    this.role = "active";
    this.scheduleTx(0);
  }

  /** New timers; while Up, a Poll Sequence carries them to the peer (RFC 5880 §6.8.3). */
  setTimers(t: BfdTimers): void {
    const problem = timersProblem(t);
    if (problem !== undefined) throw new RangeError(`BFD session timers: ${problem}`);
    const intervalChanged = t.intervalMs * 1000 !== this.configuredUs;
    this.detectMult = t.multiplier;
    this.configuredUs = t.intervalMs * 1000;
    if (intervalChanged && this.renegotiate()) this.sendNow();
    else this.retime();
  }

  /** AdminDown with `diag` (RFC 5880 §6.8.16), or back to Down (and so a new handshake). */
  setAdminDown(diag: number | undefined): void {
    if (diag !== undefined) {
      if (this.state === "AdminDown" && this.localDiag === diag) return;
      if (this.state !== "AdminDown") this.since = this.o.clock.now();
      this.state = "AdminDown";
      this.localDiag = diag;
      this.renegotiate();
      this.report();
      this.sendNow();
    } else if (this.state === "AdminDown") {
      this.changeState("Down", BfdDiag.None);
    }
  }

  /** Handles a packet that passed decodeControl and belongs to this session (RFC 5880 §6.8.6). */
  receive(p: BfdControl): void {
    if (this.stopped) return;
    this.lastRxAt = this.o.clock.now();
    this.remoteDiscr = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteDiag = p.diag;
    this.remoteMinRxUs = p.requiredMinRxUs;
    this.remoteDesiredMinTxUs = p.desiredMinTxUs;
    this.remoteDetectMult = p.detectMult;
    if (p.final && this.negotiation.polling !== undefined) this.finishPoll();
    this.armDetection();
    if (this.state !== "AdminDown") {
      if (p.state === "AdminDown") {
        if (this.state !== "Down") this.changeState("Down", BfdDiag.NeighborDown);
      } else if (this.state === "Down") {
        if (p.state === "Down") this.changeState("Init", BfdDiag.None);
        else if (p.state === "Init") this.changeState("Up", BfdDiag.None);
      } else if (this.state === "Init") {
        if (p.state === "Init" || p.state === "Up") this.changeState("Up", BfdDiag.None);
      } else if (p.state === "Down") {
        this.changeState("Down", BfdDiag.NeighborDown);
      }
      // §6.8.6: answer a Poll at once, whatever the transmission timer says.
      if (p.poll) this.transmit(true);
    }
    this.report();
    this.retime();
  }

  /** One last AdminDown packet before the session goes away, so the peer sees why. */
  farewell(diag: number): void {
    if (this.stopped || this.remoteDiscr === 0) return;
    this.state = "AdminDown";
    this.localDiag = diag;
    this.transmit(false);
  }

  /** Stops its timers; it sends and reports nothing more. */
  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.txTimer);
    this.o.clock.clearTimeout(this.detectTimer);
    this.txTimer = this.detectTimer = undefined;
  }

  // --- state ---

  private changeState(to: BfdState, diag: number): void {
    this.state = to;
    this.localDiag = diag;
    this.since = this.o.clock.now();
    this.renegotiate();
    this.report();
    // Tell the peer at once rather than at the next (possibly slow) tick: the handshake and the
    // peer's reaction to our going down should not wait for a second.
    this.sendNow();
  }

  private reportKey(): string {
    return `${this.state}/${this.remoteState}/${this.localDiag}/${this.remoteDiag}`;
  }

  private report(): void {
    const key = this.reportKey();
    if (key === this.reported || this.stopped) return;
    this.reported = key;
    this.o.onChange(this.snapshot());
  }

  // --- timer negotiation ---

  private advertised(): Intervals {
    return advertisedIntervals(this.configuredUs, this.state === "Up");
  }

  /** After the advertised intervals may have changed; true when a Poll Sequence started. */
  private renegotiate(): boolean {
    const { next, startPoll } = negotiate(this.negotiation, this.advertised(), this.state === "Up");
    this.negotiation = next;
    this.armDetectionFromLastRx();
    return startPoll;
  }

  /** A Final answered our Poll (§6.5). */
  private finishPoll(): void {
    const { next, pollAgain } = finalReceived(this.negotiation, this.advertised());
    this.negotiation = next;
    this.armDetectionFromLastRx();
    if (pollAgain) this.sendNow();
  }

  // --- transmission ---

  private txIntervalMs(): number | undefined {
    return txIntervalMs(this.negotiation.effective.txUs, this.remoteMinRxUs);
  }

  private mayTransmit(): boolean {
    // §6.8.7: a passive system stays silent until it knows the peer's discriminator.
    return !this.stopped && !(this.role === "passive" && this.remoteDiscr === 0);
  }

  private transmit(final: boolean): void {
    if (!this.mayTransmit()) return;
    const adv = this.advertised();
    this.o.send({
      diag: this.localDiag,
      state: this.state,
      poll: this.negotiation.polling !== undefined && !final,
      final,
      cpi: false,
      auth: false,
      demand: false,
      multipoint: false,
      detectMult: this.detectMult,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscr,
      desiredMinTxUs: adv.txUs,
      requiredMinRxUs: adv.rxUs,
      requiredMinEchoRxUs: 0,
    });
  }

  /** Sends now and restarts the periodic timer from here. */
  private sendNow(): void {
    if (this.stopped) return;
    this.transmit(false);
    this.scheduleTx(undefined);
  }

  /** Arms the periodic timer `delayMs` from now (a jittered interval when undefined). */
  private scheduleTx(delayMs: number | undefined): void {
    if (this.stopped) return;
    this.o.clock.clearTimeout(this.txTimer);
    this.txTimer = this.nextTxAt = undefined;
    const interval = this.txIntervalMs();
    if (interval === undefined) return;
    const delay = delayMs ?? jitteredTxMs(interval, this.detectMult, this.o.random);
    this.nextTxAt = this.o.clock.now() + delay;
    this.txTimer = this.o.clock.setTimeout(() => {
      this.txTimer = undefined;
      this.transmit(false);
      this.scheduleTx(undefined);
    }, delay);
  }

  /** After the interval may have shrunk (or periodic sending was off): do not wait for an old, long timer. */
  private retime(): void {
    const interval = this.txIntervalMs();
    if (interval === undefined) {
      this.scheduleTx(undefined);
      return;
    }
    const now = this.o.clock.now();
    if (this.nextTxAt === undefined || this.nextTxAt - now > interval) this.scheduleTx(undefined);
  }

  // --- detection ---

  private detectionTimeMs(): number | undefined {
    if (this.remoteDetectMult === undefined || this.remoteDesiredMinTxUs === undefined) return undefined;
    return detectionTimeMs(this.remoteDetectMult, this.negotiation.effective.rxUs, this.remoteDesiredMinTxUs);
  }

  private armDetection(): void {
    this.o.clock.clearTimeout(this.detectTimer);
    this.detectTimer = undefined;
    const ms = this.detectionTimeMs();
    if (ms === undefined || this.lastRxAt === undefined || this.stopped) return;
    const remaining = Math.max(0, this.lastRxAt + ms - this.o.clock.now());
    this.detectTimer = this.o.clock.setTimeout(() => this.detectionExpired(), remaining);
  }

  private armDetectionFromLastRx(): void {
    if (this.detectTimer !== undefined) this.armDetection();
  }

  /** The peer was silent for the detection time (§6.8.4): down, and forget what it told us. */
  private detectionExpired(): void {
    this.detectTimer = undefined;
    this.remoteDiscr = 0;
    this.remoteState = undefined;
    this.remoteDiag = 0;
    this.remoteMinRxUs = 1;
    this.remoteDesiredMinTxUs = undefined;
    this.remoteDetectMult = undefined;
    if (this.state === "Init" || this.state === "Up") this.changeState("Down", BfdDiag.TimeExpired);
    else this.report();
    this.retime();
  }
}
