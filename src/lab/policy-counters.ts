// Egress-policy rule counters of a lab: each node keeps its own in its nft table (`inet egw`), so
// `egw describe networkpolicy` reads every node's namespace and sums them. Only possible on the
// machine that runs the lab, as root; elsewhere the counters stay on the nodes.
import { readPolicyCounters, sumCounters, type RuleCounter } from "../dataplane/policy-counters.js";
import { netnsRunner } from "../dataplane/runner.js";
import { nodeNetns } from "./names.js";
import { listLabs, readManifest, type Env, type LabManifest } from "./state.js";
import { nodeName } from "./topology.js";

/** The running lab whose etcd endpoint the CLI talks to, if any. */
export const labServing = (env: Env, etcdEndpoints: readonly string[]): LabManifest | undefined => {
  const entry = listLabs(env).find(
    (l) => l.etcdEndpoint !== undefined && etcdEndpoints.includes(l.etcdEndpoint),
  );
  return entry === undefined ? undefined : readManifest(entry.stateDir);
};

export interface LabCounters {
  lab: string;
  /** Summed over the nodes that could be read. */
  counters: RuleCounter[];
  /** Nodes read. */
  nodes: string[];
  /** One line per node that could not be read. */
  errors: string[];
}

/** Reads and sums the policy counters of every node of the lab (in parallel). */
export const readLabPolicyCounters = async (m: LabManifest): Promise<LabCounters> => {
  const indexes = Array.from({ length: m.nodes }, (_, i) => i + 1);
  const read = await Promise.all(indexes.map((i) => readPolicyCounters(netnsRunner(nodeNetns(m.name, i)))));
  const perNode: RuleCounter[][] = [];
  const nodes: string[] = [];
  const errors: string[] = [];
  read.forEach((r, i) => {
    const node = nodeName(indexes[i] ?? 0);
    if (r.ok) {
      perNode.push(r.value);
      nodes.push(node);
    } else errors.push(`${node}: ${r.error}`);
  });
  return { lab: m.name, counters: sumCounters(perNode), nodes, errors };
};
