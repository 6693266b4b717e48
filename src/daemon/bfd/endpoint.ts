// BFD over UDP for single-hop sessions (RFC 5881): one socket receiving Control packets on
// <address>:3784, one sending them from a source port in 49152–65535 with TTL 255, and the
// sessions (session.ts) keyed by peer IP. A received packet goes to the session its Your
// Discriminator names, or, while that is 0, to the session of its source address; a packet from
// an unknown peer starts a passive session when `acceptPeer` accepts it. Passive sessions that
// hear nothing for `idleRemoveMs` are dropped again. Not done here: the received TTL is not
// checked against 255 (Node's dgram does not expose it; RFC 5881 §5 asks for the check when no
// authentication is used), and there is no multi-hop (port 4784) or echo (3785) socket.
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { periodic, type Clock, type Periodic } from "../clock.js";
import type { Logger } from "../../util/log.js";
import { formatIp, parseIp } from "../../util/ip.js";
import { err, ok, type Result } from "../../util/result.js";
import { BFD_CONTROL_PORT, BfdDiag, decodeControl, encodeControl, type BfdControl } from "./packet.js";
import { BfdSession, type BfdPeerState } from "./session.js";
import { timersProblem, type BfdTimers } from "./timers.js";

export type { BfdPeerState } from "./session.js";
export type { BfdTimers } from "./timers.js";

export interface BfdEndpointOptions {
  /** Local IP both sockets bind; packets to peers leave from it. */
  address: string;
  /** Receive port, also the port packets are sent to on peers (default 3784; 0 = any free, for tests). */
  port?: number;
  clock: Clock;
  log: Logger;
  /** [0, 1): jitter, discriminators, the source port. */
  random?: () => number;
  /** Passive side (gateways): a packet from an unknown peer starts a session when this returns timers. */
  acceptPeer?(ip: string): BfdTimers | undefined;
  onChange(peer: string, state: BfdPeerState): void;
  /** Called when a passive session is dropped after `idleRemoveMs` without a valid packet. */
  onRemoved?(peer: string): void;
  /** Default 60 s. */
  idleRemoveMs?: number;
}

export interface BfdEndpointStats {
  received: number;
  sent: number;
  /** Packets dropped by the reception checks or the demultiplexing. */
  discarded: number;
  /** Why the last one was dropped. */
  lastDiscard?: string;
}

/** RFC 5881 §4: the source port range of single-hop Control packets. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
const SOURCE_PORT_ATTEMPTS = 64;
const DEFAULT_IDLE_REMOVE_MS = 60_000;
/** A freed discriminator is not handed out again for this long, so late packets to it stay unmatched. */
export const DISCRIMINATOR_HOLD_MS = 60_000;

interface Entry {
  session: BfdSession;
  /** Created by acceptPeer and not (yet) wanted by ensure(): dropped when idle. */
  passive: boolean;
  createdAt: number;
}

const bind = (s: Socket, port: number, address: string): Promise<Result<void, string>> =>
  new Promise((resolve) => {
    const onError = (e: Error): void => resolve(err(e.message));
    s.once("error", onError);
    s.bind({ port, address, exclusive: true }, () => {
      s.off("error", onError);
      resolve(ok(undefined));
    });
  });

const closeSocket = (s: Socket): Promise<void> =>
  new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });

/** The canonical text of an IP (so "::0:1" and "::1" are one peer), or undefined. */
const canonicalIp = (s: string): string | undefined => {
  const ip = parseIp(s);
  return ip === undefined ? undefined : formatIp(ip);
};

export class BfdEndpoint {
  private readonly sessions = new Map<string, Entry>();
  private readonly byDiscriminator = new Map<number, string>();
  private readonly heldDiscriminators = new Map<number, number>();
  private readonly failingSends = new Set<string>();
  private readonly sweep: Periodic;
  private adminDiag: number | undefined;
  private closed = false;
  private readonly counters: BfdEndpointStats = { received: 0, sent: 0, discarded: 0 };

  private constructor(
    private readonly o: BfdEndpointOptions,
    private readonly rx: Socket,
    private readonly tx: Socket,
    private readonly peerPort: number,
    private readonly random: () => number,
  ) {
    rx.on("message", (msg, rinfo) => this.onPacket(msg, rinfo.address));
    rx.on("error", (e) => o.log.warn("bfd receive socket error", { address: o.address, error: e.message }));
    tx.on("error", (e) => o.log.warn("bfd send socket error", { address: o.address, error: e.message }));
    const idle = o.idleRemoveMs ?? DEFAULT_IDLE_REMOVE_MS;
    this.sweep = periodic(o.clock, Math.max(1, Math.min(idle / 2, 10_000)), () => this.removeIdle(idle));
  }

  /** Binds the receive and send sockets on `o.address`; the error names the address and port. */
  static async open(o: BfdEndpointOptions): Promise<Result<BfdEndpoint, string>> {
    const family = isIP(o.address);
    if (family === 0) return err(`bfd address ${JSON.stringify(o.address)}: not an IP address`);
    const type = family === 6 ? "udp6" : "udp4";
    const random = o.random ?? Math.random;
    const port = o.port ?? BFD_CONTROL_PORT;
    const rx = createSocket({ type });
    const bound = await bind(rx, port, o.address);
    if (!bound.ok) {
      await closeSocket(rx);
      return err(`bfd receive socket ${o.address}:${port}: ${bound.error}`);
    }
    // RFC 5881 §4: the source port is from 49152–65535 and the same for the session's life (one
    // socket for all sessions keeps it so); TTL 255 lets the peer check the packet was not routed.
    let lastError = "";
    for (let i = 0; i < SOURCE_PORT_ATTEMPTS; i++) {
      const tx = createSocket({ type });
      const sport = SOURCE_PORT_MIN + Math.floor(random() * (SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1));
      const r = await bind(tx, sport, o.address);
      if (r.ok) {
        tx.setTTL(255);
        return ok(new BfdEndpoint(o, rx, tx, rx.address().port, random));
      }
      lastError = r.error;
      await closeSocket(tx);
    }
    await closeSocket(rx);
    return err(
      `bfd send socket on ${o.address}: no free source port in ${SOURCE_PORT_MIN}-${SOURCE_PORT_MAX} after ${SOURCE_PORT_ATTEMPTS} tries (${lastError})`,
    );
  }

  /** The port packets are received on (and sent to on peers). */
  get port(): number {
    return this.peerPort;
  }

  /** The source port packets leave from. */
  get sourcePort(): number {
    return this.tx.address().port;
  }

  /** Starts an active session with `peer`, or gives an existing one new timers (a Poll Sequence when Up). */
  ensure(peer: string, timers: BfdTimers): void {
    if (this.closed) return;
    const ip = canonicalIp(peer);
    const problem =
      ip === undefined ? `peer ${JSON.stringify(peer)}: not an IP address` : timersProblem(timers);
    if (ip === undefined || problem !== undefined) {
      this.o.log.error("bfd session not started", { peer, problem });
      return;
    }
    const existing = this.sessions.get(ip);
    if (existing !== undefined) {
      existing.passive = false;
      existing.session.makeActive();
      existing.session.setTimers(timers);
      return;
    }
    this.create(ip, timers, "active");
  }

  /** Ends the session with `peer`, telling it with one AdminDown packet. */
  remove(peer: string): void {
    const ip = canonicalIp(peer);
    if (ip !== undefined) this.drop(ip, true);
  }

  /** All sessions: AdminDown with this diag (e.g. draining = 7, upstream lost = 6), or back to normal. */
  setAdminDown(diag: number | undefined): void {
    this.adminDiag = diag;
    for (const e of this.sessions.values()) e.session.setAdminDown(diag);
  }

  peers(): ReadonlyMap<string, BfdPeerState> {
    const out = new Map<string, BfdPeerState>();
    for (const [ip, e] of this.sessions) out.set(ip, e.session.snapshot());
    return out;
  }

  stats(): BfdEndpointStats {
    return { ...this.counters };
  }

  /** Stops every session (without telling the peers) and closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweep.stop();
    for (const e of this.sessions.values()) e.session.stop();
    this.sessions.clear();
    this.byDiscriminator.clear();
    await Promise.all([closeSocket(this.rx), closeSocket(this.tx)]);
  }

  // --- sessions ---

  private create(ip: string, timers: BfdTimers, role: "active" | "passive"): Entry {
    const entry: Entry = {
      session: new BfdSession({
        localDiscriminator: this.allocateDiscriminator(),
        timers,
        role,
        ...(this.adminDiag === undefined ? {} : { adminDown: this.adminDiag }),
        clock: this.o.clock,
        random: this.random,
        send: (p) => this.send(ip, p),
        onChange: (s) => {
          if (this.sessions.get(ip) === entry) this.o.onChange(ip, s);
        },
      }),
      passive: role === "passive",
      createdAt: this.o.clock.now(),
    };
    this.sessions.set(ip, entry);
    this.byDiscriminator.set(entry.session.localDiscriminator, ip);
    // The session reported its first state before it was in the map.
    this.o.onChange(ip, entry.session.snapshot());
    return entry;
  }

  private drop(ip: string, tellPeer: boolean): void {
    const e = this.sessions.get(ip);
    if (e === undefined) return;
    if (tellPeer) e.session.farewell(BfdDiag.AdminDown);
    e.session.stop();
    this.sessions.delete(ip);
    this.byDiscriminator.delete(e.session.localDiscriminator);
    this.heldDiscriminators.set(e.session.localDiscriminator, this.o.clock.now());
    this.failingSends.delete(ip);
  }

  private removeIdle(idleMs: number): void {
    const now = this.o.clock.now();
    for (const [ip, e] of [...this.sessions]) {
      if (!e.passive) continue;
      const heard = e.session.snapshot().lastRxAt ?? e.createdAt;
      if (now - heard < idleMs) continue;
      this.drop(ip, false);
      this.o.onRemoved?.(ip);
    }
  }

  /** A random non-zero discriminator not in use and not freed recently. */
  private allocateDiscriminator(): number {
    const now = this.o.clock.now();
    for (const [d, at] of this.heldDiscriminators)
      if (now - at >= DISCRIMINATOR_HOLD_MS) this.heldDiscriminators.delete(d);
    for (;;) {
      const d = 1 + Math.floor(this.random() * 0xffff_fffe);
      if (!this.byDiscriminator.has(d) && !this.heldDiscriminators.has(d)) return d;
    }
  }

  // --- packets ---

  private onPacket(msg: Buffer, from: string): void {
    if (this.closed) return;
    this.counters.received++;
    const decoded = decodeControl(msg);
    if (!decoded.ok) return this.discard(`from ${from}: ${decoded.error}`);
    const p = decoded.value;
    const ip = canonicalIp(from) ?? from;
    let entry: Entry | undefined;
    if (p.yourDiscriminator !== 0) {
      // §6.8.6: a non-zero Your Discriminator alone selects the session; we also insist on the
      // address, since a single-hop session has exactly one peer.
      const owner = this.byDiscriminator.get(p.yourDiscriminator);
      if (owner === undefined)
        return this.discard(`from ${from}: no session has discriminator ${p.yourDiscriminator}`);
      if (owner !== ip)
        return this.discard(`from ${from}: discriminator ${p.yourDiscriminator} belongs to ${owner}`);
      entry = this.sessions.get(owner);
    } else {
      entry = this.sessions.get(ip);
      if (entry === undefined) {
        const timers = this.o.acceptPeer?.(ip);
        if (timers === undefined) return this.discard(`from ${from}: no session with this peer`);
        const problem = timersProblem(timers);
        if (problem !== undefined) return this.discard(`from ${from}: accepted with bad timers: ${problem}`);
        entry = this.create(ip, timers, "passive");
      }
    }
    entry?.session.receive(p);
  }

  private discard(why: string): void {
    this.counters.discarded++;
    this.counters.lastDiscard = why;
  }

  private send(ip: string, p: BfdControl): void {
    if (this.closed) return;
    const b = encodeControl(p);
    this.tx.send(b, this.peerPort, ip, (e) => {
      if (this.closed) return;
      if (e) {
        // One line per peer until sends work again, not one per packet.
        if (!this.failingSends.has(ip)) this.o.log.warn("bfd send failed", { peer: ip, error: e.message });
        this.failingSends.add(ip);
      } else {
        this.counters.sent++;
        this.failingSends.delete(ip);
      }
    });
  }
}
