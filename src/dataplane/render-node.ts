// NodePlan → what the client node's kernel must hold (pure). The nft ruleset is rendered as one
// atomic table replacement; routing objects are rendered as desired state that the diff turns
// into `ip -batch` lines against what the kernel already has (so restarts adopt, not rebuild).
import { macForIp } from "../calc/mac.js";
import type { WorkloadPlan } from "../calc/plan.js";
import { err, ok, type Result } from "../util/result.js";
import {
  MARK_MASK,
  NODE_NFT_TABLE,
  POLICY_CHAIN,
  RULE_PRIORITY_FIRST,
  VXLAN_DEVICE,
  inTableBand,
  withDefaults,
  type DataplaneOptions,
} from "./config.js";
import type { KernelNodePlan } from "./kernel-plan.js";
import { renderAccessPlan } from "./render-policy.js";
import type {
  DesiredGroup,
  DesiredRule,
  DesiredTableRoute,
  NftShape,
  Sysctls,
  TunnelPeer,
  VxlanLink,
} from "./model.js";
import {
  canonicalMac,
  cidr4,
  elements,
  hex,
  ipv4,
  replaceTableText,
  validIfname,
  validIfnamePrefix,
  type TableBody,
} from "./nft-text.js";

/** Rules the egress-policy compiler (docs/policy.md) adds: definitions go in the table, rules in egw_policy. */
export interface PolicyHook {
  definitions: string[];
  rules: string[];
  /** Extra chains the definitions declare, with their rule counts (for drift detection). */
  chains?: Record<string, number>;
}

export interface NodeDesired {
  link: VxlanLink;
  sysctls: Sysctls;
  peers: TunnelPeer[];
  groups: DesiredGroup[];
  routes: DesiredTableRoute[];
  rules: DesiredRule[];
}

export interface NodeRender {
  nft: string;
  shape: NftShape;
  desired: NodeDesired;
}

export const groupKey = (table: number, dst: string): string => `${table} ${dst}`;

/** sysctls of a client node: L4 ECMP hashing, and reverse-path checks that honour our marks. */
export const nodeSysctls = (): Sysctls => ({
  "net/ipv4/fib_multipath_hash_policy": "1",
  [`net/ipv4/conf/${VXLAN_DEVICE}/src_valid_mark`]: "1",
  [`net/ipv4/conf/${VXLAN_DEVICE}/rp_filter`]: "2",
});

const notMask = (): number => ~MARK_MASK >>> 0;
/** Set our mark bits to `value`, keeping every bit outside the mask. */
const setMeta = (value: number): string => `meta mark set meta mark and ${hex(notMask())} or ${hex(value)}`;
const setCt = (value: number): string => `ct mark set ct mark and ${hex(notMask())} or ${hex(value)}`;

interface Checked {
  workloads: WorkloadPlan[];
  errors: string[];
}

function checkPlan(plan: KernelNodePlan, o: DataplaneOptions): Checked {
  const errors: string[] = [];
  const at = `NodePlan of node "${plan.node}"`;
  if (ipv4(plan.nodeIP) === undefined) errors.push(`${at}: nodeIP "${plan.nodeIP}" is not an IPv4 address`);
  plan.workloadCidrs.forEach((c, i) => {
    if (cidr4(c) === undefined) errors.push(`${at}: workloadCidrs[${i}] "${c}" is not an IPv4 CIDR`);
  });
  o.clusterCidrs.forEach((c, i) => {
    if (cidr4(c) === undefined)
      errors.push(`dataplane options: clusterCidrs[${i}] "${c}" is not an IPv4 CIDR`);
  });
  o.workloadInterfacePrefixes.forEach((p, i) => {
    if (!validIfnamePrefix(p))
      errors.push(
        `dataplane options: workloadInterfacePrefixes[${i}] "${p}" must be 1-14 of [A-Za-z0-9_.:@+-]`,
      );
  });
  const setKeys = new Set(plan.gatewaySets.map((s) => s.key));
  const marks = new Map<number, string>();
  const tables = new Map<number, string>();
  plan.gatewaySets.forEach((s, i) => {
    const p = `${at}: gatewaySets[${i}] (${s.key})`;
    if (!Number.isInteger(s.mark) || (s.mark & ~MARK_MASK) !== 0 || (s.mark & MARK_MASK) === 0)
      errors.push(`${p}: mark ${hex(s.mark)} must be non-zero and inside egw's mark mask ${hex(MARK_MASK)}`);
    if (!Number.isInteger(s.table) || !inTableBand(s.table))
      errors.push(`${p}: table ${s.table} is outside egw's table band`);
    if (marks.has(s.mark)) errors.push(`${p}: mark ${hex(s.mark)} is also used by ${marks.get(s.mark)}`);
    if (tables.has(s.table)) errors.push(`${p}: table ${s.table} is also used by ${tables.get(s.table)}`);
    marks.set(s.mark, s.key);
    tables.set(s.table, s.key);
    s.routes.forEach((r, j) => {
      if (cidr4(r.destination) === undefined)
        errors.push(`${p}: routes[${j}].destination "${r.destination}" is not an IPv4 CIDR`);
      if (r.action === "gateways") {
        if (r.hops.length === 0) errors.push(`${p}: routes[${j}] has action "gateways" but no hops`);
        r.hops.forEach((h, k) => {
          if (ipv4(h.ip) === undefined) errors.push(`${p}: routes[${j}].hops[${k}].ip "${h.ip}" is not IPv4`);
        });
      }
    });
  });
  plan.tunnelPeers.forEach((h, i) => {
    const p = `${at}: tunnelPeers[${i}] (${h.replica})`;
    if (ipv4(h.ip) === undefined) errors.push(`${p}: ip "${h.ip}" is not an IPv4 address`);
    if (ipv4(h.vtep) === undefined) errors.push(`${p}: vtep "${h.vtep}" is not an IPv4 address`);
    if (canonicalMac(h.mac) === undefined) errors.push(`${p}: mac "${h.mac}" is not a MAC address`);
  });
  const workloads = plan.workloads;
  workloads.forEach((w, i) => {
    const p = `${at}: workloads[${i}] (${w.namespace}/${w.name})`;
    if (ipv4(w.ip) === undefined) errors.push(`${p}: ip "${w.ip}" is not an IPv4 address`);
    if (!validIfname(w.hostInterface))
      errors.push(`${p}: hostInterface "${w.hostInterface}" is not a valid interface name (1-15 characters)`);
    (w.extraSourceIPs ?? []).forEach((x, j) => {
      if (ipv4(x) === undefined) errors.push(`${p}: extraSourceIPs[${j}] "${x}" is not an IPv4 address`);
    });
    if (w.gatewaySet !== undefined && !w.blocked && !setKeys.has(w.gatewaySet))
      errors.push(`${p}: gatewaySet "${w.gatewaySet}" is not one of the plan's gatewaySets`);
  });
  return { workloads, errors };
}

const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

function nodeTableBody(
  plan: KernelNodePlan,
  workloads: WorkloadPlan[],
  o: DataplaneOptions,
  policy?: PolicyHook,
): TableBody {
  const setByKey = new Map(plan.gatewaySets.map((s) => [s.key, s]));
  const ifaces = sortedUnique(workloads.map((w) => `"${w.hostInterface}"`));
  const pairs = sortedUnique(
    workloads.flatMap((w) => [w.ip, ...(w.extraSourceIPs ?? [])].map((ip) => `"${w.hostInterface}" . ${ip}`)),
  );
  const blocked = sortedUnique(workloads.filter((w) => w.blocked).map((w) => w.ip));
  const clusterCidrs = sortedUnique([...plan.workloadCidrs, ...o.clusterCidrs].map((c) => cidr4(c) ?? c));
  const steered = sortedUnique(
    workloads.flatMap((w) => {
      const set = w.blocked || w.gatewaySet === undefined ? undefined : setByKey.get(w.gatewaySet);
      return set ? [`${w.ip} : jump egw_set_${set.table}`] : [];
    }),
  );
  const sets = [...plan.gatewaySets].sort((a, b) => a.table - b.table);
  const restore = sets.map((s) => `${hex(s.mark)} : jump egw_restore_${s.table}`);
  const fromWorkload = o.workloadInterfacePrefixes.map((p) => `iifname "${p}*"`);

  const chains: Record<string, number> = {};
  const lines: string[] = [
    `set egw_workload_ifaces { type ifname;${elements(ifaces)} }`,
    `set egw_workload_pairs { type ifname . ipv4_addr;${elements(pairs)} }`,
    `set egw_blocked { type ipv4_addr;${elements(blocked)} }`,
    `set egw_cluster_cidrs { type ipv4_addr; flags interval; auto-merge;${elements(clusterCidrs)} }`,
    `map egw_pod_set { type ipv4_addr : verdict;${elements(steered)} }`,
    `map egw_mark_restore { type mark : verdict;${elements(restore)} }`,
    ...(policy?.definitions ?? []),
  ];
  const chain = (name: string, head: string[], rules: string[]): void => {
    chains[name] = rules.length;
    lines.push(`chain ${name} {`, ...head.map((h) => `  ${h}`), ...rules.map((r) => `  ${r}`), `}`);
  };
  chain(POLICY_CHAIN, [], policy?.rules ?? []);
  chain(
    "egw_prerouting",
    // After kube-proxy's DNAT (dstnat), before the routing decision that reads the mark.
    ["type filter hook prerouting priority dstnat + 10; policy accept;"],
    [
      // Replies from gateways get their connection's mark back: with src_valid_mark the reverse-path
      // check then finds the gateway route, so strict rp_filter accepts them.
      `iifname "${VXLAN_DEVICE}" ct mark and ${hex(MARK_MASK)} vmap @egw_mark_restore`,
      ...fromWorkload.map((m) => `${m} jump egw_from_workload`),
    ],
  );
  chain(
    "egw_from_workload",
    [],
    [
      "ct state established,related jump egw_established",
      'iifname != @egw_workload_ifaces counter drop comment "unknown workload interface"',
      'meta nfproto ipv4 iifname . ip saddr != @egw_workload_pairs counter drop comment "spoofed source"',
      "ct state new ip daddr != @egw_cluster_cidrs ip saddr vmap @egw_pod_set",
    ],
  );
  chain(
    "egw_established",
    [],
    [
      `ct mark and ${hex(MARK_MASK)} vmap @egw_mark_restore`,
      `ct mark and ${hex(MARK_MASK)} != 0 counter drop comment "gateway set gone: fail closed"`,
      "accept",
    ],
  );
  for (const s of sets) {
    chain(`egw_set_${s.table}`, [], [`${setMeta(s.mark)} ${setCt(s.mark)} accept`]);
    chain(`egw_restore_${s.table}`, [], [`${setMeta(s.mark)} accept`]);
  }
  chain(
    "egw_forward",
    ["type filter hook forward priority filter; policy accept;"],
    [
      // Fail closed for blocked workloads: their outbound connections, new or not; replies to
      // connections into the workload still pass.
      'ip saddr @egw_blocked ct direction original counter drop comment "egress blocked"',
      "ct state established,related accept",
      ...fromWorkload.map((m) => `${m} jump ${POLICY_CHAIN}`),
    ],
  );
  Object.assign(chains, policy?.chains ?? {});
  return {
    lines,
    chains,
    sets: {
      egw_workload_ifaces: ifaces.length,
      egw_workload_pairs: pairs.length,
      egw_blocked: blocked.length,
      egw_pod_set: steered.length,
      egw_mark_restore: restore.length,
    },
  };
}

function nodeRouting(plan: KernelNodePlan, o: DataplaneOptions): NodeDesired {
  const nodeMac = macForIp(plan.nodeIP) ?? "";
  const peersByIp = new Map<string, TunnelPeer>();
  for (const h of plan.tunnelPeers)
    peersByIp.set(h.ip, { ip: h.ip, mac: canonicalMac(h.mac) ?? h.mac, vtep: h.vtep });
  const groups: DesiredGroup[] = [];
  const routes: DesiredTableRoute[] = [];
  const rules: DesiredRule[] = [];
  for (const s of plan.gatewaySets) {
    for (const r of s.routes) {
      const dst = cidr4(r.destination) ?? r.destination;
      if (r.action === "gateways") {
        const key = groupKey(s.table, dst);
        groups.push({ key, hops: sortedUnique(r.hops.map((h) => h.ip)) });
        routes.push({ table: s.table, dst, kind: "group", group: key });
        for (const h of r.hops)
          if (!peersByIp.has(h.ip))
            peersByIp.set(h.ip, { ip: h.ip, mac: canonicalMac(h.mac) ?? h.mac, vtep: h.vtep });
      } else routes.push({ table: s.table, dst, kind: r.action });
    }
    for (const from of sortedUnique(plan.workloadCidrs.map((c) => cidr4(c) ?? c)))
      rules.push({ priority: RULE_PRIORITY_FIRST, from, mark: s.mark, mask: MARK_MASK, table: s.table });
  }
  return {
    link: { name: VXLAN_DEVICE, vni: o.vni, port: o.port, local: plan.nodeIP, mac: nodeMac, mtu: o.mtu },
    sysctls: nodeSysctls(),
    peers: [...peersByIp.values()].sort((a, b) => a.ip.localeCompare(b.ip)),
    groups,
    routes,
    rules,
  };
}

/**
 * Renders a client node's NodePlan. Bad input is an error listing every problem by field path.
 * The egress access policy comes from `policy` when given, else from the plan's `access`.
 * Counter start values are filled in later, by withCounterValues (nft-text.ts) on the text.
 */
export function renderNode(
  plan: KernelNodePlan,
  options: Partial<DataplaneOptions> = {},
  policy?: PolicyHook,
): Result<NodeRender, string[]> {
  const o = withDefaults(options);
  const { workloads, errors } = checkPlan(plan, o);
  if (errors.length > 0) return err(errors);
  const hook = policy ?? (plan.access !== undefined ? renderAccessPlan(plan.access) : undefined);
  const { text, shape } = replaceTableText(NODE_NFT_TABLE, nodeTableBody(plan, workloads, o, hook));
  return ok({ nft: text, shape, desired: nodeRouting(plan, o) });
}
