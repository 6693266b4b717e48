// Publishes the agent's health in its Node's status.conditions (type EgwAgentReady), so
// `egw status` (and `kubectl get node -o yaml`) show whether the node's egress dataplane is
// programmed, and why not. Only written when the condition changes (see daemon/publish-condition);
// other fields and conditions of the Node are kept. What the health is, is the reconcile loop's.
import { conditionOf, withCondition, type Condition, type ConditionUpdate } from "../api/conditions.js";
import type { Resource } from "../api/meta.js";
import { CONDITION_AGENT_READY } from "../api/well-known.js";
import type { Clock } from "../daemon/clock.js";
import { publishCondition } from "../daemon/publish-condition.js";
import type { Datastore } from "../datastore/types.js";
import type { Logger } from "../util/log.js";
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

/** Writes the agent's health on its Node after each pass, when it changed since the last write. */
export class NodeConditionPublisher {
  /** What was last written (JSON); undefined: write on the next call. */
  private published: string | undefined;
  private lastError: string | undefined;
  private next: AgentHealth | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: { store: Datastore; node: string; clock: Clock; log: Logger }) {}

  /**
   * Publishes `h` in the background: at most one write in flight, and only the latest health is
   * written after it (a slow datastore delays the condition, never the caller).
   */
  offer(h: AgentHealth): void {
    this.next = h;
    if (this.running !== undefined) return;
    this.running = (async () => {
      while (this.next !== undefined) {
        const latest = this.next;
        this.next = undefined;
        await this.publish(latest);
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Waits for the write in flight, if any. */
  async settled(): Promise<void> {
    await this.running;
  }

  async publish(h: AgentHealth): Promise<void> {
    const key = JSON.stringify(h);
    if (key === this.published) return;
    const r = await publishAgentHealth(this.o.store, this.o.node, h, () => new Date(this.o.clock.now()));
    if (r.ok) {
      this.published = key;
      this.o.log.info("node condition updated", { condition: "EgwAgentReady", ...h, result: r.value });
      this.lastError = undefined;
      return;
    }
    this.published = undefined;
    if (r.error !== this.lastError)
      this.o.log.warn("cannot publish the agent's health on its Node; retrying on the next pass", {
        error: r.error,
      });
    this.lastError = r.error;
  }
}
