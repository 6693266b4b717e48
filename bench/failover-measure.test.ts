import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConnRecord, StreamRecord } from "../src/lab/testing/failover-client.js";
import { measureRound, steady, summarize, watchVerdict, type WatchSettings } from "./failover-measure.js";

const A = "10.10.5.1";
const B = "10.10.5.2";
const T = 1_000_000;

const conn = (start: number, ip: string | undefined, duration = 5): ConnRecord =>
  ip === undefined
    ? { kind: "conn", start, end: start + 2000, ok: false, error: "no answer within 2000 ms" }
    : { kind: "conn", start, end: start + duration, ok: true, ip };

/** A connection every 30 ms from `from` to `to`, alternating A and B; B fails from `bFailsFrom` to `bFailsTo`. */
const traffic = (from: number, to: number, bFailsFrom = Infinity, bFailsTo = Infinity): ConnRecord[] => {
  const out: ConnRecord[] = [];
  for (let t = from, i = 0; t < to; t += 30, i++) {
    const toB = i % 2 === 1;
    out.push(conn(t, toB && t >= bFailsFrom && t < bFailsTo ? undefined : toB ? B : A));
  }
  return out;
};

const stream = (id: number, source: string, end?: { at: number; ok: boolean }): StreamRecord[] => [
  { kind: "stream", id, at: T - 5000, event: "connected", source },
  ...(end === undefined
    ? []
    : [
        end.ok
          ? ({ kind: "stream", id, at: end.at, event: "done", sent: 10, echoed: 10, maxGapMs: 100 } as const)
          : ({
              kind: "stream",
              id,
              at: end.at,
              event: "error",
              message: "the connection was closed",
              sent: 10,
              echoed: 9,
              maxGapMs: 100,
            } as const),
      ]),
];

describe("failover round measurement", () => {
  it("outage runs from the fault to the start of the last failed connection", () => {
    const conns = traffic(T - 3000, T + 8000, T - 10, T + 2400);
    const r = measureRound({ faultAt: T, conns, streams: [], victimIP: B, censored: false });
    assert.ok(r.outageMs >= 2300 && r.outageMs < 2400, String(r.outageMs));
    assert.ok(r.failed > 30 && r.failed < 45, String(r.failed));
    assert.equal(r.failedBefore, 0);
  });

  it("a connection answered only after a SYN retransmission counts as failed (slow)", () => {
    const conns = [...traffic(T - 2000, T + 6000), conn(T + 700, B, 1050), conn(T + 710, A, 400)];
    const r = measureRound({ faultAt: T, conns, streams: [], victimIP: B, censored: false });
    assert.equal(r.outageMs, 700);
    assert.equal(r.failed, 1);
    assert.equal(r.slow, 1);
  });

  it("no failure is no outage; a failure long before the fault is noise, not outage", () => {
    const conns = [conn(T - 5000, undefined), ...traffic(T - 1000, T + 5000)];
    const r = measureRound({ faultAt: T, conns, streams: [], victimIP: B, censored: false });
    assert.equal(r.outageMs, 0);
    assert.equal(r.failed, 0);
    assert.equal(r.failedBefore, 1);
  });

  it("counts streams broken on surviving replicas only", () => {
    const streams = [
      ...stream(0, A, { at: T + 6000, ok: true }),
      ...stream(1, A, { at: T + 300, ok: false }),
      ...stream(2, B, { at: T + 100, ok: false }),
      ...stream(3, B),
    ];
    const r = measureRound({ faultAt: T, conns: [], streams, victimIP: B, censored: false });
    assert.equal(r.survivorStreams, 2);
    assert.equal(r.survivorBroken, 1);
    assert.equal(r.graceEnded, undefined);
  });

  it("drain: connections through the draining replica that ended within the grace period, and how many broke", () => {
    const streams = [
      ...stream(0, B, { at: T + 3000, ok: true }),
      ...stream(1, B, { at: T + 3100, ok: false }),
      ...stream(2, B, { at: T + 9000, ok: false }), // after the deadline: not the drain's promise
      ...stream(3, A, { at: T + 9000, ok: true }),
    ];
    const conns = [conn(T - 3, B, 10), conn(T - 2, A, 10), { ...conn(T - 1, undefined), end: T + 50 }];
    const r = measureRound({
      faultAt: T,
      conns,
      streams,
      victimIP: B,
      graceEndsAt: T + 6000,
      censored: false,
    });
    assert.equal(r.graceEnded, 2 + 3);
    assert.equal(r.graceBroken, 1 + 1);
  });

  it("watching ends when connections that must have reported show a quiet period", () => {
    const w: WatchSettings = { minMs: 3000, maxMs: 30_000, quietMs: 2000, minSuccesses: 20, timeoutMs: 2000 };
    const conns = traffic(T - 2000, T + 9000, T, T + 1500);
    const at = (now: number): string =>
      watchVerdict(
        now,
        T,
        conns.filter((c) => c.end <= now),
        w,
      );
    assert.equal(at(T + 2500), "watching"); // minimum not reached
    assert.equal(at(T + 4000), "watching"); // last failure at ~T+1.5 s: quiet only since
    assert.equal(at(T + 5800), "recovered"); // horizon T+3.6 s: 2 s quiet, all reported
    const failing = traffic(T - 2000, T + 40_000, T, Infinity);
    assert.equal(
      watchVerdict(
        T + 31_000,
        T,
        failing.filter((c) => c.end <= T + 31_000),
        w,
      ),
      "censored",
    );
  });

  it("steady: recent connections all answered, by every replica", () => {
    const conns = traffic(T - 3000, T);
    assert.equal(steady(T, conns, [A, B], 1500), true);
    assert.equal(steady(T, conns, [A, B, "10.10.5.3"], 1500), false);
    assert.equal(
      steady(
        T,
        [...conns, conn(T - 100, undefined)].map((c) => ({ ...c, end: Math.min(c.end, T) })),
        [A, B],
        1500,
      ),
      false,
    );
  });

  it("summarizes rounds: percentiles of outages and totals", () => {
    const round = (outageMs: number, grace?: [number, number]) => ({
      outageMs,
      censored: outageMs > 9000,
      failed: 2,
      slow: 1,
      failedBefore: 0,
      conns: 100,
      survivorStreams: 3,
      survivorBroken: 0,
      ...(grace ? { graceEnded: grace[0], graceBroken: grace[1] } : {}),
    });
    const s = summarize([round(100), round(300), round(200), round(10_000, [3, 1])]);
    assert.equal(s.rounds, 4);
    assert.equal(s.censored, 1);
    assert.equal(s.outageP50, 200);
    assert.equal(s.outageMax, 10_000);
    assert.equal(s.failed, 8);
    assert.equal(s.slow, 4);
    assert.equal(s.conns, 400);
    assert.equal(s.graceEnded, 3);
    assert.equal(s.graceBroken, 1);
  });
});
