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
});
