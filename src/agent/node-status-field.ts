// Publishes one field of the agent's Node status that the agent alone writes (status.bgp,
// status.gatewayLiveness): writes are coalesced (at most one per interval, the latest value wins)
// and run in the background, so a slow or unreachable datastore never delays the caller; other
// status fields are kept (read-modify-write). A failed write is retried on the next offer. It
// does not decide what the field says.
import type { Resource } from "../api/meta.js";
import type { Clock, TimerHandle } from "../daemon/clock.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";

type Json = Record<string, unknown>;

/** The node with status[field] set to `value` (removed when undefined); undefined if already so. */
export function withNodeStatusField(node: Resource, field: string, value: unknown): Resource | undefined {
  const status = ((node as unknown as Json).status ?? {}) as Json;
  if (JSON.stringify(status[field]) === JSON.stringify(value)) return undefined;
  const next: Json = { ...status };
  if (value === undefined) delete next[field];
  else next[field] = value;
  return { ...node, status: next } as unknown as Resource;
}

export interface NodeStatusFieldOptions {
  store: Datastore;
  node: string;
  clock: Clock;
  log: Logger;
  /** Least time between two writes; default 1000 ms. */
  minIntervalMs?: number;
}

export class NodeStatusFieldPublisher<T> {
  /** JSON of the wanted value ("null": remove the field). */
  private wanted: string | undefined;
  private written: string | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;
  private stopped = false;

  constructor(
    /** The status field, e.g. "bgp"; also names it in log lines. */
    private readonly field: string,
    private readonly o: NodeStatusFieldOptions,
  ) {}

  /** The value to publish (undefined: remove the field); written within the interval. */
  offer(value: T | undefined): void {
    this.wanted = JSON.stringify(value ?? null);
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
    const value = (JSON.parse(text) as T | null) ?? undefined;
    const r = await readModifyWrite(this.o.store, { kind: "Node", name: this.o.node }, (node) =>
      withNodeStatusField(node, this.field, value),
    );
    if (r.ok && r.value.kind !== "absent") {
      this.written = text;
      this.lastError = undefined;
      return;
    }
    const error = r.ok ? `Node ${this.o.node} does not exist` : r.error.message;
    if (error !== this.lastError)
      this.o.log.warn(`cannot publish status.${this.field} on the Node; retrying`, { error });
    this.lastError = error;
  }
}
