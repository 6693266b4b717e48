// Datastore → ClusterIndex for the agent: a ResourceMirror (list + watch, malformed objects
// skipped) over the kinds calc reads, each change put into the index through the one mapping the
// CLI uses too (daemon/cluster-inputs.ts). Pod events are also shown to the gateway health (a
// replica that reports itself not ready is held), and so are EgressGateways (their liveness
// timers), which calc does not read. It does not compute plans: `changed` says when.
import type { PodInput } from "../calc/inputs.js";
import type { ClusterIndex } from "../calc/snapshot.js";
import { CALC_KINDS, isCalcKind, removeInput, upsertInput } from "../daemon/cluster-inputs.js";
import type { Metrics } from "../daemon/metrics.js";
import { ResourceMirror } from "../daemon/mirror.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";
import type { Result } from "../util/result.js";
import type { ReplicaHealth } from "./replica-health.js";

export interface ClusterFeedOptions {
  store: Datastore;
  index: ClusterIndex;
  gateways: ReplicaHealth;
  log: Logger;
  metrics: Metrics;
  /** A batch of changes reached the index. */
  changed(): void;
}

export class ClusterFeed {
  private readonly mirror: ResourceMirror;

  constructor(o: ClusterFeedOptions) {
    this.mirror = new ResourceMirror(
      o.store,
      [...CALC_KINDS.map((kind) => ({ kind })), { kind: "EgressGateway" }],
      {
        upsert: (kind, obj) => {
          if (kind === "EgressGateway") o.gateways.egressGatewayChanged(obj, true);
          if (!isCalcKind(kind)) return;
          upsertInput(o.index, kind, obj);
          if (kind === "Pod") o.gateways.podChanged(obj as PodInput);
        },
        remove: (kind, obj) => {
          if (kind === "EgressGateway") o.gateways.egressGatewayChanged(obj, false);
          if (!isCalcKind(kind)) return;
          removeInput(o.index, kind, obj);
          if (kind === "Pod") o.gateways.podRemoved(obj as PodInput);
        },
        changed: () => o.changed(),
        skipped: (kind, problem) => {
          o.metrics.inc("egw_agent_skipped_objects_total", { kind });
          o.log.warn("skipping malformed object", { kind, problem });
        },
        resynced: (kind) => {
          o.metrics.inc("egw_agent_watch_resyncs_total", { kind });
          o.log.warn("watch restarted from a full list", { kind });
        },
      },
    );
  }

  /** Lists every kind (all must succeed), then follows the watches. */
  start(): Promise<Result<void, string>> {
    return this.mirror.start();
  }

  stop(): Promise<void> {
    return this.mirror.stop();
  }
}
