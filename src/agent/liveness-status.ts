// Publishes the agent's liveness sessions in its Node's status.gatewayLiveness (one entry per
// replica: state Up/Down/Draining/Held, since, reason), so `egw get egressgateways -o wide` can
// say how clients see each replica. Writes are coalesced (at most one a second, the latest list
// wins) and run in the background: a slow or unreachable datastore never delays a failover. It
// does not decide the states (liveness.ts does).
import type { Resource } from "../api/meta.js";
import type { Clock, TimerHandle } from "../daemon/clock.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";

export interface GatewayLivenessEntry {
  replica: string;
  state: "Up" | "Down" | "Draining" | "Held";
  since: string;
  reason?: string;
}

type Json = Record<string, unknown>;

/** The node with status.gatewayLiveness set to `entries` (other fields kept); undefined if already so. */
export function withGatewayLiveness(
  node: Resource,
  entries: readonly GatewayLivenessEntry[],
): Resource | undefined {
  const status = ((node as unknown as Json).status ?? {}) as Json;
  if (JSON.stringify(status.gatewayLiveness ?? []) === JSON.stringify(entries)) return undefined;
  const next: Json = { ...status };
  if (entries.length === 0) delete next.gatewayLiveness;
  else next.gatewayLiveness = entries;
  return { ...node, status: next } as unknown as Resource;
}

export interface LivenessStatusOptions {
  store: Datastore;
  node: string;
  clock: Clock;
  log: Logger;
  /** Least time between two writes; default 1000 ms. */
  minIntervalMs?: number;
}

export class LivenessStatusPublisher {
  private wanted: string | undefined;
  private written: string | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;
  private stopped = false;

  constructor(private readonly o: LivenessStatusOptions) {}

  /** The list to publish; written within a second (or after the write in flight). */
  offer(entries: readonly GatewayLivenessEntry[]): void {
    this.wanted = JSON.stringify(entries);
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
    const entries = JSON.parse(text) as GatewayLivenessEntry[];
    const r = await readModifyWrite(this.o.store, { kind: "Node", name: this.o.node }, (node) =>
      withGatewayLiveness(node, entries),
    );
    if (r.ok && r.value.kind !== "absent") {
      this.written = text;
      this.lastError = undefined;
      return;
    }
    const error = r.ok ? `Node ${this.o.node} does not exist` : r.error.message;
    if (error !== this.lastError)
      this.o.log.warn("cannot publish gateway liveness on the Node; retrying", { error });
    this.lastError = error;
  }
}
