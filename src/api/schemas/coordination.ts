// Kubernetes' coordination.k8s.io/v1 Lease, as egw uses it: each node's agent renews the lease
// `egw-agent-<node>` in namespace egw-system, and the controller judges a node lost when the
// renewTime stops changing (on the controller's own clock, so clock skew does not matter).
import { Type, type Static } from "@sinclair/typebox";
import { COORDINATION_API_VERSION } from "../kinds.js";
import { header, INT32_MAX, Strict } from "./common.js";

export const LeaseSchema = Strict({
  ...header(COORDINATION_API_VERSION, "Lease"),
  spec: Type.Optional(
    Strict({
      holderIdentity: Type.Optional(Type.String({ description: "who holds the lease (the agent's node)" })),
      leaseDurationSeconds: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: INT32_MAX,
          description: "how long the holder considers the lease valid after renewTime",
        }),
      ),
      acquireTime: Type.Optional(Type.String({ description: "RFC 3339 time the holder took the lease" })),
      renewTime: Type.Optional(Type.String({ description: "RFC 3339 time of the holder's last renewal" })),
      leaseTransitions: Type.Optional(Type.Integer({ minimum: 0, maximum: INT32_MAX })),
    }),
  ),
});

export type Lease = Static<typeof LeaseSchema>;
