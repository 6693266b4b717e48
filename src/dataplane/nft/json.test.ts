// Reading what the kernel's sets and maps hold from `nft -j list table` (the shapes nft 1.0.6
// prints, handles left out) and comparing it with rendered sets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { holdsElements, kernelElements } from "./json.js";
import { jump, set, verdictMap } from "./objects.js";

const listing = {
  nftables: [
    { metainfo: { version: "1.0.6", json_schema_version: 1 } },
    { table: { family: "inet", name: "egw" } },
    {
      set: {
        family: "inet",
        name: "egw_pairs",
        table: "egw",
        type: ["ifname", "ipv4_addr"],
        elem: [{ concat: ["ew1", "10.0.0.1"] }, { concat: ["ew2", "10.0.0.2"] }],
      },
    },
    {
      map: {
        family: "inet",
        name: "egw_marks",
        table: "egw",
        type: "mark",
        map: "verdict",
        elem: [
          [0, { drop: null }],
          [65536, { jump: { target: "egw_a" } }],
        ],
      },
    },
    {
      map: {
        family: "inet",
        name: "egw_pods",
        table: "egw",
        type: "ipv4_addr",
        map: "verdict",
        elem: [["10.0.0.1", { goto: { target: "egw_a" } }]],
      },
    },
    {
      set: {
        family: "inet",
        name: "egw_dst",
        table: "egw",
        type: "ipv4_addr",
        flags: ["interval"],
        elem: [
          { prefix: { addr: "10.0.0.0", len: 8 } },
          { range: ["11.0.0.1", "11.0.0.2"] },
          "12.0.0.1",
          { elem: { val: "12.0.0.3", comment: "kept" } },
        ],
      },
    },
    { set: { family: "inet", name: "egw_empty", table: "egw", type: "ifname" } },
    { chain: { family: "inet", table: "egw", name: "egw_a" } },
  ],
};

describe("kernelElements", () => {
  const held = kernelElements(listing);

  it("reads plain sets, verdict maps and interval sets", () => {
    assert.deepEqual([...held.keys()], ["egw_pairs", "egw_marks", "egw_pods", "egw_dst", "egw_empty"]);
    assert.ok(
      holdsElements(
        set(
          "egw_pairs",
          ["ifname", "ipv4_addr"],
          [
            ["ew2", "10.0.0.2"],
            ["ew1", "10.0.0.1"],
          ],
        ),
        held.get("egw_pairs"),
      ),
    );
    assert.ok(
      holdsElements(
        verdictMap(
          "egw_marks",
          ["mark"],
          [
            { key: 65536, verdict: jump("egw_a") },
            { key: 0, verdict: { kind: "drop" } },
          ],
        ),
        held.get("egw_marks"),
      ),
    );
    assert.ok(holdsElements(set("egw_empty", ["ifname"], []), held.get("egw_empty")));
  });

  it("compares interval sets by the addresses they cover", () => {
    const want = (elements: string[]) => set("egw_dst", ["ipv4_addr"], elements, { interval: true });
    assert.ok(
      holdsElements(
        want(["10.0.0.0/8", "11.0.0.2/32", "11.0.0.1", "12.0.0.1", "12.0.0.3"]),
        held.get("egw_dst"),
      ),
    );
    assert.equal(
      holdsElements(want(["10.0.0.0/8", "11.0.0.1", "12.0.0.1", "12.0.0.3"]), held.get("egw_dst")),
      false,
    );
  });

  it("notices a missing, extra or different element, a changed verdict, and a set it cannot read", () => {
    const pairs = (xs: [string, string][]) => set("egw_pairs", ["ifname", "ipv4_addr"], xs);
    assert.equal(holdsElements(pairs([["ew1", "10.0.0.1"]]), held.get("egw_pairs")), false);
    assert.equal(
      holdsElements(
        pairs([
          ["ew1", "10.0.0.1"],
          ["ew2", "10.0.0.3"],
        ]),
        held.get("egw_pairs"),
      ),
      false,
    );
    assert.equal(
      holdsElements(
        verdictMap("egw_pods", ["ipv4_addr"], [{ key: "10.0.0.1", verdict: jump("egw_a") }]),
        held.get("egw_pods"),
      ),
      false,
      "goto is not jump",
    );
    assert.equal(holdsElements(set("egw_gone", ["ifname"], []), held.get("egw_gone")), false);
    const odd = kernelElements({
      nftables: [{ set: { name: "egw_odd", type: "ifname", elem: [{ set: ["x"] }] } }],
    });
    assert.equal(holdsElements(set("egw_odd", ["ifname"], []), odd.get("egw_odd")), false);
  });
});
