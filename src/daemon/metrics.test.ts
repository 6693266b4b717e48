import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metrics } from "./metrics.js";

describe("Metrics", () => {
  it("renders the Prometheus text format with sorted, escaped labels", () => {
    const m = new Metrics().counter("x_total", "Things").gauge("y", "Level");
    m.inc("x_total", { result: "ok" });
    m.inc("x_total", { result: "ok" }, 2);
    m.inc("x_total", { result: 'bad "one"', a: "1" });
    m.set("y", 0.5);
    assert.equal(
      m.render(),
      [
        "# HELP x_total Things",
        "# TYPE x_total counter",
        'x_total{result="ok"} 3',
        'x_total{a="1",result="bad \\"one\\""} 1',
        "# HELP y Level",
        "# TYPE y gauge",
        "y 0.5",
        "",
      ].join("\n"),
    );
    assert.equal(m.get("x_total", { result: "ok" }), 3);
    assert.throws(() => m.inc("nope"), /not registered/);
  });

  it("renders histograms with cumulative buckets, +Inf, sum and count", () => {
    const m = new Metrics().histogram("d_seconds", "Delay", [0.5, 0.1]);
    m.observe("d_seconds", 0.05);
    m.observe("d_seconds", 0.3);
    m.observe("d_seconds", 2);
    assert.equal(m.observations("d_seconds"), 3);
    assert.equal(
      m.render(),
      [
        "# HELP d_seconds Delay",
        "# TYPE d_seconds histogram",
        'd_seconds_bucket{le="0.1"} 1',
        'd_seconds_bucket{le="0.5"} 2',
        'd_seconds_bucket{le="+Inf"} 3',
        "d_seconds_sum 2.35",
        "d_seconds_count 3",
        "",
      ].join("\n"),
    );
    assert.throws(() => m.observe("nope", 1), /not registered/);
  });
});
