// Restarts the per-node processes `egw up` started (the agents, the nodes' BIRDs) when their
// process is gone, as a DaemonSet would (agent-restarts.ts decides which).
import { err, ok, type Result } from "../util/result.js";
import { agentRestarts } from "./agent-restarts.js";
import { readManifest } from "./state.js";
import { recordedComponents, startSupervised } from "./supervision.js";
import type { LabNode, LabTopology } from "./topology.js";

/** How the runtime restarts the node agents `egw up` started (omitted: it does not). */
export interface AgentSupervision {
  stateDir: string;
  /** Manifest component (and log name) of a node's agent. */
  component: (node: string) => string;
  argv: (node: LabNode) => string[];
  /** What the process is, in the log line ("the agent", "BIRD"); default "the agent". */
  what?: string;
}

export const superviseAgents = (
  sup: AgentSupervision,
  topology: LabTopology,
  log: (line: string) => void,
): Result<void, string> => {
  const manifest = readManifest(sup.stateDir);
  if (!manifest) return err(`no lab manifest in ${sup.stateDir}`);
  const agents = new Set(topology.nodes.map((n) => sup.component(n.name)));
  const recorded = recordedComponents(manifest, sup.stateDir, (c) => agents.has(c));
  const problems: string[] = [];
  for (const a of agentRestarts(topology.nodes, recorded, sup.component)) {
    const pid = startSupervised({
      stateDir: sup.stateDir,
      component: a.component,
      argv: sup.argv(a.node),
      netns: a.node.netns,
    });
    if (!pid.ok) problems.push(pid.error);
    else
      log(
        `restarted ${sup.what ?? "the agent"} of ${a.node.name} (its process was gone; pid ${pid.value}, egw logs ${a.component})`,
      );
  }
  return problems.length === 0 ? ok(undefined) : err(problems.join("; "));
};
