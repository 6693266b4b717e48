// One reconcile of one EgressGateway (I/O around the pure decision): read the gateway and its
// world, decide (gateway-actions.ts), carry the actions out (execute.ts), and repeat until
// nothing is left to do or MAX_PASSES is reached; then publish the status. A gateway that is
// gone is cleaned up (its replicas drain first); an invalid one only gets a status saying why.
import { formatIssue } from "../api/issues.js";
import type { EgressGateway } from "../api/schemas/egress.js";
import { validateResource } from "../api/validate.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import type { Problem } from "./actions.js";
import { cleanupGateway } from "./cleanup.js";
import type { ActionExecutor } from "./execute.js";
import { gatewayActions } from "./gateway-actions.js";
import { readGatewayState, type ClusterState } from "./observe.js";
import { publishGatewayStatus } from "./publish-status.js";
import { gatewayStatus, invalidSpecStatus } from "./status.js";
import { parseGatewayKey } from "./views.js";

/** Decide → act rounds per sync before the status is written regardless. */
const MAX_PASSES = 4;

/** What a sync reports back to the queue. */
export interface SyncOutcome {
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  store: Datastore;
  log: Logger;
  executor: ActionExecutor;
  /** The clock (ms since the epoch) the decision and the status use. */
  now: () => number;
  unbackedGraceMs: number;
}

/** One reconcile of the gateway `namespace/name` (`key`). */
export const syncGateway = async (
  ctx: ReconcileContext,
  key: string,
): Promise<Result<SyncOutcome, string>> => {
  const { store, log } = ctx;
  const ref = parseGatewayKey(key);
  if (!ref) return ok({});
  const isoNow = (): string => new Date(ctx.now()).toISOString();
  let actionProblems: Problem[] = [];
  let cluster: ClusterState | undefined;
  for (let pass = 1; ; pass++) {
    const got = await store.get({ kind: "EgressGateway", namespace: ref.namespace, name: ref.name });
    if (!got.ok) {
      if (got.error.code !== "NotFound") return err(`reading EgressGateway ${key}: ${got.error.message}`);
      return cleanupGateway(ctx, ref.namespace, ref.name);
    }
    const raw = got.value;
    const { status: _status, ...withoutStatus } = raw;
    const valid = validateResource(withoutStatus);
    if (!valid.ok) {
      const messages = valid.error.map(formatIssue);
      log.warn("invalid EgressGateway, replicas left as they are", { gateway: key, issues: messages });
      const written = await publishGatewayStatus(store, raw, (prev) =>
        invalidSpecStatus(messages, prev, isoNow()),
      );
      return written.ok ? ok({}) : written;
    }
    const gw = valid.value as EgressGateway;
    const state = await readGatewayState(store, ref.namespace, key, cluster);
    if (!state.ok) return state;
    cluster = state.value;
    const decided = gatewayActions({
      gateway: gw,
      ...state.value,
      nowMs: ctx.now(),
      unbackedGraceMs: ctx.unbackedGraceMs,
    });
    if (decided.actions.length === 0 || pass >= MAX_PASSES) {
      const written = await publishGatewayStatus(store, raw, (prev) =>
        gatewayStatus({ ...decided, problems: [...decided.problems, ...actionProblems] }, prev, isoNow()),
      );
      if (!written.ok) return written;
      // Still acting after MAX_PASSES (e.g. an action keeps failing): come back soon.
      const requeueAfterMs = decided.actions.length > 0 ? 1000 : decided.requeueAfterMs;
      return ok(requeueAfterMs === undefined ? {} : { requeueAfterMs });
    }
    actionProblems = await ctx.executor.run(gw, decided.actions, state.value.pools);
  }
};
