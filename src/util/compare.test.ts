import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareBy, compareNumbers, compareStrings } from "./compare.js";

describe("comparators", () => {
  it("orders strings by code unit, as sort() does without a comparator", () => {
    const words = ["b", "B", "a", "ä", "A", "aa", ""];
    assert.deepEqual([...words].sort(compareStrings), [...words].sort());
    assert.equal(compareStrings("x", "x"), 0);
  });

  it("orders numbers and bigints numerically, Infinity last", () => {
    assert.deepEqual([10, Infinity, 9, 1, Infinity].sort(compareNumbers), [1, 9, 10, Infinity, Infinity]);
    assert.deepEqual([10n, 9n, 1n].sort(compareNumbers), [1n, 9n, 10n]);
  });

  it("compareBy orders by a string key", () => {
    const items = [{ k: "b" }, { k: "a" }, { k: "c" }];
    assert.deepEqual(
      items.sort(compareBy((i) => i.k)).map((i) => i.k),
      ["a", "b", "c"],
    );
  });
});
