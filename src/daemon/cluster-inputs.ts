// Datastore objects → calc's ClusterIndex, in one place: which kinds calc reads, how an object of
// each kind enters and leaves the index, and the shape check (input-check.ts) every object passes
// first. The agent feeds it watch events one at a time; `egw explain` and `egw describe` load the
// whole cluster through it, so a CLI and an agent cannot disagree about an object. It does not
// decide anything about gateway health (the agent polls it, the CLI reads what replicas publish).
import type { Resource } from "../api/meta.js";
import type {
  GlobalNetworkPolicyInput,
  GlobalNetworkSetInput,
  NetworkPolicyInput,
  TierInput,
} from "../calc/access/inputs.js";
import type {
  EgressGatewayPolicyInput,
  IPPoolInput,
  NamespaceInput,
  NodeInput,
  PodInput,
} from "../calc/inputs.js";
import { ClusterIndex } from "../calc/snapshot.js";
import type { Datastore, DatastoreError } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { malformed } from "./input-check.js";

/** How a (shape-checked) datastore object of one kind enters and leaves the ClusterIndex. */
interface KindHandlers {
  upsert(index: ClusterIndex, obj: Resource): void;
  remove(index: ClusterIndex, obj: Resource): void;
}

const namespaceOf = (obj: Resource): string => obj.metadata.namespace ?? "default";

const HANDLERS = {
  Node: {
    upsert: (ix, o) => ix.upsertNode(o as NodeInput),
    remove: (ix, o) => ix.deleteNode(o.metadata.name),
  },
  Namespace: {
    upsert: (ix, o) => ix.upsertNamespace(o as NamespaceInput),
    remove: (ix, o) => ix.deleteNamespace(o.metadata.name),
  },
  IPPool: {
    upsert: (ix, o) => ix.upsertIPPool(o as IPPoolInput),
    remove: (ix, o) => ix.deleteIPPool(o.metadata.name),
  },
  EgressGatewayPolicy: {
    upsert: (ix, o) => ix.upsertPolicy(o as EgressGatewayPolicyInput),
    remove: (ix, o) => ix.deletePolicy(o.metadata.name),
  },
  Pod: {
    upsert: (ix, o) => ix.upsertPod(o as PodInput),
    remove: (ix, o) => ix.deletePod(namespaceOf(o), o.metadata.name),
  },
  Tier: {
    upsert: (ix, o) => ix.upsertTier(o as TierInput),
    remove: (ix, o) => ix.deleteTier(o.metadata.name),
  },
  NetworkPolicy: {
    upsert: (ix, o) => ix.upsertNetworkPolicy(o as NetworkPolicyInput),
    remove: (ix, o) => ix.deleteNetworkPolicy(namespaceOf(o), o.metadata.name),
  },
  GlobalNetworkPolicy: {
    upsert: (ix, o) => ix.upsertGlobalNetworkPolicy(o as GlobalNetworkPolicyInput),
    remove: (ix, o) => ix.deleteGlobalNetworkPolicy(o.metadata.name),
  },
  GlobalNetworkSet: {
    upsert: (ix, o) => ix.upsertGlobalNetworkSet(o as GlobalNetworkSetInput),
    remove: (ix, o) => ix.deleteGlobalNetworkSet(o.metadata.name),
  },
} satisfies Record<string, KindHandlers>;

export type CalcKind = keyof typeof HANDLERS;

/** The kinds calc reads, in the order they are loaded. */
export const CALC_KINDS = Object.keys(HANDLERS) as CalcKind[];

export const isCalcKind = (kind: string): kind is CalcKind => Object.hasOwn(HANDLERS, kind);

/** Puts a shape-checked object (see input-check.ts) into the index, replacing its previous version. */
export const upsertInput = (index: ClusterIndex, kind: CalcKind, obj: Resource): void =>
  HANDLERS[kind].upsert(index, obj);

/** Takes an object out of the index. */
export const removeInput = (index: ClusterIndex, kind: CalcKind, obj: Resource): void =>
  HANDLERS[kind].remove(index, obj);

export interface ClusterInputs {
  index: ClusterIndex;
  /** The objects that passed the shape check, by kind. */
  objects: Readonly<Record<CalcKind, readonly Resource[]>>;
  /** Malformed objects that were left out, one line each (kind/name, field path, what is expected). */
  skipped: string[];
}

/** Builds a ClusterIndex from listed objects (pure): each is shape-checked, malformed ones are skipped. */
export function clusterInputsOf(lists: Partial<Record<CalcKind, readonly Resource[]>>): ClusterInputs {
  const index = new ClusterIndex();
  const objects = {} as Record<CalcKind, Resource[]>;
  const skipped: string[] = [];
  for (const kind of CALC_KINDS) {
    objects[kind] = [];
    for (const obj of lists[kind] ?? []) {
      const problem = malformed(kind, obj);
      if (problem !== undefined) {
        skipped.push(problem);
        continue;
      }
      objects[kind].push(obj);
      upsertInput(index, kind, obj);
    }
  }
  return { index, objects, skipped };
}

/** Lists every kind calc reads and builds the index from them (one snapshot, no watch). */
export async function readClusterInputs(store: Datastore): Promise<Result<ClusterInputs, DatastoreError>> {
  const lists: Partial<Record<CalcKind, readonly Resource[]>> = {};
  for (const kind of CALC_KINDS) {
    const r = await store.list(kind);
    if (!r.ok) return err(r.error);
    lists[kind] = r.value.items;
  }
  return ok(clusterInputsOf(lists));
}
