// Publishes the agent's liveness sessions in its Node's status.gatewayLiveness (one entry per
// replica: state Up/Down/Draining/Held, since, reason), so `egw get egressgateways -o wide` can
// say how clients see each replica. Writes are coalesced (at most one a second, the latest list
// wins) and run in the background (node-status-field.ts): a slow or unreachable datastore never
// delays a failover. It does not decide the states (liveness.ts does).
import type { Resource } from "../api/meta.js";
import {
  NodeStatusFieldPublisher,
  withNodeStatusField,
  type NodeStatusFieldOptions,
} from "./node-status-field.js";

export interface GatewayLivenessEntry {
  replica: string;
  state: "Up" | "Down" | "Draining" | "Held";
  since: string;
  reason?: string;
}

/** The node with status.gatewayLiveness set to `entries` (other fields kept); undefined if already so. */
export const withGatewayLiveness = (
  node: Resource,
  entries: readonly GatewayLivenessEntry[],
): Resource | undefined =>
  withNodeStatusField(node, "gatewayLiveness", entries.length === 0 ? undefined : entries);

export type LivenessStatusOptions = NodeStatusFieldOptions;

export class LivenessStatusPublisher {
  private readonly field: NodeStatusFieldPublisher<readonly GatewayLivenessEntry[]>;

  constructor(o: LivenessStatusOptions) {
    this.field = new NodeStatusFieldPublisher("gatewayLiveness", o);
  }

  /** The list to publish; written within a second (or after the write in flight). */
  offer(entries: readonly GatewayLivenessEntry[]): void {
    this.field.offer(entries.length === 0 ? undefined : entries);
  }

  stop(): Promise<void> {
    return this.field.stop();
  }
}
