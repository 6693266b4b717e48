// Publishes the agent's health in its Node's status.conditions (type EgwAgentReady), so
// `egw status` (and `kubectl get node -o yaml`) show whether the node's egress dataplane is
// programmed, and why not. Only written when the condition changes; compare-and-swap with a few
// retries, other fields and conditions of the Node are kept.
import type { Resource } from "../api/meta.js";
import { CONDITION_AGENT_READY } from "../api/well-known.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";

export interface NodeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** What the agent reports; `ready` false means the kernel keeps its previous state. */
export interface AgentHealth {
  ready: boolean;
  /** CamelCase cause: Programmed, ReconcileFailed, … */
  reason: string;
  message: string;
}

/** Longest message written (a failed nft load can print a lot). */
export const MAX_CONDITION_MESSAGE = 1000;

type Status = { conditions?: NodeCondition[] } & Record<string, unknown>;

const cut = (s: string): string =>
  s.length <= MAX_CONDITION_MESSAGE ? s : `${s.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;

/** The EgwAgentReady condition on a Node, if any. */
export const agentConditionOf = (node: { status?: unknown }): NodeCondition | undefined => {
  const conditions = (node.status as Status | undefined)?.conditions;
  return Array.isArray(conditions) ? conditions.find((c) => c?.type === CONDITION_AGENT_READY) : undefined;
};

const sameCondition = (c: NodeCondition | undefined, h: AgentHealth): boolean =>
  c !== undefined &&
  c.status === (h.ready ? "True" : "False") &&
  c.reason === h.reason &&
  c.message === cut(h.message);

/** The node with its EgwAgentReady condition set to `h` (other conditions and fields kept). */
export function withAgentCondition(node: Resource, h: AgentHealth, now: Date): Resource {
  const status = { ...((node.status as Status | undefined) ?? {}) };
  const old = agentConditionOf(node);
  const wanted = h.ready ? "True" : "False";
  const condition: NodeCondition = {
    type: CONDITION_AGENT_READY,
    status: wanted,
    reason: h.reason,
    message: cut(h.message),
    lastTransitionTime:
      old?.status !== wanted || old.lastTransitionTime === undefined
        ? now.toISOString()
        : old.lastTransitionTime,
  };
  const others = Array.isArray(status.conditions)
    ? status.conditions.filter((c) => c?.type !== CONDITION_AGENT_READY)
    : [];
  status.conditions = [...others, condition];
  return { ...node, status };
}

/** Writes the condition on Node `name` unless it already says so. */
export async function publishAgentHealth(
  store: Datastore,
  name: string,
  h: AgentHealth,
  now: () => Date,
  attempts = 3,
): Promise<Result<"written" | "unchanged", string>> {
  for (let i = 0; i < attempts; i++) {
    const got = await store.get({ kind: "Node", name });
    if (!got.ok) return err(`cannot read Node ${name}: ${got.error.message}`);
    if (sameCondition(agentConditionOf(got.value), h)) return ok("unchanged");
    const updated = await store.update(withAgentCondition(got.value, h, now()));
    if (updated.ok) return ok("written");
    if (updated.error.code !== "Conflict")
      return err(`cannot update Node ${name} status: ${updated.error.message}`);
  }
  return err(`cannot update Node ${name} status: it kept changing (${attempts} conflicts)`);
}
