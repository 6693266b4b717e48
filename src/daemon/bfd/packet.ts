// The BFD Control packet (RFC 5880 §4.1) as a typed value: encoding, decoding, and the checks a
// receiver makes on a packet before any session sees it (RFC 5880 §6.8.6, the ones that need no
// session state). Pure: no sockets, no clock. Which session a packet belongs to, and what it does to
// that session, is session.ts's and endpoint.ts's business. Authentication sections are not
// supported: a packet with the A bit set is rejected, since egw never configures authentication
// and RFC 5880 §6.8.6 says a packet with A set must be discarded when no authentication is in use.
import { err, ok, type Result } from "../../util/result.js";

export type BfdState = "AdminDown" | "Down" | "Init" | "Up";

/** Diagnostic codes (RFC 5880 §4.1): why the sender's session last changed state. */
export const BfdDiag = {
  None: 0,
  TimeExpired: 1,
  EchoFailed: 2,
  NeighborDown: 3,
  ForwardingReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdminDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

export interface BfdControl {
  /** 0..31 (BfdDiag). */
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** Control Plane Independent (C bit). */
  cpi: boolean;
  /** Authentication Present (A bit); never set by egw, rejected on reception. */
  auth: boolean;
  demand: boolean;
  multipoint: boolean;
  /** 1..255 on the wire (0 is rejected on reception). */
  detectMult: number;
  /** Non-zero, unique per session on the sender. */
  myDiscriminator: number;
  /** The receiver's discriminator, or 0 when the sender does not know it yet. */
  yourDiscriminator: number;
  /** Microseconds. */
  desiredMinTxUs: number;
  /** Microseconds; 0 means "send me no periodic packets". */
  requiredMinRxUs: number;
  /** Microseconds; 0 means the sender does not take Echo packets. */
  requiredMinEchoRxUs: number;
}

/** UDP destination port of single-hop BFD Control packets (RFC 5881 §4). */
export const BFD_CONTROL_PORT = 3784;
/** Length of a Control packet without an authentication section. */
export const BFD_CONTROL_LENGTH = 24;
const VERSION = 1;

const STATES: readonly BfdState[] = ["AdminDown", "Down", "Init", "Up"];

const stateCode = (s: BfdState): number => STATES.indexOf(s);

const isUint32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/** Why `p` cannot be encoded (a field out of range), or undefined when it can. */
export function controlProblem(p: BfdControl): string | undefined {
  if (!Number.isInteger(p.diag) || p.diag < 0 || p.diag > 31) return `diag ${p.diag}: must be 0..31`;
  if (!STATES.includes(p.state)) return `state ${String(p.state)}: must be one of ${STATES.join(", ")}`;
  if (!Number.isInteger(p.detectMult) || p.detectMult < 0 || p.detectMult > 255)
    return `detectMult ${p.detectMult}: must be 0..255`;
  for (const f of [
    "myDiscriminator",
    "yourDiscriminator",
    "desiredMinTxUs",
    "requiredMinRxUs",
    "requiredMinEchoRxUs",
  ] as const)
    if (!isUint32(p[f])) return `${f} ${p[f]}: must be an integer 0..4294967295`;
  return undefined;
}

/**
 * The 24-byte wire form of `p` (no authentication section; the A bit is written as given).
 * Throws on a field out of range: packets are built by egw's own session code, so a bad field is
 * a bug, not input.
 */
export function encodeControl(p: BfdControl): Buffer {
  const problem = controlProblem(p);
  if (problem !== undefined) throw new RangeError(`BFD control packet: ${problem}`);
  const b = Buffer.alloc(BFD_CONTROL_LENGTH);
  b[0] = (VERSION << 5) | p.diag;
  b[1] =
    (stateCode(p.state) << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.cpi ? 0x08 : 0) |
    (p.auth ? 0x04 : 0) |
    (p.demand ? 0x02 : 0) |
    (p.multipoint ? 0x01 : 0);
  b[2] = p.detectMult;
  b[3] = BFD_CONTROL_LENGTH;
  b.writeUInt32BE(p.myDiscriminator, 4);
  b.writeUInt32BE(p.yourDiscriminator, 8);
  b.writeUInt32BE(p.desiredMinTxUs, 12);
  b.writeUInt32BE(p.requiredMinRxUs, 16);
  b.writeUInt32BE(p.requiredMinEchoRxUs, 20);
  return b;
}

/**
 * Parses a received UDP payload and applies the reception checks of RFC 5880 §6.8.6 that need no
 * session: version 1, a Length field that fits the packet and the minimum (24, or 26 with A),
 * non-zero Detect Mult, M clear, non-zero My Discriminator, Your Discriminator zero only in Down
 * or AdminDown, no authentication (egw uses none), and not both P and F (§4.1 forbids it). The
 * error says which check failed.
 */
export function decodeControl(b: Buffer): Result<BfdControl, string> {
  if (b.length < BFD_CONTROL_LENGTH)
    return err(`packet of ${b.length} bytes: a BFD control packet has at least ${BFD_CONTROL_LENGTH}`);
  const b0 = b.readUInt8(0);
  const b1 = b.readUInt8(1);
  const version = b0 >> 5;
  if (version !== VERSION) return err(`version ${version}: only version ${VERSION} is supported`);
  const auth = (b1 & 0x04) !== 0;
  const length = b.readUInt8(3);
  const minLength = auth ? BFD_CONTROL_LENGTH + 2 : BFD_CONTROL_LENGTH;
  if (length < minLength) return err(`length field ${length}: must be at least ${minLength}`);
  if (length > b.length) return err(`length field ${length}: larger than the ${b.length}-byte payload`);
  const p: BfdControl = {
    diag: b0 & 0x1f,
    state: STATES[b1 >> 6] ?? "AdminDown",
    poll: (b1 & 0x20) !== 0,
    final: (b1 & 0x10) !== 0,
    cpi: (b1 & 0x08) !== 0,
    auth,
    demand: (b1 & 0x02) !== 0,
    multipoint: (b1 & 0x01) !== 0,
    detectMult: b.readUInt8(2),
    myDiscriminator: b.readUInt32BE(4),
    yourDiscriminator: b.readUInt32BE(8),
    desiredMinTxUs: b.readUInt32BE(12),
    requiredMinRxUs: b.readUInt32BE(16),
    requiredMinEchoRxUs: b.readUInt32BE(20),
  };
  if (p.detectMult === 0) return err("detect mult 0: must be at least 1");
  if (p.multipoint) return err("multipoint bit set: must be clear");
  if (p.myDiscriminator === 0) return err("my discriminator 0: must be non-zero");
  if (p.yourDiscriminator === 0 && p.state !== "Down" && p.state !== "AdminDown")
    return err(`your discriminator 0 in state ${p.state}: only Down or AdminDown may omit it`);
  if (p.auth) return err("authentication present: no authentication is configured");
  if (p.poll && p.final) return err("poll and final both set: at most one may be");
  return ok(p);
}
