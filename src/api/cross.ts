// Rules that involve several objects: duplicates within one batch, overlapping or changed IPPools.
import { DEFAULTS } from "./defaults.js";
import { describeRef, refOf, type Resource } from "./meta.js";
import { type Cidr, cidrsOverlap, parseCidr } from "../util/ip.js";
import { IssueList, type ValidationIssue } from "./issues.js";

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
 * (offline checks, where the store is unknown), policies naming a Tier that does not exist.
 */
export function validateAgainst(
  objs: readonly Resource[],
  existing: readonly Resource[],
  opts: { references?: boolean } = {},
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (opts.references !== false) out.push(...unknownTiers(objs, existing));
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
