import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  advertisedIntervals,
  detectionTimeMs,
  finalReceived,
  jitteredTxMs,
  negotiate,
  timersProblem,
  txIntervalMs,
  type Intervals,
  type Negotiation,
} from "./timers.js";

const iv = (txMs: number, rxMs: number): Intervals => ({ txUs: txMs * 1000, rxUs: rxMs * 1000 });
const settled = (e: Intervals): Negotiation => ({ effective: e, polling: undefined });

describe("BFD timers", () => {
  it("advertises a 1 s Desired Min TX while not Up, the configured one when Up", () => {
    assert.deepEqual(advertisedIntervals(100_000, false), iv(1000, 100));
    assert.deepEqual(advertisedIntervals(100_000, true), iv(100, 100));
    assert.deepEqual(advertisedIntervals(3_000_000, false), iv(3000, 3000), "never faster than configured");
  });

  it("outside Up, a change applies at once without a Poll", () => {
    const r = negotiate(settled(iv(1000, 100)), iv(1000, 300), false);
    assert.deepEqual(r, { next: settled(iv(1000, 300)), startPoll: false });
  });

  it("an unchanged value starts nothing", () => {
    const n = settled(iv(100, 100));
    assert.deepEqual(negotiate(n, iv(100, 100), true), { next: n, startPoll: false });
  });

  it("while Up, sending faster and expecting packets more slowly apply at once; a Poll announces them", () => {
    const r = negotiate(settled(iv(1000, 100)), iv(100, 300), true);
    assert.deepEqual(r.next.effective, iv(100, 300));
    assert.deepEqual(r.next.polling, iv(100, 300));
    assert.equal(r.startPoll, true);
  });

  it("while Up, sending more slowly and expecting packets faster wait for the Final", () => {
    const r = negotiate(settled(iv(100, 300)), iv(300, 100), true);
    assert.deepEqual(r.next.effective, iv(100, 300), "old values until the peer knows");
    assert.equal(r.startPoll, true);
    const f = finalReceived(r.next, iv(300, 100));
    assert.deepEqual(f, { next: settled(iv(300, 100)), pollAgain: false });
  });

  it("a change during a Poll keeps that Poll; after its Final, the newer values are polled again", () => {
    const first = negotiate(settled(iv(100, 100)), iv(200, 200), true);
    const second = negotiate(first.next, iv(400, 50), true);
    assert.equal(second.startPoll, false, "one Poll at a time");
    assert.deepEqual(second.next.polling, iv(200, 200));
    assert.deepEqual(second.next.effective, iv(100, 200));
    const f = finalReceived(second.next, iv(400, 50));
    // The peer acknowledged 200/200: send at most every 200 ms, detect by at least 200 ms.
    assert.deepEqual(f.next.effective, iv(200, 200));
    assert.deepEqual(f.next.polling, iv(400, 50));
    assert.equal(f.pollAgain, true);
    assert.deepEqual(finalReceived(f.next, iv(400, 50)), { next: settled(iv(400, 50)), pollAgain: false });
  });

  it("a Final without a Poll of ours changes nothing", () => {
    const n = settled(iv(100, 100));
    assert.deepEqual(finalReceived(n, iv(100, 100)), { next: n, pollAgain: false });
  });

  it("sends at the slower of our interval and the peer's Required Min RX, and not at all for 0", () => {
    assert.equal(txIntervalMs(100_000, 300_000), 300);
    assert.equal(txIntervalMs(100_000, 1), 100);
    assert.equal(txIntervalMs(100_000, 0), undefined);
  });

  it("detects by the peer's multiplier × the slower of our rx and its tx", () => {
    assert.equal(detectionTimeMs(3, 100_000, 100_000), 300);
    assert.equal(detectionTimeMs(5, 100_000, 1_000_000), 5000);
    assert.equal(detectionTimeMs(1, 300_000, 50_000), 300);
  });

  it("jitters to 75–100 %, 75–90 % with multiplier 1", () => {
    for (let i = 0; i < 1000; i++) {
      const r = i / 1000;
      const j3 = jitteredTxMs(100, 3, () => r);
      const j1 = jitteredTxMs(100, 1, () => r);
      assert.ok(j3 >= 75 && j3 <= 100, `${j3}`);
      assert.ok(j1 >= 75 && j1 <= 90, `${j1}`);
    }
  });

  it("names the field of an unusable timer pair", () => {
    assert.equal(timersProblem({ intervalMs: 100, multiplier: 3 }), undefined);
    assert.match(timersProblem({ intervalMs: 0, multiplier: 3 }) ?? "", /intervalMs 0/);
    assert.match(
      timersProblem({ intervalMs: 5_000_000, multiplier: 3 }) ?? "",
      /intervalMs 5000000: must be an integer 1\.\.4294967/,
    );
    assert.match(timersProblem({ intervalMs: 100, multiplier: 0 }) ?? "", /multiplier 0/);
    assert.match(timersProblem({ intervalMs: 1.5, multiplier: 3 }) ?? "", /intervalMs 1.5/);
  });
});
