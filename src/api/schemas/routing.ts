// Routing resources: BGPConfiguration and BGPPeer (how nodes announce egress IPs to routers, in
// Calico's shape) and FirewallFeed (a custom address group of egress IPs that firewalls fetch).
// Cluster-scoped, as Calico's. Secrets they refer to are core Secrets in SECRET_NAMESPACE.
import { Type, type Static } from "@sinclair/typebox";
import { EGW_API_VERSION } from "../kinds.js";
import { header, StringEnum, Strict } from "./common.js";

/** 4-byte AS numbers (RFC 6793); 0 is reserved. */
export const ASN_MAX = 4294967295;

export const BGP_LIMITS = {
  asNumber: { min: 1, max: ASN_MAX },
  port: { min: 1, max: 65535 },
  bfdMinIntervalMs: { min: 10, max: 60_000 },
  bfdMultiplier: { min: 1, max: 255 },
  /** RFC 4271: 0 (no keepalives) or 3 s and more; BIRD accepts exactly that. */
  holdTimeSeconds: { min: 3, max: 65535 },
  publishDelaySeconds: { min: 0, max: 86_400 },
} as const;

const AsNumber = (description: string) =>
  Type.Integer({
    minimum: BGP_LIMITS.asNumber.min,
    maximum: BGP_LIMITS.asNumber.max,
    description,
    expected:
      "an AS number from 1 to 4294967295 (4-byte ASNs; private ranges 64512-65534 and 4200000000-4294967294)",
  });

/** A key of a core Secret in the egw system namespace (SECRET_NAMESPACE). */
export const SecretKeyRefSchema = Strict(
  {
    name: Type.String({ description: "Name of a Secret in namespace egw-system" }),
    key: Type.String({ description: "Key in the Secret's data or stringData" }),
  },
  "A key of a Secret in namespace egw-system (the namespace the egw daemons run in)",
);

export const BGPCommunitySchema = Strict({
  name: Type.String({ description: "Name that advertise.communities may use instead of the value" }),
  value: Type.String({
    description: 'A standard community "A:B" (each 0-65535) or a large community "A:B:C" (each 0-4294967295)',
  }),
});

export const BGPConfigurationSpecSchema = Strict({
  enabled: Type.Optional(
    Type.Boolean({
      description: "Default true. false (or no BGPConfiguration named default) = nodes run no BGP sessions",
    }),
  ),
  asNumber: Type.Optional(AsNumber("The nodes' AS number; default 64512")),
  listenPort: Type.Optional(
    Type.Integer({
      minimum: BGP_LIMITS.port.min,
      maximum: BGP_LIMITS.port.max,
      description: "TCP port the nodes' BGP speaker uses; default 179",
      expected: "a TCP port from 1 to 65535",
    }),
  ),
  communities: Type.Optional(
    Type.Array(BGPCommunitySchema, { description: "Named communities; names are unique" }),
  ),
  advertise: Type.Optional(
    Strict(
      {
        ipPools: Type.Optional(
          Type.Array(Type.String(), {
            uniqueItems: true,
            description:
              "Names of the IPPools whose egress IPs are announced; absent or empty = every pool with allowedUses EgressGateway",
          }),
        ),
        communities: Type.Optional(
          Type.Array(Type.String(), {
            uniqueItems: true,
            description:
              "Communities attached to every announcement: names from spec.communities or literal values",
          }),
        ),
      },
      "Which egress IPs the nodes announce (each as a /32 with the node as next hop)",
    ),
  ),
  bfd: Type.Optional(
    Strict(
      {
        minIntervalMs: Type.Optional(
          Type.Integer({
            minimum: BGP_LIMITS.bfdMinIntervalMs.min,
            maximum: BGP_LIMITS.bfdMinIntervalMs.max,
            description: "BFD transmit and receive interval in milliseconds; default 100",
            expected: "an integer from 10 to 60000 (milliseconds)",
          }),
        ),
        multiplier: Type.Optional(
          Type.Integer({
            minimum: BGP_LIMITS.bfdMultiplier.min,
            maximum: BGP_LIMITS.bfdMultiplier.max,
            description: "Missed BFD packets before a session is down; default 3",
            expected: "an integer from 1 to 255",
          }),
        ),
      },
      "BFD timing of the peers that have bfd on. Detection time = minIntervalMs × multiplier",
    ),
  ),
});

export const BGPConfigurationSchema = Strict({
  ...header(EGW_API_VERSION, "BGPConfiguration"),
  spec: Type.Optional(BGPConfigurationSpecSchema),
});

export const BGPPeerSpecSchema = Strict({
  peerIP: Type.String({ description: "IPv4 address of the router (IPv6 peers are not supported)" }),
  asNumber: AsNumber("The router's AS number"),
  node: Type.Optional(
    Type.String({ description: "Only this node peers with the router (not together with nodeSelector)" }),
  ),
  nodeSelector: Type.Optional(
    Type.String({
      description:
        "The nodes that peer with the router, by Node labels (not together with node); absent (and no node) = all nodes",
    }),
  ),
  bfd: Type.Optional(
    Type.Boolean({ description: "BFD on the session (timing from BGPConfiguration); default true" }),
  ),
  holdTimeSeconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: BGP_LIMITS.holdTimeSeconds.max,
      description: "BGP hold time; keepalives every third of it; 0 = no hold timer; default 90",
      expected: "0 (no hold timer) or an integer from 3 to 65535 (seconds)",
    }),
  ),
  password: Type.Optional(
    Strict(
      { secretKeyRef: SecretKeyRefSchema },
      "TCP MD5 password of the session, from a Secret in namespace egw-system",
    ),
  ),
});

export const BGPPeerSchema = Strict({
  ...header(EGW_API_VERSION, "BGPPeer"),
  spec: BGPPeerSpecSchema,
});

export const FEED_FORMATS = ["paloalto", "fortigate", "checkpoint", "json"] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

export const FirewallFeedAuthSchema = Strict(
  {
    bearerTokenSecretRef: Type.Optional(SecretKeyRefSchema),
    basic: Type.Optional(
      Strict(
        {
          secretRef: Strict(
            { name: Type.String({ description: "Name of a Secret in namespace egw-system" }) },
            "A Secret with keys username and password (type kubernetes.io/basic-auth)",
          ),
        },
        "HTTP basic authentication",
      ),
    ),
  },
  "Exactly one of bearerTokenSecretRef or basic; absent = the feed is public",
);

export const FirewallFeedSpecSchema = Strict({
  selector: Type.String({
    description: "EgressGateways whose replicas' egress IPs are the entries, by the gateways' labels",
  }),
  namespaceSelector: Type.Optional(
    Type.String({ description: "Namespaces of those gateways, by Namespace labels; absent = all()" }),
  ),
  formats: Type.Optional(
    Type.Array(StringEnum(FEED_FORMATS), {
      minItems: 1,
      uniqueItems: true,
      description: "Formats the feed is served in; default all four",
    }),
  ),
  publishDelaySeconds: Type.Optional(
    Type.Integer({
      minimum: BGP_LIMITS.publishDelaySeconds.min,
      maximum: BGP_LIMITS.publishDelaySeconds.max,
      description:
        "How long a new replica waits, after its IP is in the feed, before it takes traffic (firewalls poll); default 0",
      expected: "an integer from 0 to 86400 (seconds)",
    }),
  ),
  auth: Type.Optional(FirewallFeedAuthSchema),
});

export const FirewallFeedStatusSchema = Strict({
  url: Type.Optional(Type.String({ description: "Base URL of the feed; the format by suffix or ?format=" })),
  entries: Type.Optional(Type.Integer({ minimum: 0, description: "Number of addresses in the feed" })),
  lastChange: Type.Optional(Type.String({ description: "RFC 3339 time the entries last changed" })),
});

export const FirewallFeedSchema = Strict({
  ...header(EGW_API_VERSION, "FirewallFeed"),
  spec: FirewallFeedSpecSchema,
  status: Type.Optional(FirewallFeedStatusSchema),
});

export type SecretKeyRef = Static<typeof SecretKeyRefSchema>;
export type BGPCommunity = Static<typeof BGPCommunitySchema>;
export type BGPConfigurationSpec = Static<typeof BGPConfigurationSpecSchema>;
export type BGPConfiguration = Static<typeof BGPConfigurationSchema>;
export type BGPPeerSpec = Static<typeof BGPPeerSpecSchema>;
export type BGPPeer = Static<typeof BGPPeerSchema>;
export type FirewallFeedAuth = Static<typeof FirewallFeedAuthSchema>;
export type FirewallFeedSpec = Static<typeof FirewallFeedSpecSchema>;
export type FirewallFeedStatus = Static<typeof FirewallFeedStatusSchema>;
export type FirewallFeed = Static<typeof FirewallFeedSchema>;
