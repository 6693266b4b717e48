import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatTable } from "./table.js";

describe("formatTable", () => {
  it("pads columns to their widest cell, aligns as asked and leaves no trailing blanks", () => {
    assert.deepEqual(
      formatTable([
        ["NAME", "AGE", "NOTE"],
        ["a", "10", ""],
        ["longer", "1", "free text"],
      ]),
      ["NAME    AGE  NOTE", "a       10", "longer  1    free text"],
    );
    assert.deepEqual(
      formatTable(
        [
          ["what", "ms"],
          ["x", "1.5"],
          ["longer", "100"],
        ],
        { align: ["left", "right"], gap: " | " },
      ),
      ["what   |  ms", "x      | 1.5", "longer | 100"],
    );
  });

  it("handles rows shorter than others and an empty table", () => {
    assert.deepEqual(formatTable([["a", "b", "c"], ["long"]]), ["a     b  c", "long"]);
    assert.deepEqual(formatTable([]), []);
  });
});
