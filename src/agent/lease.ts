// The node's liveness lease: the agent renews the Lease `egw-agent-<node>` in egw-system every
// couple of seconds (compare-and-swap through datastore/read-modify-write, created when absent).
// The controller judges a node lost when the lease's renewTime stops changing; this module only
// renews. A datastore error is logged (once per outage) and the next tick tries again: it
// never stops the agent. A renewal still in flight when the next tick comes is not doubled.
import { COORDINATION_API_VERSION } from "../api/kinds.js";
import type { Resource } from "../api/meta.js";
import { NODE_LEASE_NAMESPACE, nodeLeaseName } from "../api/well-known.js";
import { periodic, type Clock, type Periodic } from "../daemon/clock.js";
import { DEFAULT_NODE_LOST_SECONDS, LEASE_RENEW_SECONDS } from "../daemon/node-loss-timing.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";

/** Renewal period; the controller's node-lost time (default 10 s) must be several of these. */
export const DEFAULT_LEASE_RENEW_MS = LEASE_RENEW_SECONDS * 1000;
/** What the lease says about itself (informative: the controller uses its own node-lost time). */
export const DEFAULT_LEASE_DURATION_SECONDS = DEFAULT_NODE_LOST_SECONDS;

export interface NodeLeaseOptions {
  store: Datastore;
  node: string;
  clock: Clock;
  log: Logger;
  renewMs?: number;
  durationSeconds?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The lease after a renewal by `node` at `now` (pure): renewTime now; acquireTime and
 * leaseTransitions move only when the holder changes (or nothing held it).
 */
export const renewedLease = (
  current: Resource | undefined,
  node: string,
  now: Date,
  durationSeconds: number,
): Resource => {
  const iso = now.toISOString();
  const spec = isRecord(current?.spec) ? current.spec : {};
  const sameHolder = spec.holderIdentity === node;
  const transitions = typeof spec.leaseTransitions === "number" ? spec.leaseTransitions : 0;
  return {
    ...(current ?? {}),
    apiVersion: COORDINATION_API_VERSION,
    kind: "Lease",
    metadata: current?.metadata ?? { name: nodeLeaseName(node), namespace: NODE_LEASE_NAMESPACE },
    spec: {
      holderIdentity: node,
      leaseDurationSeconds: durationSeconds,
      acquireTime: sameHolder && typeof spec.acquireTime === "string" ? spec.acquireTime : iso,
      renewTime: iso,
      leaseTransitions: sameHolder || current === undefined ? transitions : transitions + 1,
    },
  };
};

export class NodeLease {
  private readonly renewMs: number;
  private readonly durationSeconds: number;
  private timer: Periodic | undefined;
  private inFlight: Promise<void> | undefined;
  private lastError: string | undefined;
  private stopped = false;

  constructor(private readonly o: NodeLeaseOptions) {
    this.renewMs = o.renewMs ?? DEFAULT_LEASE_RENEW_MS;
    this.durationSeconds = o.durationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
  }

  /** Renews now and then every renewMs until stop(). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.tick();
    this.timer = periodic(this.o.clock, this.renewMs, () => this.tick());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.stop();
    this.timer = undefined;
    await this.inFlight;
  }

  /** One renewal (created when absent). */
  async renew(): Promise<Result<"created" | "renewed", string>> {
    const ref = { kind: "Lease", namespace: NODE_LEASE_NAMESPACE, name: nodeLeaseName(this.o.node) };
    const now = (): Date => new Date(this.o.clock.now());
    const r = await readModifyWrite(this.o.store, ref, (current) =>
      renewedLease(current, this.o.node, now(), this.durationSeconds),
    );
    if (!r.ok) return err(`renewing lease ${ref.namespace}/${ref.name}: ${r.error.message}`);
    if (r.value.kind !== "absent") return ok("renewed");
    const created = await this.o.store.create(
      renewedLease(undefined, this.o.node, now(), this.durationSeconds),
    );
    // AlreadyExists: another renewal created it meanwhile; the next tick renews it.
    if (created.ok || created.error.code === "AlreadyExists") return ok("created");
    return err(`creating lease ${ref.namespace}/${ref.name}: ${created.error.message}`);
  }

  private tick(): void {
    if (this.inFlight !== undefined || this.stopped) return;
    this.inFlight = this.renew()
      .then(
        (r) => this.report(r),
        (e: unknown) => this.report(err(e instanceof Error ? e.message : String(e))),
      )
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  private report(r: Result<"created" | "renewed", string>): void {
    if (r.ok) {
      if (r.value === "created") this.o.log.info("node lease created", { node: this.o.node });
      else if (this.lastError !== undefined)
        this.o.log.info("node lease renewed again", { node: this.o.node });
      this.lastError = undefined;
      return;
    }
    // Once per outage: the error text varies from one failed renewal to the next.
    if (this.lastError === undefined)
      this.o.log.warn("cannot renew the node lease; retrying", { error: r.error, everyMs: this.renewMs });
    this.lastError = r.error;
  }
}
