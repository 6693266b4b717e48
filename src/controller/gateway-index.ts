// What the controller looks at again (no I/O): the EgressGateways it knows, kept up to date from
// watch events, and for each watch event the work-queue keys it touches. Level-triggered: a key
// only says "read this gateway again"; the event's content is never trusted beyond that.
import type { Resource } from "../api/meta.js";
import type { WatchEvent } from "../datastore/types.js";
import { IP_ALLOCATION_KIND } from "../ipam/allocator.js";
import { gatewayKey, ownerKeyOf, toAllocationView } from "./views.js";

export const WATCHED_KINDS = ["EgressGateway", "IPPool", "Pod", "Node", IP_ALLOCATION_KIND] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

/** The queue key of a garbage collection (orphan pods and allocations); never a gateway key. */
export const GARBAGE_KEY = "\u0000garbage";

export class GatewayIndex {
  private readonly keys = new Set<string>();

  get size(): number {
    return this.keys.size;
  }

  all(): string[] {
    return [...this.keys];
  }

  /** The known gateways become `items`; returns those and the ones that vanished (to clean up). */
  replace(items: readonly Resource[]): string[] {
    const before = [...this.keys];
    this.keys.clear();
    for (const g of items) this.keys.add(gatewayKey(g.metadata.namespace ?? "", g.metadata.name));
    return [...new Set([...before, ...this.keys])];
  }

  /** The keys one watch event of `kind` touches. */
  onEvent(kind: WatchedKind, ev: WatchEvent): string[] {
    if (ev.type === "RESYNC") {
      const keys = kind === "EgressGateway" ? this.replace(ev.items) : this.all();
      return [...keys, GARBAGE_KEY];
    }
    const obj = ev.object;
    switch (kind) {
      case "EgressGateway": {
        const key = gatewayKey(obj.metadata.namespace ?? "", obj.metadata.name);
        if (ev.type === "DELETED") this.keys.delete(key);
        else this.keys.add(key);
        return [key];
      }
      case "Pod": {
        const owner = ownerKeyOf(obj);
        return owner !== undefined && owner.startsWith(`${obj.metadata.namespace ?? ""}/`) ? [owner] : [];
      }
      case IP_ALLOCATION_KIND: {
        // A freed address may let any gateway of that pool grow again.
        if (ev.type === "DELETED") return this.all();
        const a = toAllocationView(obj);
        return a ? [gatewayKey(a.owner.namespace, a.owner.gateway)] : [];
      }
      default: // IPPool, Node: placement and capacity of every gateway may change
        return this.all();
    }
  }
}
