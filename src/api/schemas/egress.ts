// Egress resources: IPPool, EgressGateway, EgressGatewayPolicy and the internal IPAllocation.
// Field names and defaults follow Calico's where the concept is the same.
import { Type, type Static } from "@sinclair/typebox";
import { EGW_API_VERSION } from "../kinds.js";
import { ConditionSchema, header, Int32, StringEnum, StringMap, Strict } from "./common.js";

export const IP_POOL_USES = ["Workload", "EgressGateway"] as const;

export const IPPoolSpecSchema = Strict({
  cidr: Type.String({ description: "The pool's network, e.g. 10.10.0.0/24 (immutable)" }),
  blockSize: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 128,
      description:
        "Prefix length of the blocks handed to nodes: 20-32 for IPv4 (default 26), 116-128 for IPv6 (default 122)",
      expected: "a prefix length: 20-32 for IPv4 pools, 116-128 for IPv6 pools",
    }),
  ),
  allowedUses: Type.Optional(
    Type.Array(StringEnum(IP_POOL_USES), {
      minItems: 1,
      uniqueItems: true,
      description: "Default [Workload]",
    }),
  ),
  natOutgoing: Type.Optional(
    Type.Boolean({ description: "SNAT traffic leaving the cluster to the node IP" }),
  ),
  disableBGPExport: Type.Optional(Type.Boolean()),
  nodeSelector: Type.Optional(
    Type.String({ description: "Selector of the nodes that may use the pool; default all()" }),
  ),
});

export const IPPoolSchema = Strict({ ...header(EGW_API_VERSION, "IPPool"), spec: IPPoolSpecSchema });

const PoolRefSchema = Strict(
  {
    name: Type.Optional(Type.String()),
    cidr: Type.Optional(Type.String()),
  },
  "An IPPool by name or by cidr (if both, they must name the same pool)",
);

const probeFields = {
  intervalMs: Type.Optional(Int32({ minimum: 1, description: "Time between probes in milliseconds" })),
  timeoutMs: Type.Optional(
    Int32({
      minimum: 1,
      description: "Not ready after this long without a successful probe; must be >= intervalMs",
    }),
  ),
};

/** Bounds of spec.failureDetection.liveness (the agents' data-path sessions with each replica). */
export const LIVENESS_LIMITS = {
  intervalMs: { min: 50, max: 60_000 },
  multiplier: { min: 1, max: 255 },
  holdDownMs: { min: 0, max: 600_000 },
} as const;

export const LivenessSchema = Strict(
  {
    intervalMs: Type.Optional(
      Type.Integer({
        minimum: LIVENESS_LIMITS.intervalMs.min,
        maximum: LIVENESS_LIMITS.intervalMs.max,
        description: "Time between liveness packets in each direction, in milliseconds; default 100",
        expected:
          "an integer from 50 to 60000 (milliseconds): below 50 ms a busy node's scheduling and garbage-collection pauses would make live replicas look dead",
      }),
    ),
    multiplier: Type.Optional(
      Type.Integer({
        minimum: LIVENESS_LIMITS.multiplier.min,
        maximum: LIVENESS_LIMITS.multiplier.max,
        description: "Intervals without a packet before a replica is down (BFD detect multiplier); default 3",
        expected:
          "an integer from 1 to 255: the number of missed packets before a replica is down (0 would declare every replica down)",
      }),
    ),
    holdDownMs: Type.Optional(
      Type.Integer({
        minimum: LIVENESS_LIMITS.holdDownMs.min,
        maximum: LIVENESS_LIMITS.holdDownMs.max,
        description:
          "How long a replica that came back stays out of new connections (no flapping), in milliseconds; default 2000",
        expected: "an integer from 0 to 600000 (milliseconds)",
      }),
    ),
  },
  "Data-path liveness between each client node and each replica (BFD through the egress tunnel). Detection time = intervalMs × multiplier",
);

export const FailureDetectionSchema = Strict(
  {
    liveness: Type.Optional(LivenessSchema),
    icmpProbe: Type.Optional(
      Strict(
        { ips: Type.Array(Type.String(), { minItems: 1 }), ...probeFields },
        "Default interval 5000, timeout 15000",
      ),
    ),
    httpProbe: Type.Optional(
      Strict(
        { urls: Type.Array(Type.String(), { minItems: 1 }), ...probeFields },
        "Any HTTP response counts as success. Default interval 10000, timeout 30000",
      ),
    ),
  },
  "At least one of icmpProbe, httpProbe, liveness; with both probes, one of each must succeed for readiness",
);

export const RollingUpdateSchema = Strict(
  {
    maxSurge: Type.Optional(
      Int32({ description: "Replicas created beyond spec.replicas while replicas are replaced; default 1" }),
    ),
    maxUnavailable: Type.Optional(
      Int32({
        description:
          "Replicas below spec.replicas that may be unavailable meanwhile; default 0 (not 0 if maxSurge is 0)",
      }),
    ),
  },
  "How replicas are replaced (a template change, a cordoned node, a pool change): surge new ones, drain old ones",
);

export const EgressGatewaySpecSchema = Strict({
  replicas: Type.Optional(Int32({ description: "Default 1" })),
  strategy: Type.Optional(Strict({ rollingUpdate: Type.Optional(RollingUpdateSchema) })),
  ipPools: Type.Array(PoolRefSchema, { minItems: 1 }),
  template: Type.Optional(
    Strict({
      metadata: Type.Optional(
        Strict({
          labels: Type.Optional(StringMap("Labels of the replicas; default egw.dev/gateway: <name>")),
          annotations: Type.Optional(StringMap()),
        }),
      ),
      spec: Type.Optional(
        Strict({
          nodeSelector: Type.Optional(StringMap()),
          terminationGracePeriodSeconds: Type.Optional(
            Int32({ description: "Drain time in seconds (>= 0); default 30" }),
          ),
        }),
      ),
    }),
  ),
  failureDetection: Type.Optional(FailureDetectionSchema),
});

export const EgressGatewayStatusSchema = Strict({
  replicas: Type.Optional(
    Type.Array(
      Strict({
        name: Type.String(),
        node: Type.Optional(Type.String()),
        egressIP: Type.Optional(Type.String()),
        ready: Type.Boolean(),
      }),
    ),
  ),
  conditions: Type.Optional(Type.Array(ConditionSchema)),
});

export const EgressGatewaySchema = Strict({
  ...header(EGW_API_VERSION, "EgressGateway"),
  spec: EgressGatewaySpecSchema,
  status: Type.Optional(EgressGatewayStatusSchema),
});

/**
 * Which of a rule's matching replicas a workload uses: all (None), those on its own node
 * (PreferNodeLocal) or those in its node's zone (PreferSameZone), the latter two while any of them
 * is usable, else all.
 */
export const GATEWAY_PREFERENCES = ["None", "PreferNodeLocal", "PreferSameZone"] as const;
export type GatewayPreference = (typeof GATEWAY_PREFERENCES)[number];

/** "None, PreferNodeLocal or PreferSameZone", for error messages. */
export const GATEWAY_PREFERENCE_CHOICES = `${GATEWAY_PREFERENCES.slice(0, -1).join(", ")} or ${GATEWAY_PREFERENCES.at(-1) ?? ""}`;

export const isGatewayPreference = (v: string): v is GatewayPreference =>
  (GATEWAY_PREFERENCES as readonly string[]).includes(v);

export const EgressGatewayPolicyRuleSchema = Strict({
  description: Type.Optional(Type.String()),
  destination: Type.Optional(Strict({ cidr: Type.String() }, "Default 0.0.0.0/0")),
  gateway: Type.Optional(
    Strict(
      {
        selector: Type.String({ description: "Selects gateway replicas by their labels" }),
        namespaceSelector: Type.String({ description: "Selects the namespaces of those gateways" }),
        maxNextHops: Type.Optional(
          Int32({ description: "Most gateways one workload uses; 0 = all (default)" }),
        ),
      },
      "Omitted: traffic to this destination skips the gateways",
    ),
  ),
  gatewayPreference: Type.Optional(StringEnum(GATEWAY_PREFERENCES, { description: "Default None" })),
});

export const EgressGatewayPolicySchema = Strict({
  ...header(EGW_API_VERSION, "EgressGatewayPolicy"),
  spec: Strict({
    rules: Type.Array(EgressGatewayPolicyRuleSchema, {
      minItems: 1,
      description: "Matched by longest destination prefix, not in order",
    }),
  }),
});

export const IPAllocationSchema = Strict({
  ...header(EGW_API_VERSION, "IPAllocation"),
  spec: Strict({
    pool: Type.String({ description: "Name of the IPPool" }),
    ip: Type.String(),
    owner: Strict(
      {
        namespace: Type.String({ description: "Namespace of the EgressGateway" }),
        gateway: Type.String({ description: "Name of the EgressGateway" }),
        replica: Type.String({ description: "Name of the gateway replica holding the IP" }),
      },
      "The gateway replica holding the IP",
    ),
  }),
});

export type IPPoolSpec = Static<typeof IPPoolSpecSchema>;
export type IPPool = Static<typeof IPPoolSchema>;
export type EgressGatewaySpec = Static<typeof EgressGatewaySpecSchema>;
export type EgressGatewayStatus = Static<typeof EgressGatewayStatusSchema>;
export type EgressGateway = Static<typeof EgressGatewaySchema>;
export type RollingUpdate = Static<typeof RollingUpdateSchema>;
export type FailureDetection = Static<typeof FailureDetectionSchema>;
export type Liveness = Static<typeof LivenessSchema>;
export type EgressGatewayPolicyRule = Static<typeof EgressGatewayPolicyRuleSchema>;
export type EgressGatewayPolicy = Static<typeof EgressGatewayPolicySchema>;
export type IPAllocation = Static<typeof IPAllocationSchema>;
