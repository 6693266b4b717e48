// The controller's vocabulary (types only): what it can do to an EgressGateway's replicas and
// IP allocations (actions), what keeps a gateway from its spec (problems), and what one pass of
// the pure decision returns (the actions plus the status to report). gateway-actions.ts
// computes them; execute.ts carries actions out; status.ts turns the rest into conditions.
import type { EgressGateway } from "../api/schemas/egress.js";
import type { IPPoolLike } from "../ipam/pools.js";
import type { AllocationView, NodeView, ReplicaView } from "./views.js";

export interface GatewayActionsInput {
  /** The gateway, schema-valid with defaults applied (validateResource). */
  gateway: EgressGateway;
  /** Every IPPool. */
  pools: readonly IPPoolLike[];
  /** Every Node. */
  nodes: readonly NodeView[];
  /** Pods of the gateway's namespace that carry its owner annotation. */
  replicas: readonly ReplicaView[];
  /** Names of the other pods of the namespace: a replica must not take one of them. */
  otherPodNames: ReadonlySet<string>;
  /** Every IP allocation in the cluster (free capacity depends on all of them). */
  allocations: readonly AllocationView[];
  nowMs: number;
  /**
   * An allocation whose replica pod does not exist is released only when older than this: another
   * controller may be between allocating the IP and creating the pod.
   */
  unbackedGraceMs: number;
}

/** One change to the datastore; the executor runs them in the order given. */
export type ReplicaAction =
  | {
      type: "create";
      replica: string;
      node: string;
      labels: Record<string, string>;
      /** Template annotations and hash; the controller adds the owner and egress-IP annotations. */
      annotations: Record<string, string>;
      /** The pod's spec.terminationGracePeriodSeconds (its drain time if its gateway is deleted). */
      graceSeconds: number;
      reason: string;
    }
  /** Drain from `started` until `deadline` (ISO-8601): no new connections, established ones stay. */
  | { type: "drain"; replica: string; started: string; deadline: string; reason: string }
  | { type: "delete"; replica: string; release: AllocationView[]; reason: string }
  | {
      type: "update-metadata";
      replica: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      reason: string;
    }
  | { type: "release"; allocation: AllocationView; reason: string };

export type ProblemReason =
  | "InvalidSpec"
  | "NoPools"
  | "PoolNotFound"
  | "PoolNotAllowed"
  | "PoolInvalid"
  | "PoolMismatch"
  | "PoolExhausted"
  | "NoMatchingNode"
  | "ActionFailed";

export interface Problem {
  reason: ProblemReason;
  message: string;
}

export interface ReplicaStatus {
  name: string;
  node?: string;
  egressIP?: string;
  ready: boolean;
}

/** What to do for one EgressGateway now, and what its status should say. */
export interface GatewayActions {
  actions: ReplicaAction[];
  /** Every replica pod as it is now (terminating ones included, not ready). */
  replicas: ReplicaStatus[];
  desired: number;
  /** Replicas that serve (not draining, with a valid IP and placement). */
  live: number;
  /** Live replicas that are ready. */
  ready: number;
  /** Live replicas still to be replaced (a rolling update in progress). */
  outdated: number;
  problems: Problem[];
  /** Decide again after this long (a drain deadline, an allocation's grace period). */
  requeueAfterMs?: number;
}
