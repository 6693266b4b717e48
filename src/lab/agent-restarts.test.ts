import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentRestarts } from "./agent-restarts.js";
import { agentComponent } from "./components.js";
import { planTopology } from "./topology.js";

const topology = planTopology("t", 3);
assert.ok(topology.ok);
const nodes = topology.value.nodes;

describe("agentRestarts", () => {
  it("restarts recorded agents whose process is gone, and only those", () => {
    const restarts = agentRestarts(
      nodes,
      new Map([
        ["agent-node-1", true],
        ["agent-node-2", false],
      ]),
      agentComponent,
    );
    assert.deepEqual(
      restarts.map((a) => [a.component, a.node.name, a.node.netns]),
      [["agent-node-2", "node-2", "egw-t-n2"]],
    );
  });

  it("leaves unrecorded agents to egw up and ignores components of unknown nodes", () => {
    const restarts = agentRestarts(nodes, new Map([["agent-node-9", false]]), agentComponent);
    assert.deepEqual(restarts, []);
  });

  it("a converged lab restarts nothing", () => {
    const alive = new Map(nodes.map((n) => [agentComponent(n.name), true]));
    assert.deepEqual(agentRestarts(nodes, alive, agentComponent), []);
  });
});
