// What `egw describe node` adds about the node's BGP speaker (pure): whether BIRD runs the config
// the agent rendered (or why not), what the node announces, and one row per peer — session state,
// how long it has been in it, BFD, prefixes announced, BIRD's last message — from the Node's
// status.bgp, which the node's agent writes. Read defensively: nothing here is trusted to be
// well formed. It decides nothing.
import type { Resource } from "../api/meta.js";
import type { NodeBgpStatus } from "../api/schemas/core.js";
import { formatTable } from "../util/table.js";
import { formatAge } from "./output.js";

const text = (v: unknown): string => (typeof v === "string" && v !== "" ? v : "-");

export function describeNodeBgp(node: Resource, now: Date): string[] {
  const bgp = (node.status as { bgp?: NodeBgpStatus } | undefined)?.bgp;
  if (bgp === undefined || typeof bgp !== "object")
    return ["BGP: off (the agent runs no BGP here, or there is no enabled BGPConfiguration default)"];
  const announced = Array.isArray(bgp.announced) ? bgp.announced : [];
  const lines = [
    bgp.configApplied === false
      ? `BGP: the last config was not applied, BIRD keeps the previous one: ${text(bgp.error)}`
      : `BGP: config applied${bgp.error === undefined ? "" : ` (left out: ${bgp.error})`}`,
    `  Announces: ${announced.length === 0 ? "nothing" : announced.join(", ")}`,
  ];
  const peers = Array.isArray(bgp.peers) ? bgp.peers : [];
  if (peers.length === 0) return [...lines, "  Peers: none"];
  const rows = [
    ["PEER", "PEER-IP", "STATE", "FOR", "BFD", "PREFIXES", "INFO"],
    ...peers.map((p) => [
      text(p.name),
      text(p.peerIP),
      text(p.state),
      formatAge(p.since, now),
      text(p.bfd),
      typeof p.prefixesAnnounced === "number" ? String(p.prefixesAnnounced) : "-",
      text(p.info),
    ]),
  ];
  return [...lines, ...formatTable(rows).map((l) => `  ${l}`)];
}
