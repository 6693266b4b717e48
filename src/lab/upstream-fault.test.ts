import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseReplicaRef,
  parseUpstreamState,
  renderUpstreamFault,
  UPSTREAM_FAULT_TABLE,
} from "./upstream-fault.js";

describe("lab upstream fault", () => {
  it("parses NAMESPACE/POD and explains anything else", () => {
    assert.deepEqual(parseReplicaRef("egress/shared-0"), {
      ok: true,
      value: { namespace: "egress", pod: "shared-0" },
    });
    for (const bad of ["shared-0", "egress/", "/shared-0", "a/b/c", "Egress/x"]) {
      const r = parseReplicaRef(bad);
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.error, /NAMESPACE\/POD/);
    }
    assert.equal(parseUpstreamState("down").ok, true);
    const bad = parseUpstreamState("off");
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.error, /use down or up/);
  });

  it("down drops the external range in forward (both ways), output and input, before egw's chains", () => {
    const text = renderUpstreamFault("down", "198.18.0.0/15");
    // Declared, removed and re-created in one script: applying it twice is the same as once.
    assert.match(
      text,
      new RegExp(`^table inet ${UPSTREAM_FAULT_TABLE}\\ndelete table inet ${UPSTREAM_FAULT_TABLE}\\n`),
    );
    const chains = [...text.matchAll(/chain (\S+) \{\n\s+type filter hook (\w+) priority filter - 10;/g)].map(
      (m) => m[2],
    );
    assert.deepEqual(chains.sort(), ["forward", "input", "output"]);
    for (const m of ["ip daddr 198.18.0.0/15 counter drop", "ip saddr 198.18.0.0/15 counter drop"])
      assert.ok(text.includes(m), m);
    // Nothing about the tunnel, the nodes or the pod network.
    assert.doesNotMatch(text, /172\.30|10\.244|udp/);
  });

  it("up only removes the table (and does not fail when it is absent)", () => {
    assert.equal(
      renderUpstreamFault("up"),
      `table inet ${UPSTREAM_FAULT_TABLE}\ndelete table inet ${UPSTREAM_FAULT_TABLE}\n`,
    );
  });
});
