// Names, id bands and tunables of the egress dataplane: the fwmark, table and rule-priority band
// (band.ts, slots given out by slots.ts) and the nexthop-id band are all the dataplane's own.
import { EGRESS_VXLAN_PORT, EGRESS_VXLAN_VNI, GATEWAY_HEALTH_PORT } from "../api/well-known.js";
import {
  inOwnedTables,
  LIVENESS_RULE_PRIORITY,
  LIVENESS_TABLE,
  MARK_MASK,
  RULE_PRIORITY_FIRST,
  RULE_PRIORITY_LAST,
  TABLE_FIRST,
  TABLE_LAST,
} from "./band.js";

export {
  LIVENESS_RULE_PRIORITY,
  LIVENESS_TABLE,
  MARK_MASK,
  RULE_PRIORITY_FIRST,
  RULE_PRIORITY_LAST,
  TABLE_FIRST,
  TABLE_LAST,
};

/** The egress VXLAN device on nodes and gateways (<= 15 bytes). */
export const VXLAN_DEVICE = "egw.vxlan";
/** nft table of a client node, and of a gateway replica. */
export const NODE_NFT_TABLE = "egw";
export const GATEWAY_NFT_TABLE = "egw_gw";
/** Chain egress policy compiles into; the node ruleset jumps to it for workload traffic. */
export const POLICY_CHAIN = "egw_policy";

/**
 * UDP port of BFD control packets (RFC 5881): the liveness rules route packets to and from it
 * through the tunnel, and the gateway accepts it on the tunnel device.
 */
export const LIVENESS_PORT = 3784;

/** Nexthop object ids egw owns (the id space is per netns; others' nexthops stay untouched). */
export const NEXTHOP_ID_FIRST = 20_000_000;
export const NEXTHOP_ID_LAST = 20_999_999;

export const inRuleBand = (priority: number): boolean =>
  priority >= RULE_PRIORITY_FIRST && priority <= RULE_PRIORITY_LAST;
/** Tables egw owns: the slot tables and the liveness table just below them. */
export const inTableBand = inOwnedTables;
export const inNexthopBand = (id: number): boolean => id >= NEXTHOP_ID_FIRST && id <= NEXTHOP_ID_LAST;

export interface DataplaneOptions {
  vni: number;
  port: number;
  /** Tunnel MTU: the underlay MTU minus 50 bytes of VXLAN overhead. */
  mtu: number;
  /** Host-side interface name prefixes of workloads (`ew` in the lab, `cali` with Calico…). */
  workloadInterfacePrefixes: string[];
  /** Destinations that never go to a gateway besides the workload CIDRs (node, service CIDRs). */
  clusterCidrs: string[];
  /** Resilient nexthop group shape: bucket count (fixed for a group's life) and idle timer. */
  resilientBuckets: number;
  resilientIdleTimerSec: number;
  /** Gateway health port (accepted by the gateway's input filter). */
  healthPort: number;
}

export const DEFAULT_OPTIONS: DataplaneOptions = {
  vni: EGRESS_VXLAN_VNI,
  port: EGRESS_VXLAN_PORT,
  mtu: 1450,
  workloadInterfacePrefixes: ["ew"],
  clusterCidrs: [],
  resilientBuckets: 128,
  resilientIdleTimerSec: 60,
  healthPort: GATEWAY_HEALTH_PORT,
};

export const withDefaults = (o: Partial<DataplaneOptions> = {}): DataplaneOptions => ({
  ...DEFAULT_OPTIONS,
  ...o,
});
