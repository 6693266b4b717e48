// The lab's implementation of the CLI's policy-counter port (wired in main.ts): rule counters
// live in each node's nft table, so when the CLI talks to the etcd of a lab on this machine they
// are read from the lab's node namespaces; anywhere else they are not reachable from here.
import type { PolicyCounterReader } from "./context.js";
import type { CounterSource } from "./policy-view.js";

const UNAVAILABLE: CounterSource = {
  kind: "unavailable",
  why: "kept by each node's nft ruleset (table inet egw); not available from here (read them on the nodes, or target a lab on this machine)",
};

export const labPolicyCounters: PolicyCounterReader = async (sel, env) => {
  if (sel.type !== "etcd") return UNAVAILABLE;
  // Loaded on use: reading nft state is only needed by describe of a policy.
  const { labServing, readLabPolicyCounters } = await import("../lab/policy-counters.js");
  const lab = labServing(env, sel.etcdEndpoints);
  if (lab === undefined) return UNAVAILABLE;
  const read = await readLabPolicyCounters(lab);
  return {
    kind: "read",
    where: `lab "${read.lab}"`,
    counters: read.counters,
    nodes: read.nodes,
    errors: read.errors,
  };
};
