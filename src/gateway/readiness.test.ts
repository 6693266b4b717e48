import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateReadiness, probeSettings } from "./readiness.js";

describe("probeSettings", () => {
  it("applies Calico's defaults and never lets the timeout undercut the interval", () => {
    assert.deepEqual(probeSettings(undefined), []);
    assert.deepEqual(probeSettings({ icmpProbe: { ips: ["1.1.1.1"] }, httpProbe: { urls: ["http://x"] } }), [
      { kind: "icmp", targets: ["1.1.1.1"], intervalMs: 5000, timeoutMs: 15_000 },
      { kind: "http", targets: ["http://x"], intervalMs: 10_000, timeoutMs: 30_000 },
    ]);
    assert.deepEqual(probeSettings({ icmpProbe: { ips: ["1.1.1.1"], intervalMs: 2000, timeoutMs: 500 } }), [
      { kind: "icmp", targets: ["1.1.1.1"], intervalMs: 2000, timeoutMs: 2000 },
    ]);
    assert.deepEqual(probeSettings({ icmpProbe: { ips: [] } }), [], "a probe without targets is no probe");
  });
});

describe("evaluateReadiness", () => {
  const now = 100_000;
  const icmp = { kind: "icmp" as const, timeoutMs: 15_000 };

  it("is ready once applied when no probe is configured", () => {
    assert.equal(evaluateReadiness({ applied: true, draining: false, probes: [], now }).ready, true);
    const r = evaluateReadiness({
      applied: false,
      applyError: "nft failed",
      draining: false,
      probes: [],
      now,
    });
    assert.deepEqual(r, { ready: false, reason: "DataplaneNotApplied", message: "nft failed" });
  });

  it("needs a success of every probe kind within its timeout", () => {
    const base = { applied: true, draining: false, now };
    assert.equal(evaluateReadiness({ ...base, probes: [icmp] }).reason, "ProbeFailed");
    assert.equal(
      evaluateReadiness({ ...base, probes: [{ ...icmp, lastSuccessAt: now - 15_000 }] }).ready,
      true,
    );
    const stale = evaluateReadiness({
      ...base,
      probes: [{ ...icmp, lastSuccessAt: now - 15_001, lastError: "ping: no reply" }],
    });
    assert.equal(stale.ready, false);
    assert.match(
      stale.message,
      /no ICMP probe succeeded in the last 15000 ms \(last error: ping: no reply\)/,
    );
    const http = { kind: "http" as const, timeoutMs: 30_000 };
    const both = evaluateReadiness({ ...base, probes: [{ ...icmp, lastSuccessAt: now }, http] });
    assert.match(both.message, /no HTTP probe succeeded yet/);
  });

  it("is never ready while draining", () => {
    const r = evaluateReadiness({ applied: true, draining: true, probes: [], now });
    assert.deepEqual([r.ready, r.reason], [false, "Draining"]);
  });
});

describe("publish before use", () => {
  it("is not ready before usableAfter (WaitingForFeeds), ready from then on; fencing and draining still come first", () => {
    const base = { applied: true, draining: false, probes: [], usableAfter: 200_000 };
    const waiting = evaluateReadiness({ ...base, now: 199_999 });
    assert.equal(waiting.ready, false);
    assert.equal(waiting.reason, "WaitingForFeeds");
    assert.match(waiting.message, /usable after 1970-01-01T00:03:20.000Z/);
    assert.equal(evaluateReadiness({ ...base, now: 200_000 }).ready, true);
    assert.equal(evaluateReadiness({ ...base, now: 100, draining: true }).reason, "Draining");
    assert.equal(evaluateReadiness({ ...base, now: 100, applied: false }).reason, "DataplaneNotApplied");
  });
});
