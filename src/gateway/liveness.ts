// The replica's side of data-path liveness: a passive BFD endpoint on its pod IP that answers the
// client nodes of its plan (a packet from any other address starts nothing), with the timers of
// its EgressGateway. The replica's readiness rides on it: Draining → AdminDown with diagnostic 7
// (clients stop sending new connections, established ones continue), ProbeFailed,
// DataplaneNotApplied or Fenced → AdminDown with diagnostic 6 (its upstream path is down), Ready → normal
// sessions. A readiness change is on the wire at once, not at a client's next readiness poll.
// It does not evaluate readiness (readiness.ts) nor build the plan (plan.ts).
import type { GatewayReplicaPlan } from "../dataplane/render-gateway.js";
import {
  LIVENESS_DIAG,
  type LivenessEndpoint,
  type LivenessTimers,
  type OpenLivenessEndpoint,
} from "../daemon/liveness-endpoint.js";
import type { Logger } from "../util/log.js";
import type { Readiness } from "./readiness.js";

/** What the replica's sessions say for a readiness: AdminDown with this diagnostic, or undefined (normal). */
export function adminDiagOf(r: Readiness): number | undefined {
  switch (r.reason) {
    case "Ready":
      return undefined;
    case "Draining":
      return LIVENESS_DIAG.AdminDown;
    case "ProbeFailed":
    case "DataplaneNotApplied":
    case "Fenced":
      return LIVENESS_DIAG.ConcatenatedPathDown;
  }
}

export interface ReplicaLivenessOptions {
  open: OpenLivenessEndpoint;
  log: Logger;
}

export class ReplicaLivenessSessions {
  private endpoint: LivenessEndpoint | undefined;
  private address: string | undefined;
  private opening: Promise<void> | undefined;
  private openError: string | undefined;
  /** Underlay IPs of the cluster nodes the replica accepts sessions from. */
  private nodes = new Set<string>();
  private timers: LivenessTimers | undefined;
  private diag: number | undefined = LIVENESS_DIAG.ConcatenatedPathDown;
  private stopped = false;

  constructor(private readonly o: ReplicaLivenessOptions) {}

  /** The replica's plan (pod IP, client nodes) and its EgressGateway's timers. */
  follow(plan: Pick<GatewayReplicaPlan, "podIP" | "nodes">, timers: LivenessTimers): void {
    if (this.stopped) return;
    const retimed =
      this.timers !== undefined &&
      (this.timers.intervalMs !== timers.intervalMs || this.timers.multiplier !== timers.multiplier);
    this.timers = { intervalMs: timers.intervalMs, multiplier: timers.multiplier };
    this.nodes = new Set(plan.nodes.map((n) => n.underlayIP));
    const e = this.endpoint;
    if (e !== undefined && this.address === plan.podIP) {
      for (const peer of e.peers().keys()) {
        if (!this.nodes.has(peer)) e.remove(peer);
        // A timer change reaches running sessions by a Poll Sequence (this makes them active).
        else if (retimed) e.ensure(peer, this.timers);
      }
      return;
    }
    this.open(plan.podIP);
  }

  /** The replica's readiness now: its sessions say so at once. */
  setReadiness(r: Readiness): void {
    const diag = adminDiagOf(r);
    if (diag === this.diag) return;
    this.diag = diag;
    this.endpoint?.setAdminDown(diag);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.opening;
    await this.endpoint?.close();
    this.endpoint = undefined;
  }

  private open(address: string): void {
    if (this.opening !== undefined) return;
    const old = this.endpoint;
    this.endpoint = undefined;
    this.address = address;
    this.opening = (async () => {
      await old?.close();
      const r = await this.o.open({
        address,
        acceptPeer: (ip) => (this.nodes.has(ip) ? this.timers : undefined),
        // Clients judge the sessions; the replica only answers (one line per node would be noise).
        onChange: () => undefined,
      });
      if (this.stopped) {
        if (r.ok) await r.value.close();
        return;
      }
      if (!r.ok) {
        if (r.error !== this.openError)
          this.o.log.error("cannot open the liveness endpoint; retrying on the next sync", {
            address,
            error: r.error,
          });
        this.openError = r.error;
        this.address = undefined;
        return;
      }
      this.openError = undefined;
      this.endpoint = r.value;
      r.value.setAdminDown(this.diag);
      this.o.log.info("liveness endpoint open (passive)", { address });
    })().finally(() => {
      this.opening = undefined;
    });
  }
}
