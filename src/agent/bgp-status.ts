// The node's BGP speaker as Node status.bgp: whether BIRD runs the config the agent rendered (and
// why not), the prefixes it announces and, per peer, the session as BIRD reports it (state,
// since, BFD, prefixes exported, BIRD's last message). `nodeBgpStatus` is pure;
// BgpStatusPublisher writes it (coalesced, at most one write a second, latest wins, in the
// background: a slow datastore never delays BIRD). It does not read BIRD (bgp.ts does).
import type { Resource } from "../api/meta.js";
import { BGP_SESSION_STATES, type BgpSessionState, type NodeBgpStatus } from "../api/schemas/core.js";
import type { Clock, TimerHandle } from "../daemon/clock.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import { peerProtocolName } from "../routing/bird-config.js";
import type { BirdState } from "../routing/bird-control.js";
import { bgpInfoMessage, bgpStateOf, protocolSinceToIso } from "../routing/bird-status.js";
import type { Logger } from "../util/log.js";
import type { BgpPeerIntent } from "./bgp-announce.js";

/** Longest error text written (BIRD's messages are short; a list of problems may not be). */
const MAX_ERROR = 1000;

const cut = (s: string): string => (s.length <= MAX_ERROR ? s : `${s.slice(0, MAX_ERROR - 1)}…`);

/** BIRD's BGP state in the API's words (BIRD's Close is a session on its way to Idle). */
export function sessionState(
  birdState: string | undefined,
  protocolState: string | undefined,
): BgpSessionState {
  if (protocolState === undefined || protocolState === "down") return "Down";
  if (birdState === "Close") return "Idle";
  return (BGP_SESSION_STATES as readonly string[]).includes(birdState ?? "")
    ? (birdState as BgpSessionState)
    : "Idle";
}

export interface BgpStatusInput {
  /** Peers and prefixes of the config BIRD runs (the last one it accepted). */
  applied: { peers: readonly BgpPeerIntent[]; announced: readonly string[] } | undefined;
  /** Why the last rendered config is not running (BIRD refused it, could not be reached). */
  applyError: string | undefined;
  /** Inputs left out of the config (naming resource and field). */
  problems: readonly string[];
  /** BIRD's state, or why it could not be read. */
  bird: { ok: true; value: BirdState } | { ok: false; error: string };
}

export function nodeBgpStatus(i: BgpStatusInput): NodeBgpStatus {
  const errors = [...(i.applyError === undefined ? [] : [i.applyError]), ...i.problems];
  const peers = (i.applied?.peers ?? []).map((p) => {
    if (!i.bird.ok)
      return {
        name: p.name,
        peerIP: p.ip,
        state: "Down" as const,
        bfd: p.bfd ? ("Down" as const) : ("Off" as const),
        info: `BIRD not reachable: ${i.bird.error}`,
      };
    const proto = i.bird.value.protocols.find((x) => x.name === peerProtocolName(p.name));
    const state = sessionState(proto === undefined ? undefined : bgpStateOf(proto), proto?.state);
    const since = proto === undefined ? undefined : protocolSinceToIso(proto.since);
    const bfdUp = i.bird.value.bfd.some((s) => s.ip === p.ip && s.state === "Up");
    const info = proto === undefined ? "not in BIRD's config" : bgpInfoMessage(proto);
    return {
      name: p.name,
      peerIP: p.ip,
      state,
      ...(since === undefined ? {} : { since }),
      bfd: p.bfd ? (bfdUp ? ("Up" as const) : ("Down" as const)) : ("Off" as const),
      ...(state === "Established" ? { prefixesAnnounced: proto?.routes?.exported ?? 0 } : {}),
      ...(info === undefined ? {} : { info }),
    };
  });
  return {
    configApplied: i.applyError === undefined,
    ...(errors.length === 0 ? {} : { error: cut(errors.join("; ")) }),
    announced: [...(i.applied?.announced ?? [])],
    peers,
  };
}

type Json = Record<string, unknown>;

/** The node with status.bgp set to `bgp` (removed when undefined; other fields kept); undefined if already so. */
export function withNodeBgpStatus(node: Resource, bgp: NodeBgpStatus | undefined): Resource | undefined {
  const status = ((node as unknown as Json).status ?? {}) as Json;
  if (JSON.stringify(status.bgp) === JSON.stringify(bgp)) return undefined;
  const next: Json = { ...status };
  if (bgp === undefined) delete next.bgp;
  else next.bgp = bgp;
  return { ...node, status: next } as unknown as Resource;
}

export interface BgpStatusPublisherOptions {
  store: Datastore;
  node: string;
  clock: Clock;
  log: Logger;
  /** Least time between two writes; default 1000 ms. */
  minIntervalMs?: number;
}

export class BgpStatusPublisher {
  /** JSON of what should be on the Node ("null": no status.bgp). */
  private wanted: string | undefined;
  private written: string | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;
  private stopped = false;

  constructor(private readonly o: BgpStatusPublisherOptions) {}

  /** The status to publish (undefined: remove status.bgp); written within a second. */
  offer(bgp: NodeBgpStatus | undefined): void {
    this.wanted = JSON.stringify(bgp ?? null);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.running !== undefined) return;
    if (this.wanted === undefined || this.wanted === this.written) return;
    const wait = Math.max(0, this.lastWriteAt + (this.o.minIntervalMs ?? 1000) - this.o.clock.now());
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.write().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, wait);
  }

  private async write(): Promise<void> {
    const text = this.wanted;
    if (text === undefined) return;
    this.lastWriteAt = this.o.clock.now();
    const bgp = (JSON.parse(text) as NodeBgpStatus | null) ?? undefined;
    const r = await readModifyWrite(this.o.store, { kind: "Node", name: this.o.node }, (node) =>
      withNodeBgpStatus(node, bgp),
    );
    if (r.ok && r.value.kind !== "absent") {
      this.written = text;
      this.lastError = undefined;
      return;
    }
    const error = r.ok ? `Node ${this.o.node} does not exist` : r.error.message;
    if (error !== this.lastError)
      this.o.log.warn("cannot publish BGP status on the Node; retrying", { error });
    this.lastError = error;
  }
}
