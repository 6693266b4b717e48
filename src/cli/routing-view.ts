// What `egw get` shows about BGP sessions and firewall feeds beyond the objects' own fields: the
// per-node session states the agents write on Node status.bgp, summed up per BGPPeer and per Node.
// Pure: reads objects, returns text.
import type { Resource } from "../api/meta.js";
import type { NodeBgpStatus } from "../api/schemas/core.js";

/** A BGPPeer's sessions across nodes: how many nodes report one, how many are Established. */
export interface PeerSessions {
  established: number;
  total: number;
}

/** BGPPeer name → its sessions, from every Node's status.bgp.peers. */
export type SessionsByPeer = ReadonlyMap<string, PeerSessions>;

const bgpOf = (node: Resource): NodeBgpStatus | undefined =>
  (node.status as { bgp?: NodeBgpStatus } | undefined)?.bgp;

export function sessionsByPeer(nodes: readonly Resource[]): SessionsByPeer {
  const out = new Map<string, PeerSessions>();
  for (const node of nodes) {
    for (const p of bgpOf(node)?.peers ?? []) {
      const s = out.get(p.name) ?? { established: 0, total: 0 };
      s.total += 1;
      if (p.state === "Established") s.established += 1;
      out.set(p.name, s);
    }
  }
  return out;
}

/** `2/3` Established sessions of a peer over the nodes that run one; <none> when no node reports it. */
export const establishedText = (s: PeerSessions | undefined): string =>
  s === undefined ? "<none>" : `${s.established}/${s.total}`;

/**
 * A Node's BGP in one word: `ConfigError` when BIRD rejected its last config, else its Established
 * sessions over its sessions (`1/1`); <none> when its agent runs no BGP.
 */
export function nodeBgpText(node: Resource): string {
  const bgp = bgpOf(node);
  if (bgp === undefined) return "<none>";
  if (!bgp.configApplied) return "ConfigError";
  const peers = bgp.peers ?? [];
  return `${peers.filter((p) => p.state === "Established").length}/${peers.length}`;
}

/** Where a BGPPeer applies: the one node, the node selector, or all() when neither is set. */
export const peerNodesText = (peer: Resource): string => {
  const spec = peer.spec as { node?: string; nodeSelector?: string } | undefined;
  return spec?.node ?? spec?.nodeSelector ?? "all()";
};
