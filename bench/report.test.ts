import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fmtMs, median, percentile } from "./report.js";

describe("bench report", () => {
  it("medians and nearest-rank percentiles", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([5], 99), 5);
  });

  it("formats times with sensible precision", () => {
    assert.equal(fmtMs(123.4), "123 ms");
    assert.equal(fmtMs(4.56), "4.6 ms");
    assert.equal(fmtMs(0.0123), "0.012 ms");
  });
});
