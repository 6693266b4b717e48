// Random clusters and packets for checking a rendered node ruleset (ruleset-semantics.test.ts):
// pods on one client node with and without egress annotations (gateway selectors, policies,
// missing policies, bad selectors), gateway replicas, EgressGatewayPolicies with per-destination
// rules, tiers, NetworkPolicies and GlobalNetworkPolicies with random egress rules, and
// GlobalNetworkSets; then packets through that node. Seeded: the same seed, the same cluster.
import type { AccessRuleInput, NetworkPolicyInput, TierInput } from "../../calc/access/inputs.js";
import { globalNetworkPolicy, globalNetworkSet, networkPolicy, tier } from "../../calc/access/testing.js";
import {
  makeGatewayPod,
  makeNamespace,
  makeNode,
  makePolicy,
  makeWorkload,
  makeWorkloadPool,
  policyAnnotations,
  selectorAnnotations,
} from "../../calc/fixtures.js";
import type { PodInput, PolicyRuleInput } from "../../calc/inputs.js";
import { computeNodePlan } from "../../calc/node-plan.js";
import { seededRandom } from "../../util/random.js";
import type { WorkloadPlan } from "../../calc/plan.js";
import { ClusterIndex } from "../../calc/snapshot.js";
import { LABEL_GATEWAY, LABEL_NAMESPACE_NAME } from "../../api/well-known.js";
import { VXLAN_DEVICE } from "../config.js";
import { withFreshSlots, type KernelNodePlan } from "../kernel-plan.js";
import type { CtState } from "../nft/objects.js";
import type { Packet } from "../nft/trace.js";

/** The client node whose plan is rendered. */
export const NODE = "node-0";

export type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const chance = (rand: Rand, p: number): boolean => rand() < p;
const some = <T>(rand: Rand, xs: readonly T[], p: number): T[] => xs.filter(() => chance(rand, p));

/** Destination nets rules and sets draw from, and addresses inside and around them. */
const NETS = [
  "198.18.0.0/16",
  "198.18.5.0/24",
  "198.18.5.7/32",
  "203.0.113.0/24",
  "10.244.2.0/24",
  "0.0.0.0/0",
  "8.8.8.8",
  "198.19.0.0/16",
  "2001:db8::/32",
];
const EXTERNAL = [
  "198.18.0.1",
  "198.18.5.7",
  "198.18.5.8",
  "198.18.200.1",
  "203.0.113.9",
  "8.8.8.8",
  "8.8.4.4",
];
const EXTERNAL_MORE = ["198.19.3.3", "1.1.1.1", "10.96.0.10", "10.245.0.1"];
const PORTS = [53, 80, 443, 999, 1000, 1500, 2000, 2001, 8080];
const SELECTORS = ["all()", "app == 'web'", "has(app)", "app in {'web', 'db'}", "app != 'db'"];

export interface Cluster {
  seed: number;
  index: ClusterIndex;
  /** The node's plan as the kernel holds it (gateway sets with fresh slots). */
  plan: KernelNodePlan;
  clusterCidrs: string[];
}

function randomRule(rand: Rand): AccessRuleInput {
  const destination: Record<string, unknown> = {};
  if (chance(rand, 0.4)) destination.nets = some(rand, NETS, 0.3);
  if (chance(rand, 0.15)) destination.notNets = some(rand, NETS, 0.3);
  if (chance(rand, 0.2)) destination.selector = pick(rand, ["app == 'db'", "kind == 'ext'", "all()"]);
  if (chance(rand, 0.1)) destination.namespaceSelector = pick(rand, ["team == 'y'", "global()", "all()"]);
  const ports = chance(rand, 0.3);
  if (ports) destination.ports = some(rand, [80, 443, "1000:2000", 53], 0.5);
  if (chance(rand, 0.15)) destination.notPorts = some(rand, [53, "1500:2500"], 0.6);
  if (chance(rand, 0.03)) destination.domains = ["example.com"];
  if (chance(rand, 0.03)) destination.ports = ["70000"]; // invalid: the rule denies everything
  const rule: Record<string, unknown> = {
    action: pick(rand, ["Allow", "Deny", "Log", "Pass", "Allow", "Deny"]),
  };
  if (chance(rand, 0.45)) rule.protocol = pick(rand, ["TCP", "UDP", "ICMP", 17, "SCTP", "UDPLite"]);
  if (chance(rand, 0.1)) rule.notProtocol = pick(rand, ["TCP", "UDP", 1]);
  if (chance(rand, 0.08)) rule.ipVersion = pick(rand, [4, 6]);
  if (Object.keys(destination).length > 0) rule.destination = destination;
  return rule as unknown as AccessRuleInput;
}

function randomPolicySpec(rand: Rand, tiers: readonly string[], global: boolean) {
  return {
    ...(chance(rand, 0.8) ? { tier: pick(rand, [...tiers, "default", "default", "no-such-tier"]) } : {}),
    ...(chance(rand, 0.6) ? { order: Math.floor(rand() * 5) * 10 } : {}),
    selector: pick(rand, SELECTORS),
    ...(global && chance(rand, 0.3) ? { namespaceSelector: pick(rand, ["team == 'x'", "team == 'y'"]) } : {}),
    ...(chance(rand, 0.2) ? { types: ["Egress"] } : {}),
    egress: Array.from({ length: Math.floor(rand() * 6) }, () => randomRule(rand)),
  };
}

const GATEWAY_SELECTOR = (gw: string) => ({
  selector: `${LABEL_GATEWAY} == '${gw}'`,
  namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'egress'`,
});

function egressAnnotations(rand: Rand): Record<string, string> | undefined {
  switch (Math.floor(rand() * 7)) {
    case 0:
      return selectorAnnotations(`${LABEL_GATEWAY} == 'gw-1'`, {
        namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'egress'`,
        ...(chance(rand, 0.3) ? { maxNextHops: 1 } : {}),
      });
    case 1:
      return selectorAnnotations(`${LABEL_GATEWAY} == '${pick(rand, ["gw-2", "gw-3"])}'`, {
        namespaceSelector: `${LABEL_NAMESPACE_NAME} == 'egress'`,
      });
    case 2:
      return policyAnnotations(pick(rand, ["egp-1", "egp-2", "egp-missing"]));
    case 3:
      return selectorAnnotations(pick(rand, ["(((", `${LABEL_GATEWAY} == 'gw-1'`])); // bad, or own namespace
    default:
      return undefined;
  }
}

/** A random cluster around one client node (node-0) and the plan of that node. */
export function randomCluster(seed: number): Cluster {
  const rand = seededRandom(seed);
  const namespaces = ["a", "b", "c"].map((n) =>
    makeNamespace(n, {
      labels: { team: pick(rand, ["x", "y"]) },
      ...(chance(rand, 0.6) ? { annotations: egressAnnotations(rand) ?? {} } : {}),
    }),
  );
  namespaces.push(makeNamespace("egress"));
  const pods: PodInput[] = [];
  let gatewayIP = 1;
  for (const [gw, replicas] of [
    ["gw-1", 2],
    ["gw-2", 1],
    ["gw-3", 1],
  ] as const)
    for (let r = 0; r < replicas; r++) {
      const n = gatewayIP++;
      pods.push(
        makeGatewayPod("egress", `${gw}-${r}`, {
          node: pick(rand, ["node-0", "node-1"]),
          ip: `10.244.200.${n}`,
          egressIP: `10.10.0.${n}`,
          gateway: gw,
        }),
      );
    }
  const workloads = 3 + Math.floor(rand() * 8);
  for (let i = 0; i < workloads; i++) {
    const annotations = chance(rand, 0.25) ? egressAnnotations(rand) : undefined;
    pods.push(
      makeWorkload(pick(rand, ["a", "b", "c"]), `p${i}`, {
        node: NODE,
        ip: `10.244.1.${10 + i}`,
        hostInterface: `ew${i}`,
        labels: { app: pick(rand, ["web", "db", "batch"]) },
        ...(annotations ? { annotations } : {}),
      }),
    );
  }
  for (let i = 0; i < 4; i++)
    pods.push(
      makeWorkload(pick(rand, ["a", "b", "c"]), `remote${i}`, {
        node: "node-1",
        ip: `10.244.2.${10 + i}`,
        labels: { app: pick(rand, ["web", "db"]) },
      }),
    );
  const egpRules = (): PolicyRuleInput[] =>
    some(
      rand,
      [
        { destination: { cidr: "198.18.0.0/16" }, gateway: GATEWAY_SELECTOR("gw-1") },
        { destination: { cidr: "198.18.5.0/24" } },
        { gateway: GATEWAY_SELECTOR(pick(rand, ["gw-2", "gw-3"])) },
        { destination: { cidr: "203.0.113.0/24" }, gateway: GATEWAY_SELECTOR("gw-3") },
      ],
      0.6,
    );
  const tiers: TierInput[] = some(
    rand,
    [tier("security", 100, pick(rand, ["Deny", "Pass"])), tier("app", chance(rand, 0.5) ? 200 : undefined)],
    0.5,
  );
  const tierNames = tiers.map((t) => t.metadata.name);
  const gnps: NetworkPolicyInput[] = Array.from({ length: Math.floor(rand() * 4) }, (_, i) =>
    globalNetworkPolicy(`g${i}`, randomPolicySpec(rand, tierNames, true)),
  );
  const nps: NetworkPolicyInput[] = Array.from({ length: Math.floor(rand() * 3) }, (_, i) =>
    networkPolicy(pick(rand, ["a", "b", "c"]), `n${i}`, randomPolicySpec(rand, tierNames, false)),
  );
  const index = ClusterIndex.fromSnapshot({
    nodes: [makeNode("node-0", "172.30.0.1"), makeNode("node-1", "172.30.0.2")],
    namespaces,
    pods,
    egressGatewayPolicies: [makePolicy("egp-1", egpRules()), makePolicy("egp-2", egpRules())],
    ipPools: [
      makeWorkloadPool("pods", "10.244.0.0/16"),
      ...(chance(rand, 0.3) ? [makeWorkloadPool("more", "10.245.0.0/16")] : []),
    ],
    gatewayHealth: new Map(chance(rand, 0.5) ? [["egress/gw-3-0", false]] : []),
    tiers,
    networkPolicies: nps,
    globalNetworkPolicies: gnps,
    globalNetworkSets: some(
      rand,
      [
        globalNetworkSet("ext", { kind: "ext" }, some(rand, NETS, 0.3)),
        globalNetworkSet("dns", { kind: "dns" }, ["8.8.8.8", "8.8.4.4/32"]),
      ],
      0.6,
    ),
  });
  const computed = computeNodePlan(index, NODE);
  // A workload may send from more addresses than its pod IP (a gateway replica's egress IP).
  const senders = computed.workloads.map((w): WorkloadPlan =>
    chance(rand, 0.15)
      ? { ...w, extraSourceIPs: [...(w.extraSourceIPs ?? []), `10.10.9.${Math.floor(rand() * 200) + 1}`] }
      : w,
  );
  const plan = withFreshSlots({ ...computed, workloads: senders });
  return { seed, index, plan, clusterCidrs: chance(rand, 0.4) ? ["10.96.0.0/12"] : [] };
}

/** A packet on a client node: mostly new connections of its workloads, some spoofed, from
 * unknown or other interfaces, established or related ones, and replies from gateways; routed
 * through the tunnel to a replica (the next hop routing chose) or out of another interface. */
export function randomPacket(rand: Rand, c: Cluster): Packet {
  const workloads = c.plan.workloads;
  const w = pick(rand, workloads);
  const someIP = (): string =>
    pick(rand, [...workloads.map((x) => x.ip), "10.244.2.10", "198.18.0.1", "10.10.0.1", "172.30.0.9"]);
  const l4proto = pick(rand, [6, 6, 6, 17, 17, 1, 132, 136, 47]);
  const ports = [6, 17, 132, 136].includes(l4proto);
  const outside = pick(rand, [0, 0, 0x1, 0xa0000001]);
  const ctMark = (): number =>
    (pick(rand, [
      0,
      0,
      0x0fff0000,
      ...c.plan.gatewaySets.map((s) => s.mark),
      ...c.plan.pins.map((p) => p.mark),
    ]) |
      pick(rand, [0, 0x2])) >>>
    0;
  const packet: Packet = {
    iif: w.hostInterface,
    saddr: w.ip,
    daddr: pick(
      rand,
      chance(rand, 0.8) ? EXTERNAL : [...EXTERNAL_MORE, ...workloads.map((x) => x.ip), "10.244.2.11"],
    ),
    l4proto,
    ...(ports ? { dport: pick(rand, PORTS) } : {}),
    ct: { state: "new" as CtState, direction: "original", mark: (outside & 0xa0000000) >>> 0 },
    mark: outside,
  };
  const kind = rand();
  if (kind < 0.06)
    packet.saddr = someIP(); // spoofed (or, by chance, its own)
  else if (kind < 0.1 && w.extraSourceIPs !== undefined) packet.saddr = w.extraSourceIPs[0] ?? w.ip;
  else if (kind < 0.16) packet.iif = `ewzz${Math.floor(rand() * 3)}`;
  else if (kind < 0.2) {
    packet.iif = "eth0";
    packet.saddr = someIP();
  } else if (kind < 0.33) {
    packet.ct = {
      state: pick(rand, ["established", "related"]),
      direction: pick(rand, ["original", "reply"]),
      mark: ctMark(),
    };
    if (chance(rand, 0.3)) packet.iif = pick(rand, ["ewzz1", w.hostInterface]);
    if (chance(rand, 0.3)) packet.saddr = someIP();
  } else if (kind < 0.43) {
    packet.iif = VXLAN_DEVICE;
    packet.saddr = pick(rand, EXTERNAL);
    packet.daddr = w.ip;
    packet.ct = chance(rand, 0.8)
      ? { state: "established", direction: "reply", mark: ctMark() }
      : { state: "new", direction: "original", mark: 0 };
  }
  // Where routing sends it: through the tunnel to a replica (pinned or not), or elsewhere.
  const where = rand();
  if (where < 0.5) {
    packet.oif = VXLAN_DEVICE;
    packet.nexthop = pick(rand, [...c.plan.pins.map((p) => p.ip), "10.128.99.1"]);
  } else packet.oif = where < 0.75 ? "eth0" : w.hostInterface;
  return packet;
}
