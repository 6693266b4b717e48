// The lab router's BIRD (pure): its config, where it lives in the state dir, the argv that runs it
// in the router namespace, and the BGP resources `egw up` applies so the nodes peer with it. The
// router stands in for the network team's upstream router: one eBGP session per node, BFD on each,
// everything the nodes announce accepted and installed into the router's kernel (that is how
// replies find the egress IPs), nothing announced back. Lab-only: egw never configures a real
// router, so this lives with the lab rather than in routing/ (which renders the nodes' BIRD).
// Starting, reloading and querying the process is I/O elsewhere (up.ts, router-control.ts).
import { join } from "node:path";
import type { Resource } from "../api/meta.js";
import { inNetns } from "./exec.js";
import type { LabNode, LabTopology } from "./topology.js";

export const ROUTER_BIRD_COMPONENT = "bird-router";
/** The router's AS (the network's) and the cluster's (every node's), as in Calico's docs. */
export const LAB_ROUTER_AS = 64513;
export const LAB_CLUSTER_AS = 64512;
/** The BGPPeer `egw up` applies for the router, and the BGPConfiguration every cluster reads. */
export const LAB_ROUTER_PEER_NAME = "lab-router";
export const BGP_CONFIGURATION_NAME = "default";
/**
 * Hold time of the router's sessions. Short, as a lab can afford: without BFD a dead node's routes
 * go when it expires (BIRD's default is 240 s). BFD is what makes withdrawal fast.
 */
export const LAB_HOLD_TIME_SECONDS = 9;
/** BFD timers: a dead node is declared down after interval × multiplier (0.3 s). */
export const LAB_BFD = { minIntervalMs: 100, multiplier: 3 } as const;

/**
 * How BFD runs on the sessions; the nodes' BIRD and the router must agree. `multihop`: the BGP
 * sessions are multihop, so BFD uses the multihop port 4784 (RFC 5883) and keeps off 3784, which
 * the agents' gateway liveness owns on the node IP.
 */
export type BfdMode = "multihop" | "single-hop";
export const LAB_BFD_MODE: BfdMode = "multihop";

export interface RouterBirdInput {
  routerIp: string;
  nodes: readonly Pick<LabNode, "name" | "underlayIp">[];
  /** BFD on the sessions (the default); false keeps only the hold timer (for comparison). */
  bfd?: boolean;
  bfdMode?: BfdMode;
  holdTimeSeconds?: number;
}

/** ISO 8601 with milliseconds and offset: 2026-11-28T13:03:11.149+0000. */
export const ROUTER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%3f%z";

/** BIRD protocol names allow letters, digits and `_`: node-1 → node_1. */
export const routerProtocolName = (node: string): string => node.replace(/[^A-Za-z0-9_]/g, "_");

/** The router's bird.conf. */
export const renderRouterBirdConfig = (input: RouterBirdInput): string => {
  const bfd = input.bfd ?? true;
  const multihop = (input.bfdMode ?? LAB_BFD_MODE) === "multihop";
  const hold = input.holdTimeSeconds ?? LAB_HOLD_TIME_SECONDS;
  const keepalive = Math.max(1, Math.floor(hold / 3));
  const timers = `min rx interval ${LAB_BFD.minIntervalMs} ms; min tx interval ${LAB_BFD.minIntervalMs} ms; multiplier ${LAB_BFD.multiplier};`;
  const lines = [
    "# The lab router's BIRD, written by egw up (lab/router-bird.ts); not edited by hand.",
    `router id ${input.routerIp};`,
    "log stderr { info, remote, warning, error, auth, fatal, bug };",
    // Full dates without blanks (routing/bird-status.ts reads them), to the millisecond.
    `timeformat route "${ROUTER_TIME_FORMAT}";`,
    `timeformat protocol "${ROUTER_TIME_FORMAT}";`,
    "",
    "protocol device {}",
    // The underlay in BIRD's table: multihop sessions resolve their next hops through it.
    "protocol direct { ipv4; }",
    // Learned routes into the router's kernel (proto bird); nothing else, never read back.
    "protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }",
  ];
  if (bfd) {
    lines.push(
      "protocol bfd {",
      // Multihop only: BIRD then opens 4784 and never 3784 (as the nodes' BIRD must).
      ...(multihop
        ? ["  accept ipv4 multihop;", `  multihop { ${timers} };`]
        : [`  interface "*" { ${timers} };`]),
      "}",
    );
  }
  for (const node of input.nodes) {
    lines.push(
      "",
      `protocol bgp ${routerProtocolName(node.name)} {`,
      `  description "${node.name}";`,
      `  local ${input.routerIp} as ${LAB_ROUTER_AS};`,
      `  neighbor ${node.underlayIp} as ${LAB_CLUSTER_AS};`,
      ...(multihop ? ["  multihop;"] : []),
      `  hold time ${hold}; keepalive time ${keepalive};`,
      // Back soon after a node returns (defaults: 120 s retry, 60 s wait after an error).
      "  connect retry time 5; error wait time 1, 10;",
      // A dead node's routes go at once: no graceful-restart helper keeping them as stale.
      "  graceful restart off; long lived graceful restart off;",
      `  bfd ${bfd ? "on" : "off"};`,
      "  ipv4 { import all; export none; };",
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
};

export const routerBirdPaths = (stateDir: string) => ({
  dir: join(stateDir, "bird", "router"),
  config: join(stateDir, "bird", "router", "bird.conf"),
  socket: join(stateDir, "bird", "router", "bird.ctl"),
});

/** `bird` in the foreground in the router namespace (its log is the component's). */
export const routerBirdArgv = (stateDir: string, t: Pick<LabTopology, "netns">): string[] => {
  const p = routerBirdPaths(stateDir);
  return inNetns(t.netns.rtr, "bird", ["-f", "-c", p.config, "-s", p.socket]);
};

/**
 * What a user applies so the cluster's nodes peer with the router: BGP on with the cluster's AS,
 * and the router as a peer of every node, BFD on. Visible and editable like any resource.
 */
export const labBgpResources = (t: Pick<LabTopology, "routerIp">): Resource[] => [
  {
    apiVersion: "egw.dev/v1",
    kind: "BGPConfiguration",
    metadata: { name: BGP_CONFIGURATION_NAME },
    spec: { asNumber: LAB_CLUSTER_AS },
  },
  {
    apiVersion: "egw.dev/v1",
    kind: "BGPPeer",
    metadata: { name: LAB_ROUTER_PEER_NAME },
    spec: {
      peerIP: t.routerIp,
      asNumber: LAB_ROUTER_AS,
      bfd: true,
      holdTimeSeconds: LAB_HOLD_TIME_SECONDS,
    },
  },
];
