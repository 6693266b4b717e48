import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jittered } from "../daemon/clock.js";
import { HealthTracker } from "./health-tracker.js";
import type { HttpGetResult } from "../daemon/http-get.js";
import { GatewayPoller, readinessUrl } from "./poller.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";

describe("HealthTracker", () => {
  it("is unknown until polled, down after N consecutive failures, up after one success", () => {
    const t = new HealthTracker(3);
    assert.equal(t.state("a"), undefined);
    assert.equal(t.record("a", false), "unchanged");
    assert.equal(t.record("a", false), "unchanged");
    assert.equal(t.record("a", true), true, "a success resets the failure count");
    assert.equal(t.record("a", false), "unchanged");
    assert.equal(t.record("a", false), "unchanged");
    assert.equal(t.record("a", false), false);
    assert.equal(t.record("a", false), "unchanged");
    assert.equal(t.record("a", true), true);
    assert.equal(t.record("a", true), "unchanged");
    assert.deepEqual(t.counts(["a", "b"]), { up: 1, down: 0, unknown: 1 });
    t.forget("a");
    assert.equal(t.state("a"), undefined);
  });
});

describe("jittered", () => {
  it("stays within ±fraction", () => {
    assert.equal(
      jittered(1000, 0.05, () => 0),
      950,
    );
    assert.equal(
      jittered(1000, 0.05, () => 1),
      1050,
    );
    assert.equal(
      jittered(1000, 0.05, () => 0.5),
      1000,
    );
  });
});

describe("GatewayPoller", () => {
  const setup = (threshold = 2) => {
    const clock = new FakeClock();
    const answers = new Map<string, HttpGetResult>();
    const requests: { url: string; timeoutMs: number }[] = [];
    const changes: [string, boolean | undefined][] = [];
    const poller = new GatewayPoller({
      clock,
      intervalMs: 1000,
      failureThreshold: threshold,
      random: () => 0.5,
      httpGet: async (url, timeoutMs) => {
        requests.push({ url, timeoutMs });
        return answers.get(url) ?? { error: "ECONNREFUSED" };
      },
      onChange: (key, h) => changes.push([key, h]),
    });
    return { clock, answers, requests, changes, poller };
  };
  const urlA = readinessUrl("10.0.0.1", 8080);

  it("builds readiness URLs (IPv6 in brackets)", () => {
    assert.equal(urlA, "http://10.0.0.1:8080/readiness");
    assert.equal(readinessUrl("fd00::1", 8080), "http://[fd00::1]:8080/readiness");
  });

  it("marks a replica down after N failed polls and up after a 2xx; 5xx counts as failure", async () => {
    const { clock, answers, requests, changes, poller } = setup();
    answers.set(urlA, { status: 200 });
    poller.setTargets(new Map([["egress/a", urlA]]));
    await clock.advance(500);
    assert.deepEqual(changes, [["egress/a", true]]);
    assert.equal(requests[0]?.timeoutMs, 900, "timeout defaults to 90 % of the interval");
    answers.set(urlA, { status: 503 });
    await clock.advance(1000);
    assert.equal(changes.length, 1, "one failure is not enough");
    await clock.advance(1000);
    assert.deepEqual(changes.at(-1), ["egress/a", false]);
    assert.equal(poller.health("egress/a"), false);
    answers.set(urlA, { status: 204 });
    await clock.advance(1000);
    assert.deepEqual(changes.at(-1), ["egress/a", true]);
    poller.stop();
  });

  it("forgets dropped replicas (health back to unknown) and ignores their in-flight answers", async () => {
    const { clock, answers, changes, poller } = setup(1);
    let release: (r: HttpGetResult) => void = () => undefined;
    answers.set(urlA, { status: 200 });
    poller.setTargets(new Map([["egress/a", urlA]]));
    await clock.advance(500);
    assert.deepEqual(changes, [["egress/a", true]]);
    poller.setTargets(new Map());
    assert.deepEqual(changes.at(-1), ["egress/a", undefined]);
    assert.equal(clock.pending, 0, "no timer left for a dropped replica");

    // A replica dropped while its request is in flight.
    const slow = new GatewayPoller({
      clock,
      intervalMs: 1000,
      failureThreshold: 1,
      random: () => 0,
      httpGet: () => new Promise((r) => (release = r)),
      onChange: (key, h) => changes.push([key, h]),
    });
    slow.setTargets(new Map([["egress/b", urlA]]));
    await clock.advance(1);
    slow.setTargets(new Map());
    const before = changes.length;
    release({ error: "timeout" });
    await clock.advance(5000);
    assert.equal(changes.length, before);
    slow.stop();
  });

  it("polls nothing when the interval is 0", async () => {
    const { clock, requests, answers } = setup();
    const off = new GatewayPoller({
      clock,
      intervalMs: 0,
      failureThreshold: 1,
      httpGet: async () => ({ status: 200 }),
      onChange: () => undefined,
    });
    answers.set(urlA, { status: 200 });
    off.setTargets(new Map([["egress/a", urlA]]));
    await clock.advance(10_000);
    assert.equal(requests.length, 0);
    assert.deepEqual(off.targetKeys(), []);
  });
});
