// Publishes the agent's health in its Node's status.conditions (type EgwAgentReady), so
// `egw status` (and `kubectl get node -o yaml`) show whether the node's egress dataplane is
// programmed, and why not. Only written when the condition changes (see daemon/publish-condition);
// other fields and conditions of the Node are kept.
import { conditionOf, withCondition, type Condition, type ConditionUpdate } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { CONDITION_AGENT_READY } from "../api/well-known.js";
import { publishCondition } from "../daemon/publish-condition.js";
import type { Datastore } from "../datastore/types.js";
import type { Result } from "../util/result.js";

/** What the agent reports; `ready` false means the kernel keeps its previous state. */
export interface AgentHealth {
  ready: boolean;
  /** CamelCase cause: Programmed, ReconcileFailed, … */
  reason: string;
  message: string;
}

/** Longest message written (a failed nft load can print a lot). */
export const MAX_CONDITION_MESSAGE = 1000;

const cut = (s: string): string =>
  s.length <= MAX_CONDITION_MESSAGE ? s : `${s.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;

/** The EgwAgentReady condition on a Node, if any. */
export const agentConditionOf = (node: { status?: unknown }): Condition | undefined =>
  conditionOf(node, CONDITION_AGENT_READY);

const agentCondition = (h: AgentHealth): ConditionUpdate => ({
  type: CONDITION_AGENT_READY,
  status: h.ready ? "True" : "False",
  reason: h.reason,
  message: cut(h.message),
});

/** The node with its EgwAgentReady condition set to `h` (other conditions and fields kept). */
export const withAgentCondition = (node: Resource, h: AgentHealth, now: Date): Resource =>
  withCondition(node, agentCondition(h), now);

/** Writes the condition on Node `name` unless it already says so. */
export const publishAgentHealth = (
  store: Datastore,
  name: string,
  h: AgentHealth,
  now: () => Date,
  attempts = 3,
): Promise<Result<"written" | "unchanged", string>> =>
  publishCondition(store, { kind: "Node", name }, agentCondition(h), now, attempts);
