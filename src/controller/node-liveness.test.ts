import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LeaseTracker, nodeLivenessActions, type NodeLivenessAction } from "./node-liveness.js";

const LOST_MS = 10_000;

/** A cluster of nodes whose leases the test renews by hand, observed through a LeaseTracker. */
class World {
  readonly tracker = new LeaseTracker();
  readonly renewTimes = new Map<string, string | undefined>();
  readonly reachable = new Map<string, boolean | undefined>();
  now = 0;

  constructor(...nodes: string[]) {
    for (const n of nodes) {
      this.renewTimes.set(n, "t0");
      this.reachable.set(n, undefined);
    }
  }

  renew(node: string): void {
    this.renewTimes.set(node, `t${this.now}-${node}`);
  }

  /** One monitor pass at `now` (ms): observe, decide, apply the condition writes. */
  pass(now: number): NodeLivenessAction[] {
    this.now = now;
    this.tracker.observe(this.renewTimes, now);
    const actions = nodeLivenessActions({
      nowMs: now,
      nodeLostMs: LOST_MS,
      leases: this.tracker.leases(),
      nodes: new Map([...this.reachable].map(([n, r]) => [n, { reachable: r }])),
    });
    for (const a of actions) this.reachable.set(a.node, a.reachable);
    return actions;
  }
}

const summary = (actions: NodeLivenessAction[]): string[] =>
  actions.map((a) => `${a.node}:${a.reachable ? "reachable" : "lost"}:${a.reason}`);

describe("node liveness", () => {
  it("a node whose lease stops changing is lost after nodeLost on the controller's clock, and back when it renews", () => {
    const w = new World("node-1", "node-2");
    assert.deepEqual(summary(w.pass(0)), [], "first sight: nothing is known yet");
    for (let t = 2000; t <= 10_000; t += 2000) {
      w.now = t;
      w.renew("node-1");
      w.renew("node-2");
      const out = w.pass(t);
      if (t === 2000)
        assert.deepEqual(summary(out), ["node-1:reachable:LeaseRenewed", "node-2:reachable:LeaseRenewed"]);
      else assert.deepEqual(out, []);
    }
    // node-2 stops renewing at 10 s (last change seen at 10 s).
    for (let t = 11_000; t <= 20_000; t += 1000) {
      w.now = t;
      w.renew("node-1");
      assert.deepEqual(w.pass(t), [], `not lost yet at ${t} ms`);
    }
    w.now = 20_001;
    w.renew("node-1");
    const lost = w.pass(20_001);
    assert.deepEqual(summary(lost), ["node-2:lost:LeaseExpired"]);
    assert.match(lost[0]?.message ?? "", /not renewed for 10 s/);
    assert.deepEqual(w.pass(21_000), [], "written once");
    w.now = 30_000;
    w.renew("node-2");
    assert.deepEqual(summary(w.pass(30_000)), ["node-2:reachable:LeaseRenewed"]);
  });

  it("renewTime skew does not matter: only the moment of change counts", () => {
    const w = new World("node-1", "node-2");
    w.pass(0);
    w.renewTimes.set("node-1", "1999-01-01T00:00:00.000Z"); // a clock far behind
    w.renewTimes.set("node-2", "2999-01-01T00:00:00.000Z"); // and far ahead
    assert.deepEqual(summary(w.pass(1000)), [
      "node-1:reachable:LeaseRenewed",
      "node-2:reachable:LeaseRenewed",
    ]);
  });

  it("a failed observation restarts every grace: an outage on the controller's side loses no node", () => {
    const w = new World("node-1", "node-2");
    w.pass(0);
    w.tracker.blind(); // lists failed from 1 s to 30 s
    assert.deepEqual(w.pass(30_000), [], "leases unchanged after the outage, but the grace restarts");
    assert.deepEqual(w.pass(40_000), []);
    w.now = 40_001;
    w.renew("node-1");
    assert.deepEqual(summary(w.pass(40_001)), ["node-1:reachable:LeaseRenewed", "node-2:lost:LeaseExpired"]);
  });

  it("no node is declared lost while no lease at all is fresh", () => {
    const w = new World("node-1", "node-2");
    w.pass(0);
    assert.deepEqual(w.pass(60_000), []);
    w.now = 60_001;
    w.renew("node-2");
    assert.deepEqual(summary(w.pass(60_001)), ["node-1:lost:LeaseExpired", "node-2:reachable:LeaseRenewed"]);
  });

  it("a node without a lease is not judged; a lost node is not forgiven by a controller restart", () => {
    const w = new World("node-1", "node-2");
    w.renewTimes.delete("node-2");
    w.reachable.set("node-1", false); // written by an earlier controller
    assert.deepEqual(w.pass(0), []);
    assert.deepEqual(w.pass(5000), [], "not renewed since this controller started: stays lost");
    w.now = 6000;
    w.renew("node-1");
    assert.deepEqual(summary(w.pass(6000)), ["node-1:reachable:LeaseRenewed"]);
  });
});
