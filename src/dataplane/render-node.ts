// NodePlan → what the client node's kernel must hold (pure). The nft ruleset is rendered as typed
// objects: loaded as one atomic table replacement, or, when only set and map elements changed
// since the last load, as an element update (node-update.ts decides). Its version marker hashes
// the table's outline (chains, and sets and maps without their elements), which element updates
// leave as it is; the read-back compares elements itself. Routing objects are rendered as desired
// state that the diff turns into `ip -batch` lines against what the kernel already has (so
// restarts adopt, not rebuild).
//
// Pinning: a new connection is marked with its gateway set's slot and routed through the set's
// resilient nexthop group; once routing has chosen a replica, a forward chain that runs after the
// policy chain writes the replica's pin mark into the connection's ct mark (`rt ip nexthop vmap
// @egw_pin`). From then on the connection's packets carry the pin mark and the pin table routes
// them via that replica alone, whatever happens to the group, for as long as the replica is a
// tunnel peer; after that its mark is unknown and the connection is dropped (fail closed).
import { createHash } from "node:crypto";
import { macForIp } from "../calc/mac.js";
import type { WorkloadPlan } from "../calc/plan.js";
import { err, ok, type Result } from "../util/result.js";
import { slotOfTable } from "./band.js";
import {
  LIVENESS_PORT,
  LIVENESS_RULE_PRIORITY,
  LIVENESS_TABLE,
  MARK_MASK,
  NODE_NFT_TABLE,
  POLICY_CHAIN,
  RULE_PRIORITY_FIRST,
  VXLAN_DEVICE,
  withDefaults,
  type DataplaneOptions,
} from "./config.js";
import type { KernelNodePlan } from "./kernel-plan.js";
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
  ACCEPT,
  chain,
  concat,
  counter,
  DROP,
  field,
  inSet,
  is,
  isNot,
  jump,
  RETURN,
  rule,
  set,
  setMark,
  states,
  verdictMap,
  vmap,
  type MapElement,
  type Match,
  type Rule,
  type SimpleVerdict,
  type Table,
  type TableObject,
} from "./nft/objects.js";
import { outlineLines, replaceTableText } from "./nft/text.js";
import { Transaction } from "./nft/transaction.js";
import {
  canonicalMac,
  cidr4,
  hex,
  ipv4,
  shapeOf,
  validIfname,
  validIfnamePrefix,
  VERSION_CHAIN,
  versionComment,
} from "./nft-text.js";
import { renderAccessPlan } from "./render-policy.js";

export interface NodeDesired {
  link: VxlanLink;
  sysctls: Sysctls;
  peers: TunnelPeer[];
  groups: DesiredGroup[];
  routes: DesiredTableRoute[];
  rules: DesiredRule[];
}

export interface NodeRender {
  /** The node's nft table (version chain included), as typed objects. */
  table: Table;
  /** Its whole-table replacement as `nft -f` text (counters start at zero), written when first read. */
  readonly nft: string;
  /** The table's outline: `hash` covers chains and set declarations, not elements. */
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
  const checkSlot = (p: string, owner: string, s: { mark: number; table: number }): void => {
    if (!Number.isInteger(s.mark) || (s.mark & ~MARK_MASK) !== 0 || (s.mark & MARK_MASK) === 0)
      errors.push(`${p}: mark ${hex(s.mark)} must be non-zero and inside egw's mark mask ${hex(MARK_MASK)}`);
    if (!Number.isInteger(s.table) || slotOfTable(s.table) === undefined)
      errors.push(`${p}: table ${s.table} is outside egw's slot tables`);
    if (marks.has(s.mark)) errors.push(`${p}: mark ${hex(s.mark)} is also used by ${marks.get(s.mark)}`);
    if (tables.has(s.table)) errors.push(`${p}: table ${s.table} is also used by ${tables.get(s.table)}`);
    marks.set(s.mark, owner);
    tables.set(s.table, owner);
  };
  const peerIPs = new Set(plan.tunnelPeers.map((h) => h.ip));
  plan.pins.forEach((pin, i) => {
    const p = `${at}: pins[${i}] (${pin.replica})`;
    checkSlot(p, `the pin of ${pin.replica}`, pin);
    if (!peerIPs.has(pin.ip)) errors.push(`${p}: ip "${pin.ip}" is not one of the plan's tunnelPeers`);
  });
  plan.gatewaySets.forEach((s, i) => {
    const p = `${at}: gatewaySets[${i}] (${s.key})`;
    checkSlot(p, s.key, s);
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

/**
 * The per-workload elements of the node table, in one pass over the workloads (a node has
 * thousands; the kernel keeps sets unordered, so they stay in plan order). Each value is one
 * element however many workloads carry it; the last workload steering an address wins.
 */
function workloadElements(plan: KernelNodePlan, workloads: readonly WorkloadPlan[]) {
  const verdicts = new Map<string, SimpleVerdict>();
  for (const s of plan.gatewaySets) verdicts.set(s.key, jump(`egw_set_${s.table}`));
  const ifaces = new Set<string>();
  const pairKeys = new Set<string>();
  const pairs: [string, string][] = [];
  const blocked = new Set<string>();
  const steered = new Map<string, SimpleVerdict>();
  const pair = (iface: string, ip: string): void => {
    const key = `${iface}\u0000${ip}`;
    if (pairKeys.has(key)) return;
    pairKeys.add(key);
    pairs.push([iface, ip]);
  };
  for (const w of workloads) {
    ifaces.add(w.hostInterface);
    pair(w.hostInterface, w.ip);
    if (w.extraSourceIPs !== undefined) for (const ip of w.extraSourceIPs) pair(w.hostInterface, ip);
    if (w.blocked) blocked.add(w.ip);
    const v = w.blocked || w.gatewaySet === undefined ? undefined : verdicts.get(w.gatewaySet);
    if (v !== undefined) steered.set(w.ip, v);
  }
  const podSet: MapElement[] = [];
  for (const [key, verdict] of steered) podSet.push({ key, verdict });
  return { ifaces: [...ifaces], pairs, blocked: [...blocked], podSet };
}

function nodeTableObjects(
  plan: KernelNodePlan,
  workloads: WorkloadPlan[],
  o: DataplaneOptions,
): TableObject[] {
  const { ifaces, pairs, blocked, podSet } = workloadElements(plan, workloads);
  const clusterCidrs = sortedUnique([...plan.workloadCidrs, ...o.clusterCidrs].map((c) => cidr4(c) ?? c));
  const sets = [...plan.gatewaySets].sort((a, b) => a.table - b.table);
  // Every slot an established connection's ct mark may name: sets and pins.
  const restored = [...sets, ...plan.pins].sort((a, b) => a.table - b.table);
  const fromWorkload = o.workloadInterfacePrefixes.map((p): Match => is("iifname", `${p}*`));
  const ctMark = field("ct mark", MARK_MASK);
  const policy = plan.access !== undefined ? renderAccessPlan(plan.access) : { objects: [], rules: [] };

  return [
    set("egw_workload_ifaces", ["ifname"], ifaces),
    set("egw_workload_pairs", ["ifname", "ipv4_addr"], pairs),
    set("egw_blocked", ["ipv4_addr"], blocked),
    set("egw_cluster_cidrs", ["ipv4_addr"], clusterCidrs, { interval: true }),
    verdictMap("egw_pod_set", ["ipv4_addr"], podSet),
    verdictMap(
      "egw_mark_restore",
      ["mark"],
      restored.map((s) => ({ key: s.mark, verdict: jump(`egw_restore_${s.table}`) })),
    ),
    verdictMap(
      "egw_pin",
      ["ipv4_addr"],
      plan.pins.map((p) => ({ key: p.ip, verdict: jump(`egw_pin_${p.table}`) })),
    ),
    ...policy.objects,
    chain(POLICY_CHAIN, policy.rules),
    chain(
      "egw_prerouting",
      [
        // Replies from gateways get their connection's mark back: with src_valid_mark the reverse-path
        // check then finds the gateway route, so strict rp_filter accepts them.
        rule([is("iifname", VXLAN_DEVICE)], [], vmap(ctMark, "egw_mark_restore")),
        ...fromWorkload.map((m) => rule([m], [], jump("egw_from_workload"))),
      ],
      // After kube-proxy's DNAT (dstnat), before the routing decision that reads the mark.
      { type: "filter", hook: "prerouting", priority: { base: "dstnat", offset: 10 }, policy: "accept" },
    ),
    chain("egw_from_workload", [
      rule([is("ct state", states("established", "related"))], [], jump("egw_established")),
      rule([isNot("iifname", inSet("egw_workload_ifaces"))], [counter()], DROP, "unknown workload interface"),
      rule(
        [is("meta nfproto", "ipv4"), isNot(concat("iifname", "ip saddr"), inSet("egw_workload_pairs"))],
        [counter()],
        DROP,
        "spoofed source",
      ),
      rule(
        [is("ct state", states("new")), isNot("ip daddr", inSet("egw_cluster_cidrs"))],
        [],
        vmap("ip saddr", "egw_pod_set"),
      ),
    ]),
    chain("egw_established", [
      rule([], [], vmap(ctMark, "egw_mark_restore")),
      rule([isNot(ctMark, 0)], [counter()], DROP, "gateway set gone: fail closed"),
      rule([], [], ACCEPT),
    ]),
    ...sets.map((s) =>
      chain(`egw_set_${s.table}`, [
        rule([], [setMark("meta", MARK_MASK, s.mark), setMark("ct", MARK_MASK, s.mark)], ACCEPT),
      ]),
    ),
    ...restored.map((s) =>
      chain(`egw_restore_${s.table}`, [rule([], [setMark("meta", MARK_MASK, s.mark)], ACCEPT)]),
    ),
    ...plan.pins.map((p) => chain(`egw_pin_${p.table}`, [rule([], [setMark("ct", MARK_MASK, p.mark)])])),
    chain(
      "egw_forward",
      [
        // Fail closed for blocked workloads: their outbound connections, new or not; replies to
        // connections into the workload still pass.
        rule(
          [is("ip saddr", inSet("egw_blocked")), is("ct direction", "original")],
          [counter()],
          DROP,
          "egress blocked",
        ),
        rule([is("ct state", states("established", "related"))], [], ACCEPT),
        ...fromWorkload.map((m): Rule => rule([m], [], jump(POLICY_CHAIN))),
      ],
      { type: "filter", hook: "forward", priority: { base: "filter", offset: 0 }, policy: "accept" },
    ),
    chain(
      "egw_forward_pin",
      [
        // The replica the set's nexthop group chose for a new connection names its pin.
        rule(
          [is("ct state", states("new")), is("oifname", VXLAN_DEVICE)],
          [],
          vmap("rt ip nexthop", "egw_pin"),
        ),
      ],
      // After egw_forward and its policy (their accept does not end this hook's later chains):
      // only connections that are let through get pinned.
      { type: "filter", hook: "forward", priority: { base: "filter", offset: 10 }, policy: "accept" },
    ),
  ];
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
  // Pins: each pinned connection's packets leave via its replica alone.
  for (const p of plan.pins) {
    routes.push({ table: p.table, dst: "0.0.0.0/0", kind: "via", gateway: p.ip });
    for (const from of sortedUnique(plan.workloadCidrs.map((c) => cidr4(c) ?? c)))
      rules.push({ priority: RULE_PRIORITY_FIRST, from, mark: p.mark, mask: MARK_MASK, table: p.table });
  }
  // Liveness: BFD control packets from the node to a replica take the tunnel, as its traffic does
  // (destination port 3784). A replica's packet arrives on egw.vxlan, which has no address: the
  // reverse-path check (loose mode too) passes only if the reverse lookup — ports swapped, so
  // source port 3784 — finds a route through egw.vxlan, hence the second rule.
  const peers = [...peersByIp.values()].sort((a, b) => a.ip.localeCompare(b.ip));
  // (A replica with the node's own address — host network — needs no tunnel and gets no route:
  // the kernel refuses a route via a local address.)
  for (const peer of peers)
    if (peer.ip !== plan.nodeIP)
      routes.push({ table: LIVENESS_TABLE, dst: `${peer.ip}/32`, kind: "via", gateway: peer.ip });
  const liveness = {
    priority: LIVENESS_RULE_PRIORITY,
    from: `${plan.nodeIP}/32`,
    ipproto: "udp" as const,
    table: LIVENESS_TABLE,
  };
  rules.push({ ...liveness, dport: LIVENESS_PORT }, { ...liveness, sport: LIVENESS_PORT });
  return {
    link: { name: VXLAN_DEVICE, vni: o.vni, port: o.port, local: plan.nodeIP, mac: nodeMac, mtu: o.mtu },
    sysctls: nodeSysctls(),
    peers,
    groups,
    routes,
    rules,
  };
}

export interface RenderNodeOptions {
  /**
   * Check the table against the nft model (default true). The node dataplane passes false and
   * leaves that check to the transaction that carries the table — a replacement checks it whole,
   * an element update checks the elements it sends on top of an outline that was checked before —
   * so a pod event does not check thousands of unchanged elements again. The plan's own checks
   * (every problem by field path) run either way.
   */
  tableCheck?: boolean;
}

/**
 * Renders a client node's NodePlan, its egress access policy (`plan.access`) included. Bad input
 * is an error listing every problem by field path. Counter start values are filled in later, by
 * withCounterValues (nft-text.ts) on the table.
 */
export function renderNode(
  plan: KernelNodePlan,
  options: Partial<DataplaneOptions> = {},
  { tableCheck = true }: RenderNodeOptions = {},
): Result<NodeRender, string[]> {
  const o = withDefaults(options);
  const { workloads, errors } = checkPlan(plan, o);
  if (errors.length > 0) return err(errors);
  const { table, shape } = versionedByOutline(NODE_NFT_TABLE, nodeTableObjects(plan, workloads, o));
  if (tableCheck) {
    const invalid = checkNodeTable(plan.node, table);
    if (invalid !== undefined) return err([invalid]);
  }
  let text: string | undefined;
  return ok({
    table,
    get nft() {
      return (text ??= replaceTableText(table));
    },
    shape,
    desired: nodeRouting(plan, o),
  });
}

/** The nft model's verdict on a rendered node table: undefined, or its first problem. */
export function checkNodeTable(node: string, table: Table): string | undefined {
  const invalid = new Transaction().replaceTable(table).error;
  return invalid === undefined ? undefined : `NodePlan of node "${node}": ${invalid}`;
}

/**
 * The table with the version chain first, holding the hash of the objects' outline (chains in
 * full, sets and maps without elements): pods coming and going change elements only, which an
 * element update writes without touching that marker.
 */
function versionedByOutline(
  name: string,
  objects: readonly TableObject[],
): { table: Table; shape: NftShape } {
  const lines: string[] = [];
  for (const o of objects) for (const l of outlineLines(o)) lines.push(l);
  const hash = createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
  const version = chain(VERSION_CHAIN, [rule([], [], RETURN, versionComment(hash))]);
  const table: Table = { name, objects: [version, ...objects] };
  return { table, shape: shapeOf(table, hash) };
}
