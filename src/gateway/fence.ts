// Self-fencing of a gateway replica: it reads its own Pod from the datastore every second, and
// after fenceAfter without a successful read it withdraws its SNAT and egress address (fail
// closed). By then the controller, which waits longer (the node-lost time, see
// daemon/node-loss-timing.ts), has not yet handed the egress IP to a replacement, so an egress IP
// is never live on two replicas. The fence opens again only when a read succeeds and shows the
// same pod (same uid) existing and not retired; a pod that is gone, or replaced by another pod of
// the same name, ends it for good. The decision (`nextFence`) is pure; `Fence` does the reads and
// the ticking, and tells the gateway when the state changes. It does not touch the kernel.
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import { periodic, type Clock, type Periodic } from "../daemon/clock.js";
import { DEFAULT_FENCE_AFTER_SECONDS } from "../daemon/node-loss-timing.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";

export const DEFAULT_FENCE_AFTER_MS = DEFAULT_FENCE_AFTER_SECONDS * 1000;
/** How often the pod is read. */
export const FENCE_CHECK_MS = 1000;
/** How often the decision is taken (a fence is late by at most this much). */
export const FENCE_TICK_MS = 250;

/** What a successful read of the replica's own pod showed. */
export type PodSeen =
  | { kind: "present"; uid: string; retired: boolean }
  /** NotFound, or a pod of the same name with another uid. */
  | { kind: "gone" };

export type FenceState =
  | { kind: "open" }
  | { kind: "fenced"; reason: "DatastoreUnreachable" | "PodRetired"; message: string }
  | { kind: "gone"; message: string };

export interface FenceInput {
  nowMs: number;
  fenceAfterMs: number;
  /** When the last successful read started (or the fence started, before any). */
  lastOkAtMs: number;
  /** What the last successful read (or watch event) showed; undefined before the pod was first seen. */
  pod: PodSeen | undefined;
}

/** The next fence state (pure). */
export const nextFence = (prev: FenceState, i: FenceInput): FenceState => {
  if (prev.kind === "gone") return prev;
  if (i.pod?.kind === "gone")
    return { kind: "gone", message: "the replica's pod was deleted (or replaced): it must never SNAT again" };
  const silentMs = i.nowMs - i.lastOkAtMs;
  if (silentMs > i.fenceAfterMs)
    return {
      kind: "fenced",
      reason: "DatastoreUnreachable",
      message: `no successful read of the replica's pod for ${Math.round(silentMs / 100) / 10} s (fence after ${i.fenceAfterMs / 1000} s): SNAT and egress address withdrawn`,
    };
  if (prev.kind === "open") return prev;
  if (i.pod === undefined || i.pod.retired)
    return {
      kind: "fenced",
      reason: "PodRetired",
      message: "the datastore is back but the replica's pod is terminating: SNAT stays withdrawn",
    };
  return { kind: "open" };
};

/** What a stored pod says for the fence, given the uid first seen (undefined: not seen yet). */
export const podSeen = (pod: Resource | undefined, firstUid: string | undefined): PodSeen | undefined => {
  if (pod === undefined) return firstUid === undefined ? undefined : { kind: "gone" };
  const uid = pod.metadata.uid ?? "";
  if (firstUid !== undefined && uid !== firstUid) return { kind: "gone" };
  const meta = pod.metadata as Resource["metadata"] & { deletionTimestamp?: string };
  const retired =
    meta.deletionTimestamp !== undefined || pod.metadata.annotations?.[ANN_GATEWAY_TERMINATING] !== undefined;
  return { kind: "present", uid, retired };
};

export interface FenceOptions {
  store: Datastore;
  pod: { namespace: string; name: string };
  clock: Clock;
  log: Logger;
  fenceAfterMs?: number;
  onChange(state: FenceState): void;
}

export class Fence {
  private current: FenceState = { kind: "open" };
  private lastOkAtMs: number;
  private pod: PodSeen | undefined;
  private firstUid: string | undefined;
  private readonly fenceAfterMs: number;
  private checkTimer: Periodic | undefined;
  private tickTimer: Periodic | undefined;
  private inFlight: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(private readonly o: FenceOptions) {
    this.fenceAfterMs = o.fenceAfterMs ?? DEFAULT_FENCE_AFTER_MS;
    this.lastOkAtMs = o.clock.now();
  }

  state(): FenceState {
    return this.current;
  }

  start(): void {
    if (this.checkTimer !== undefined) return;
    this.lastOkAtMs = this.o.clock.now();
    this.check();
    this.checkTimer = periodic(this.o.clock, FENCE_CHECK_MS, () => this.check());
    this.tickTimer = periodic(this.o.clock, FENCE_TICK_MS, () => this.decide());
  }

  async stop(): Promise<void> {
    this.checkTimer?.stop();
    this.tickTimer?.stop();
    await this.inFlight;
  }

  /** The replica's pod as the gateway's watch delivers it (undefined: deleted). */
  observe(pod: Resource | undefined): void {
    this.record(pod);
    this.decide();
  }

  private record(pod: Resource | undefined): void {
    const seen = podSeen(pod, this.firstUid);
    if (seen?.kind === "present") this.firstUid ??= seen.uid;
    if (seen !== undefined) this.pod = seen;
  }

  private check(): void {
    if (this.inFlight !== undefined) return;
    const startedAt = this.o.clock.now();
    const ref = { kind: "Pod", namespace: this.o.pod.namespace, name: this.o.pod.name };
    this.inFlight = this.o.store
      .get(ref)
      .then(
        (r) => {
          if (r.ok || r.error.code === "NotFound") {
            this.lastOkAtMs = Math.max(this.lastOkAtMs, startedAt);
            this.record(r.ok ? r.value : undefined);
            if (this.lastError !== undefined)
              this.o.log.info("datastore reachable again", { pod: this.o.pod, after: this.lastError });
            this.lastError = undefined;
          } else {
            // Once per outage: the error text varies from one failed read to the next.
            if (this.lastError === undefined)
              this.o.log.warn("cannot read the replica's pod", {
                error: r.error.message,
                fenceAfterMs: this.fenceAfterMs,
              });
            this.lastError = r.error.message;
          }
        },
        (e: unknown) => {
          this.lastError = e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        this.decide();
      });
  }

  private decide(): void {
    const next = nextFence(this.current, {
      nowMs: this.o.clock.now(),
      fenceAfterMs: this.fenceAfterMs,
      lastOkAtMs: this.lastOkAtMs,
      pod: this.pod,
    });
    const same =
      next.kind === this.current.kind &&
      (next.kind !== "fenced" || this.current.kind !== "fenced" || next.reason === this.current.reason);
    if (same) return;
    this.current = next;
    if (next.kind === "open")
      this.o.log.info("fence lifted: the pod exists and the datastore answers", { pod: this.o.pod });
    else if (next.kind === "fenced")
      this.o.log.warn("fenced", { pod: this.o.pod, reason: next.reason, message: next.message });
    else
      this.o.log.warn("fenced for good: the replica's pod is gone", {
        pod: this.o.pod,
        message: next.message,
      });
    this.o.onChange(next);
  }
}
