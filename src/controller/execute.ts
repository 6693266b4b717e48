// Carries out the controller's actions against the datastore (I/O): create a replica (allocate
// its egress IP first, then the pod carrying it), drain or relabel one (read-modify-write of its
// pod), delete one and release what it held, release an unused allocation. A failed action
// becomes a Problem for the status, never an exception; the next pass decides again.
import { CORE_API_VERSION } from "../api/kinds.js";
import type { Resource } from "../api/meta.js";
import type { EgressGateway } from "../api/schemas/egress.js";
import {
  ANN_GATEWAY_DRAIN_STARTED,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TERMINATING,
} from "../api/well-known.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import { allocateEgressIP, IP_ALLOCATION_KIND, releaseEgressIP } from "../ipam/allocator.js";
import type { IpamErrorCode, IPPoolLike } from "../ipam/pools.js";
import type { Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import type { Problem, ProblemReason, ReplicaAction } from "./actions.js";
import { poolRefs } from "./egress-ips.js";
import { readPublishDelay, usableAfterAnnotations } from "./publish-delay.js";
import { gatewayKey, ownerKeyOf, type AllocationView } from "./views.js";

type Action<T extends ReplicaAction["type"]> = Extract<ReplicaAction, { type: T }>;

/** An IPAM failure as a status problem: the pool's fault, or the datastore's (ActionFailed). */
const allocationProblem = (code: IpamErrorCode): ProblemReason =>
  code === "Exhausted" ? "PoolExhausted" : code === "Datastore" ? "ActionFailed" : "PoolInvalid";

/** Deletes allocation `a` if it is unchanged; someone else changing or releasing it is fine too. */
export const releaseAllocation = async (
  store: Datastore,
  a: AllocationView,
): Promise<Result<void, string>> => {
  const gone = await store.delete(
    { kind: IP_ALLOCATION_KIND, name: a.name },
    { resourceVersion: a.resourceVersion },
  );
  // Conflict/NotFound: someone changed or released it meanwhile; the next pass looks again.
  if (gone.ok || gone.error.code === "NotFound" || gone.error.code === "Conflict") return ok(undefined);
  return err(`releasing ${a.ip}: ${gone.error.message}`);
};

/** Whose replicas the actions are for. */
export interface ActionTarget {
  namespace: string;
  name: string;
  /** The gateway and the pools, for creates. */
  gw?: EgressGateway;
  pools?: readonly IPPoolLike[];
}

export class ActionExecutor {
  constructor(
    private readonly store: Datastore,
    private readonly log: Logger,
    private readonly stopped: () => boolean,
    /** When a replica is created (its usable-after time counts from then). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `actions` in order for `gw`; what failed is returned as problems. */
  run(
    gw: EgressGateway,
    actions: readonly ReplicaAction[],
    pools: readonly IPPoolLike[],
  ): Promise<Problem[]> {
    return this.runFor(
      { namespace: gw.metadata.namespace ?? "", name: gw.metadata.name, gw, pools },
      actions,
    );
  }

  /**
   * Runs `actions` for the gateway `namespace/name`; creates need the gateway itself (`gw`, its
   * pools), the other actions only its identity (a deleted gateway's replicas drain too).
   */
  async runFor(target: ActionTarget, actions: readonly ReplicaAction[]): Promise<Problem[]> {
    const problems: Problem[] = [];
    const gateway = gatewayKey(target.namespace, target.name);
    for (const action of actions) {
      if (this.stopped()) break;
      const failures = await this.one(target, action);
      for (const p of failures) {
        if (p.reason === "ActionFailed")
          this.log.warn(`${action.type} failed`, {
            gateway,
            replica: "replica" in action ? action.replica : undefined,
            error: p.message,
          });
        problems.push(p);
      }
    }
    return problems;
  }

  private async one(target: ActionTarget, action: ReplicaAction): Promise<Problem[]> {
    const namespace = target.namespace;
    const gateway = gatewayKey(namespace, target.name);
    const failed = (message: string): Problem[] => [{ reason: "ActionFailed", message }];
    switch (action.type) {
      case "create": {
        if (target.gw === undefined) return failed(`creating ${action.replica}: gateway ${gateway} is gone`);
        const r = await this.create(target.gw, action, target.pools ?? []);
        return r.ok ? [] : [r.error];
      }
      case "drain": {
        const r = await this.changeReplica(namespace, gateway, action.replica, (pod) => {
          pod.metadata.annotations = {
            ...pod.metadata.annotations,
            [ANN_GATEWAY_TERMINATING]: action.deadline,
            [ANN_GATEWAY_DRAIN_STARTED]: action.started,
          };
        });
        if (!r.ok) return failed(r.error);
        this.log.info("draining replica", {
          gateway,
          replica: action.replica,
          since: action.started,
          until: action.deadline,
          reason: action.reason,
        });
        return [];
      }
      case "update-metadata": {
        const r = await this.changeReplica(namespace, gateway, action.replica, (pod) => {
          pod.metadata.labels = { ...action.labels };
          pod.metadata.annotations = { ...pod.metadata.annotations, ...action.annotations };
        });
        if (!r.ok) return failed(r.error);
        this.log.info("updated replica metadata", {
          gateway,
          replica: action.replica,
          reason: action.reason,
        });
        return [];
      }
      case "delete": {
        const gone = await this.store.delete({ kind: "Pod", namespace, name: action.replica });
        if (!gone.ok && gone.error.code !== "NotFound")
          return failed(`deleting pod ${namespace}/${action.replica}: ${gone.error.message}`);
        this.log.info("deleted replica", {
          gateway,
          replica: action.replica,
          released: action.release.map((a) => a.ip),
          reason: action.reason,
        });
        const problems: Problem[] = [];
        for (const a of action.release) {
          const r = await releaseAllocation(this.store, a);
          if (!r.ok) problems.push(...failed(r.error));
        }
        return problems;
      }
      case "release": {
        const r = await releaseAllocation(this.store, action.allocation);
        if (!r.ok) return failed(r.error);
        this.log.info("released IP", { gateway, ip: action.allocation.ip, reason: action.reason });
        return [];
      }
    }
  }

  /** Allocate first, then create the pod carrying the IP; a pod is never created without one. */
  private async create(
    gw: EgressGateway,
    action: Action<"create">,
    pools: readonly IPPoolLike[],
  ): Promise<Result<void, Problem>> {
    const namespace = gw.metadata.namespace ?? "";
    const owner = { namespace, gateway: gw.metadata.name, replica: action.replica };
    const key = gatewayKey(namespace, gw.metadata.name);
    // Before the allocation: a create that cannot know its publish delay does not happen.
    const delay = await readPublishDelay(this.store, gw);
    if (!delay.ok)
      return err({ reason: "ActionFailed", message: `creating ${action.replica}: ${delay.error}` });
    const got = await allocateEgressIP(this.store, { pools, ipPools: poolRefs(gw), owner });
    if (!got.ok) {
      this.log.warn("cannot allocate an egress IP", {
        gateway: key,
        replica: action.replica,
        error: got.error.message,
      });
      return err({ reason: allocationProblem(got.error.code), message: got.error.message });
    }
    const pod: Resource = {
      apiVersion: CORE_API_VERSION,
      kind: "Pod",
      metadata: {
        name: action.replica,
        namespace,
        labels: { ...action.labels },
        annotations: {
          ...action.annotations,
          [ANN_GATEWAY_OWNER]: key,
          [ANN_GATEWAY_EGRESS_IP]: got.value.ip,
          ...usableAfterAnnotations(this.now(), delay.value),
        },
      },
      spec: { nodeName: action.node, terminationGracePeriodSeconds: action.graceSeconds },
    };
    const created = await this.store.create(pod);
    if (!created.ok) {
      // AlreadyExists: another controller made this replica with the same allocation: keep it.
      if (created.error.code !== "AlreadyExists") {
        const released = await releaseEgressIP(this.store, owner);
        if (!released.ok)
          this.log.warn("cannot release IP after a failed create", {
            gateway: key,
            error: released.error.message,
          });
      }
      return err({
        reason: "ActionFailed",
        message: `creating pod ${namespace}/${action.replica}: ${created.error.message}`,
      });
    }
    this.log.info("created replica", {
      gateway: key,
      replica: action.replica,
      node: action.node,
      egressIP: got.value.ip,
      pool: got.value.pool,
      ...(delay.value > 0 ? { usableAfterSeconds: delay.value } : {}),
      reason: action.reason,
    });
    return ok(undefined);
  }

  /** Read-modify-write of a replica pod this gateway still owns; a pod that is gone is fine. */
  private async changeReplica(
    namespace: string,
    gateway: string,
    name: string,
    change: (pod: Resource) => void,
  ): Promise<Result<void, string>> {
    const r = await readModifyWrite(this.store, { kind: "Pod", namespace, name }, (pod) => {
      if (ownerKeyOf(pod) !== gateway) return undefined;
      change(pod);
      return pod;
    });
    return r.ok ? ok(undefined) : err(`updating pod ${namespace}/${name}: ${r.error.message}`);
  }
}
