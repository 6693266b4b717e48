// What a gateway replica is (pure): a pod named `<gateway>-<index>` whose labels and annotations
// come from the gateway's template, and which serves once it runs and reports Ready.
import { createHash } from "node:crypto";
import type { EgressGateway } from "../api/schemas/egress.js";
import {
  ANN_GATEWAY_DRAIN_STARTED,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_TEMPLATE_HASH,
  ANN_GATEWAY_TERMINATING,
  ANN_GATEWAY_USABLE_AFTER,
  LABEL_GATEWAY,
} from "../api/well-known.js";
import { compareNumbers, compareStrings } from "../util/compare.js";
import type { ReplicaView } from "./views.js";

/** `<gateway>-<n>` → n (decimal, no leading zeros); undefined for any other name. */
export const replicaIndex = (gateway: string, pod: string): number | undefined => {
  if (!pod.startsWith(`${gateway}-`)) return undefined;
  const rest = pod.slice(gateway.length + 1);
  if (!/^(0|[1-9][0-9]{0,8})$/.test(rest)) return undefined;
  return Number(rest);
};

export const replicaName = (gateway: string, index: number): string => `${gateway}-${index}`;

/** Orders replicas (or anything named like one) by index; other names last, by name. */
export const byReplicaIndex =
  (gateway: string) =>
  (a: { name: string }, b: { name: string }): number => {
    const [x, y] = [replicaIndex(gateway, a.name) ?? Infinity, replicaIndex(gateway, b.name) ?? Infinity];
    return compareNumbers(x, y) || compareStrings(a.name, b.name);
  };

/** The labels the gateway's replicas carry (template.metadata.labels, default egw.dev/gateway). */
export const replicaLabels = (gw: EgressGateway): Record<string, string> => {
  const labels = gw.spec.template?.metadata?.labels;
  return labels && Object.keys(labels).length > 0 ? { ...labels } : { [LABEL_GATEWAY]: gw.metadata.name };
};

const RESERVED_ANNOTATIONS = new Set([
  ANN_GATEWAY_OWNER,
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_TERMINATING,
  ANN_GATEWAY_DRAIN_STARTED,
  ANN_GATEWAY_TEMPLATE_HASH,
  ANN_GATEWAY_USABLE_AFTER,
]);

/** The template's annotations, without those the controller itself sets. */
export const templateAnnotations = (gw: EgressGateway): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(gw.spec.template?.metadata?.annotations ?? {}))
    if (!RESERVED_ANNOTATIONS.has(k)) out[k] = v;
  return out;
};

const sortedEntries = (m: Record<string, string>): [string, string][] =>
  Object.entries(m).sort(([a], [b]) => compareStrings(a, b));

/**
 * The hash of what a replica is made from: its labels and template annotations. Replicas with
 * another hash are replaced (rolling update). The node selector is not in it: a replica whose node
 * still matches keeps running (placement.ts says when one must move), and the grace period only
 * matters once a replica drains.
 */
export const templateHash = (gw: EgressGateway): string =>
  createHash("sha256")
    .update(
      JSON.stringify({
        labels: sortedEntries(replicaLabels(gw)),
        annotations: sortedEntries(templateAnnotations(gw)),
      }),
    )
    .digest("hex")
    .slice(0, 10);

export const sameStringMap = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

/** Serving traffic: running, addressed, not draining, and its gateway process reports Ready. */
export const replicaReady = (r: ReplicaView): boolean =>
  r.phase === "Running" && r.podIP !== undefined && r.terminating === undefined && r.podReady === true;
