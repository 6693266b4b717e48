// The node's BGP speaker as Node status.bgp: whether BIRD runs the config the agent rendered (and
// why not), the prefixes it announces and, per peer, the session as BIRD reports it (state,
// since, BFD, prefixes exported, BIRD's last message). Pure: the speaker (bgp.ts) reads BIRD and
// publishes the result through node-status-field.ts.
import { BGP_SESSION_STATES, type BgpSessionState, type NodeBgpStatus } from "../api/schemas/core.js";
import { peerProtocolName } from "../routing/bird-config.js";
import type { BirdState } from "../routing/bird-control.js";
import { bgpInfoMessage, bgpStateOf, protocolSinceToIso } from "../routing/bird-status.js";
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
