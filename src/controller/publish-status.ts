// Writes an EgressGateway's status (I/O): computed from the stored status by a pure function
// (status.ts), written only when it changes, with compare-and-swap so the user's concurrent spec
// edits are never overwritten (datastore/read-modify-write).
import type { Resource } from "../api/meta.js";
import type { EgressGatewayStatus } from "../api/schemas/egress.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import { refOf } from "../api/meta.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { sameStatus } from "./status.js";

/**
 * Writes `compute(previous status)` on the gateway, starting from `current` (as the caller read
 * it) and again from a fresh read after a conflict. A gateway deleted meanwhile is not an error.
 */
export const publishGatewayStatus = async (
  store: Datastore,
  current: Resource,
  compute: (prev: EgressGatewayStatus | undefined) => EgressGatewayStatus,
): Promise<Result<void, string>> => {
  const r = await readModifyWrite(
    store,
    refOf(current),
    (gw) => {
      const prev = gw.status as EgressGatewayStatus | undefined;
      const next = compute(prev);
      return sameStatus(prev, next) ? undefined : { ...gw, status: next };
    },
    { current },
  );
  return r.ok ? ok(undefined) : err(`writing status: ${r.error.message}`);
};
