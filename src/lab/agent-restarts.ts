// Which node agents the lab runtime starts again (pure). `egw up` starts one agent per node before
// the runtime and records it in the manifest; the runtime supervises them as it supervises the
// gateway processes, so a crashed or killed agent comes back (as a DaemonSet pod would).
import type { LabNode } from "./topology.js";

export interface AgentRestart {
  component: string;
  node: LabNode;
}

/**
 * The agents to start again: those recorded for a node of the lab whose process is gone.
 * Agents with no record are left alone: `egw up` has not started them yet (starting one here
 * would race it into two agents on one node).
 */
export const agentRestarts = (
  nodes: readonly LabNode[],
  /** Recorded agent processes: component → alive. */
  recorded: ReadonlyMap<string, boolean>,
  component: (node: string) => string,
): AgentRestart[] =>
  nodes.flatMap((node) => {
    const c = component(node.name);
    return recorded.get(c) === false ? [{ component: c, node }] : [];
  });
