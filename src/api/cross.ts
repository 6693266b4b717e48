// Rules that involve several objects: duplicates within one batch, overlapping or changed IPPools,
// policies' tiers, BGP peers against nodes and each other, advertised pools.
import { DEFAULTS } from "./defaults.js";
import { describeRef, refOf, type Resource } from "./meta.js";
import { type Cidr, cidrsOverlap, parseCidr } from "../util/ip.js";
import { IssueList, type ValidationIssue } from "./issues.js";
import { peerSelectsNode } from "./routing.js";
import type { Node } from "./schemas/core.js";
import type { IPPool } from "./schemas/egress.js";
import type { BGPConfiguration, BGPPeer } from "./schemas/routing.js";

const refKey = (r: Resource): string => `${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}`;

interface Pool {
  obj: Resource;
  cidr: Cidr;
}

function poolOf(r: Resource): Pool | undefined {
  if (r.kind !== "IPPool") return undefined;
  const spec = r.spec as { cidr?: unknown } | undefined;
  if (typeof spec?.cidr !== "string") return undefined;
  const parsed = parseCidr(spec.cidr);
  return parsed.ok ? { obj: r, cidr: parsed.value } : undefined;
}

const issuesFor = (r: Resource): IssueList =>
  new IssueList({
    kind: r.kind,
    name: r.metadata.name,
    ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}),
  });

/**
 * Cross-object checks of a batch `objs` (already valid one by one) against each other and the
 * stored `existing` objects: the same object twice in the batch, IPPools overlapping a pool of
 * another name, changes to an IPPool's immutable cidr/blockSize and, unless `references` is false
 * (offline checks, where the store is unknown), policies naming a Tier that does not exist and
 * BGPConfigurations advertising pools that do not exist. BGPPeers are checked against the Nodes
 * and other BGPPeers given (a peer that is a node's own address, two peers with one address on a
 * node).
 */
export function validateAgainst(
  objs: readonly Resource[],
  existing: readonly Resource[],
  opts: { references?: boolean } = {},
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (opts.references !== false) {
    out.push(...unknownTiers(objs, existing));
    out.push(...advertisedPools(objs, existing));
  }
  out.push(...peerClashes(objs, existing));
  const firstIndex = new Map<string, number>();
  objs.forEach((o, i) => {
    const key = refKey(o);
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, i);
    else {
      const issues = issuesFor(o);
      issues.add(
        ["metadata", "name"],
        `"${o.metadata.name}" is not valid: ${describeRef(refOf(o))} appears more than once in this batch (items ${first + 1} and ${i + 1}); list each object once`,
      );
      out.push(...issues.issues);
    }
  });

  const batchPools = objs.map(poolOf).filter((p): p is Pool => p !== undefined);
  const batchNames = new Set(batchPools.map((p) => p.obj.metadata.name));
  const storedPools = existing.map(poolOf).filter((p): p is Pool => p !== undefined);
  // A stored pool that the batch replaces is compared in its new form (the batch entry).
  const others = storedPools.filter((p) => !batchNames.has(p.obj.metadata.name));

  batchPools.forEach((pool, i) => {
    const issues = issuesFor(pool.obj);
    const name = pool.obj.metadata.name;
    const clash = [...batchPools.slice(0, i), ...others].find(
      (p) => p.obj.metadata.name !== name && cidrsOverlap(p.cidr, pool.cidr),
    );
    if (clash) {
      issues.add(
        ["spec", "cidr"],
        `"${pool.cidr.text}" is not valid: it overlaps IPPool ${clash.obj.metadata.name} (${clash.cidr.text}); pools must not overlap`,
      );
    }
    const stored = storedPools.find((p) => p.obj.metadata.name === name);
    if (stored && stored.cidr.text !== pool.cidr.text) {
      issues.add(
        ["spec", "cidr"],
        `"${pool.cidr.text}" is not valid: cidr is immutable (stored: ${stored.cidr.text}); delete and re-create the pool to change it`,
      );
    }
    const oldBlock = (stored?.obj.spec as { blockSize?: unknown } | undefined)?.blockSize;
    const newBlock = (pool.obj.spec as { blockSize?: unknown } | undefined)?.blockSize;
    if (stored && oldBlock !== undefined && newBlock !== undefined && oldBlock !== newBlock) {
      issues.add(
        ["spec", "blockSize"],
        `${String(newBlock)} is not valid: blockSize is immutable (stored: ${String(oldBlock)})`,
      );
    }
    out.push(...issues.issues);
  });
  return out;
}

const POLICY_KINDS = new Set(["NetworkPolicy", "GlobalNetworkPolicy"]);

/** Policies must name a Tier that is stored or applied in the same batch. */
function unknownTiers(objs: readonly Resource[], existing: readonly Resource[]): ValidationIssue[] {
  // The default tier (of every policy without `spec.tier`) exists without a Tier object.
  const tiers = new Set<string>([DEFAULTS.policy.tier]);
  for (const r of [...existing, ...objs]) if (r.kind === "Tier") tiers.add(r.metadata.name);
  const out: ValidationIssue[] = [];
  for (const r of objs) {
    if (!POLICY_KINDS.has(r.kind)) continue;
    const tier = (r.spec as { tier?: unknown } | undefined)?.tier;
    if (typeof tier !== "string" || tiers.has(tier)) continue;
    const issues = issuesFor(r);
    issues.add(
      ["spec", "tier"],
      `"${tier}" is not valid: no Tier of that name exists; known tiers: ${[...tiers].sort().join(", ")} (apply the Tier first or in the same file)`,
    );
    out.push(...issues.issues);
  }
  return out;
}

/** Stored objects of `kind` with the batch's versions in their place, then the batch's new ones. */
function current<T extends Resource>(
  kind: string,
  objs: readonly Resource[],
  existing: readonly Resource[],
): T[] {
  const batch = objs.filter((r) => r.kind === kind);
  const replaced = new Set(batch.map(refKey));
  return [...existing.filter((r) => r.kind === kind && !replaced.has(refKey(r))), ...batch] as T[];
}

/** advertise.ipPools must name pools that exist and hold egress IPs. */
function advertisedPools(objs: readonly Resource[], existing: readonly Resource[]): ValidationIssue[] {
  const pools = new Map(current<IPPool>("IPPool", objs, existing).map((p) => [p.metadata.name, p]));
  const out: ValidationIssue[] = [];
  for (const r of objs) {
    if (r.kind !== "BGPConfiguration") continue;
    const names = (r as BGPConfiguration).spec?.advertise?.ipPools ?? [];
    const issues = issuesFor(r);
    names.forEach((name, i) => {
      const pool = pools.get(name);
      const path = ["spec", "advertise", "ipPools", i];
      if (pool === undefined) {
        issues.add(
          path,
          `"${name}" is not valid: no IPPool of that name exists; known pools: ${[...pools.keys()].sort().join(", ") || "none"} (apply the IPPool first or in the same file)`,
        );
      } else if (
        !(pool.spec.allowedUses ?? (DEFAULTS.ipPool.allowedUses as readonly string[])).includes(
          "EgressGateway",
        )
      ) {
        issues.add(
          path,
          `"${name}" is not valid: IPPool ${name} does not have allowedUses EgressGateway, so it holds no egress IPs to announce`,
        );
      }
    });
    out.push(...issues.issues);
  }
  return out;
}

const nodeAddresses = (n: Node): string[] =>
  (n.status?.addresses ?? [])
    .filter((a) => a.type === "InternalIP" || a.type === "ExternalIP")
    .map((a) => a.address);

/**
 * A BGPPeer's address must not be a node's own (nodes announce to routers, not to each other), and
 * two BGPPeers with the same address must not both select one node (BIRD would open two sessions
 * to one neighbor, and the router would keep only one). Checked against the Nodes that exist (in
 * the store or the batch): a node added later is not checked.
 */
function peerClashes(objs: readonly Resource[], existing: readonly Resource[]): ValidationIssue[] {
  const nodes = current<Node>("Node", objs, existing);
  const nodeByAddress = new Map<string, string>();
  for (const n of nodes) for (const a of nodeAddresses(n)) nodeByAddress.set(a, n.metadata.name);
  const peers = current<BGPPeer>("BGPPeer", objs, existing);
  const out: ValidationIssue[] = [];
  for (const r of objs) {
    if (r.kind !== "BGPPeer") continue;
    const peer = r as BGPPeer;
    const ip = peer.spec.peerIP;
    const issues = issuesFor(r);
    const owner = nodeByAddress.get(ip);
    if (owner !== undefined) {
      issues.add(
        ["spec", "peerIP"],
        `"${ip}" is not valid: it is an address of Node ${owner}; a BGPPeer is a router outside the cluster that the nodes announce egress IPs to`,
      );
    }
    const selected = nodes.filter((n) => peerSelectsNode(peer, n));
    const clash = peers
      .filter((p) => p.metadata.name !== peer.metadata.name && p.spec.peerIP === ip)
      .map((p) => ({ p, node: selected.find((n) => peerSelectsNode(p, n)) }))
      .find((c) => c.node !== undefined);
    if (clash?.node) {
      issues.add(
        ["spec", "peerIP"],
        `"${ip}" is not valid: BGPPeer ${clash.p.metadata.name} has the same peerIP and both select Node ${clash.node.metadata.name}; one session per router and node (merge the peers or make their node selections disjoint)`,
      );
    }
    out.push(...issues.issues);
  }
  return out;
}
