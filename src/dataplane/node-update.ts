// How a node reconcile reaches the kernel, decided from what this process applied last (pure).
// kube-proxy's nftables proxier is the model: a full sync reads the kernel back and rewrites what
// differs; a partial sync trusts what it applied last and sends only what changed — set and map
// elements, in one transaction — and any failure makes the next sync full. The node dataplane
// keeps `NodeApplied` after every successful reconcile and forgets it on any failure.
import type { ElementChangeCount } from "./nft/elements.js";
import { elementUpdate } from "./nft/elements.js";
import type { Table } from "./nft/objects.js";
import type { NodeDesired, NodeRender } from "./render-node.js";

/** What the last successful reconcile left in the kernel, as this process rendered it. */
export interface NodeApplied {
  /** The node table (element updates are worked out against it). */
  table: Table;
  /** Its outline hash (the version marker the kernel holds). */
  hash: string;
  /** The routing desired state (link, sysctls, peers, groups, routes, rules), as routingKey gives it. */
  routing: string;
  /** The tunnel device and sysctls alone, as deviceKey gives it. */
  device: string;
}

/** Routing desired state as one comparable value (its arrays are in the renderer's fixed order). */
export const routingKey = (d: NodeDesired): string => JSON.stringify(d);

/** The tunnel device and sysctls as one comparable value. */
export const deviceKey = (d: NodeDesired): string => JSON.stringify([d.link, d.sysctls]);

/**
 * True when the tunnel device and sysctls need no check: this process set them up last time and
 * nothing asks for a full pass. A failover only swaps group members; reading the device and six
 * sysctls back would add two process runs to the time new connections fail.
 */
export const deviceUnchanged = (applied: NodeApplied | undefined, device: string, full: boolean): boolean =>
  !full && applied !== undefined && applied.device === device;

/** What to do with the nft table. */
export type NftStep =
  /** The kernel holds the rendered table already (as far as this process knows). */
  | { kind: "none" }
  /** Only set and map elements changed: one nft transaction of element operations. */
  | { kind: "elements"; text: string; count: ElementChangeCount }
  /** Read the table back and replace it whole if it differs (carrying counter values over). */
  | { kind: "full"; why: string };

/** The nft step for `render`: full when asked, when nothing is known, or when more than elements changed. */
export function nftStep(
  applied: NodeApplied | undefined,
  render: Pick<NodeRender, "table" | "shape">,
  full: boolean,
): NftStep {
  if (full) return { kind: "full", why: "resync" };
  if (applied === undefined) return { kind: "full", why: "nothing applied by this process yet" };
  if (applied.hash !== render.shape.hash) return { kind: "full", why: "chains or set declarations changed" };
  const update = elementUpdate(applied.table, render.table);
  if (update === undefined) return { kind: "full", why: "set declarations changed" };
  if (update.transaction.operations.length === 0) return { kind: "none" };
  const text = update.transaction.text();
  // Rendered elements passed the table's checks, so this is a bug; the full path still works.
  if (!text.ok) return { kind: "full", why: `element update refused: ${text.error}` };
  return { kind: "elements", text: text.value, count: update.count };
}

/** Whether routing can be left alone: not a full reconcile, and the same desired state as last applied. */
export const routingUnchanged = (applied: NodeApplied | undefined, routing: string, full: boolean): boolean =>
  !full && applied !== undefined && applied.routing === routing;

/** An element update in words, for the reconcile's action list. */
export const elementsAction = (table: string, c: ElementChangeCount): string =>
  `nft elements of table inet ${table}: ${c.added} added, ${c.removed} removed in ${c.sets} set(s)` +
  (c.rewritten > 0 ? `, ${c.rewritten} of them written whole` : "");
