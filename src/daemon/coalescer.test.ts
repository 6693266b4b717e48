import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Coalescer } from "./coalescer.js";
import { FakeClock, settle } from "./testing/fake-clock.js";

describe("Coalescer", () => {
  it("runs a burst of triggers once, after the delay", async () => {
    const clock = new FakeClock();
    let runs = 0;
    const c = new Coalescer(clock, 50, async () => void runs++);
    for (let i = 0; i < 10; i++) c.trigger();
    await clock.advance(49);
    assert.equal(runs, 0);
    await clock.advance(1);
    assert.equal(runs, 1);
    assert.equal(c.busy, false);
  });

  it("a trigger during a run schedules exactly one more run; runs never overlap", async () => {
    const clock = new FakeClock();
    let release: () => void = () => undefined;
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const c = new Coalescer(clock, 10, async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => (release = r));
      active--;
    });
    c.trigger();
    await clock.advance(10);
    assert.equal(runs, 1);
    c.trigger();
    c.trigger();
    await clock.advance(100);
    assert.equal(runs, 1, "no second run while the first is in progress");
    release();
    await clock.advance(10);
    assert.equal(runs, 2);
    release();
    await clock.advance(100);
    assert.equal(runs, 2);
    assert.equal(maxActive, 1);
  });

  it("reports a throwing job and keeps working; stop cancels a scheduled run", async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let runs = 0;
    const c = new Coalescer(
      clock,
      5,
      async () => {
        runs++;
        throw new Error("boom");
      },
      (e) => errors.push(e),
    );
    c.trigger();
    await clock.advance(5);
    assert.equal(errors.length, 1);
    c.trigger();
    await c.stop();
    await clock.advance(100);
    await settle();
    assert.equal(runs, 1);
    c.trigger();
    assert.equal(clock.pending, 0, "a stopped coalescer schedules nothing");
  });

  it("an urgent trigger runs without the delay, also when a delayed run is pending or one is running", async () => {
    const clock = new FakeClock();
    let runs = 0;
    let release: () => void = () => undefined;
    let hold = false;
    const c = new Coalescer(clock, 50, async () => {
      runs++;
      if (hold) await new Promise<void>((r) => (release = r));
    });
    c.trigger();
    await clock.advance(10);
    c.trigger(true);
    await clock.advance(0);
    assert.equal(runs, 1, "the pending delayed run went at once");
    await clock.advance(100);
    assert.equal(runs, 1, "and only once");
    hold = true;
    c.trigger(true);
    await clock.advance(0);
    assert.equal(runs, 2);
    c.trigger(true);
    release();
    hold = false;
    await clock.advance(0);
    assert.equal(runs, 3, "the urgent trigger during the run ran right after it");
  });
});
