import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MARK_MASK,
  markOfSlot,
  MAX_GATEWAY_SETS,
  slotOfMark,
  slotOfTable,
  TABLE_LAST,
  tableOfSlot,
} from "./band.js";
import { macForIp } from "./mac.js";

describe("macForIp", () => {
  it("derives IPv4 MACs as a2:2a + the address bytes (Calico's scheme)", () => {
    assert.equal(macForIp("10.128.0.10"), "a2:2a:0a:80:00:0a");
    assert.equal(macForIp("255.1.2.3"), "a2:2a:ff:01:02:03");
  });

  it("derives stable, distinct, locally administered unicast MACs for IPv6", () => {
    const a = macForIp("fd00::1");
    assert.equal(a, macForIp("fd00:0::1"), "canonical form does not matter");
    assert.notEqual(a, macForIp("fd00::2"));
    assert.match(a ?? "", /^a2:2b(:[0-9a-f]{2}){4}$/);
  });

  it("rejects malformed addresses", () => {
    assert.equal(macForIp("10.0.0"), undefined);
    assert.equal(macForIp(""), undefined);
  });
});

describe("band", () => {
  it("maps slots to marks inside the mask and tables inside the band, both ways", () => {
    for (const slot of [1, 2, MAX_GATEWAY_SETS]) {
      const mark = markOfSlot(slot);
      assert.equal(mark & ~MARK_MASK, 0);
      assert.equal(slotOfMark(mark | 0x1234), slot, "bits outside the mask are ignored");
      assert.equal(slotOfTable(tableOfSlot(slot)), slot);
    }
    assert.equal(tableOfSlot(MAX_GATEWAY_SETS), TABLE_LAST);
    assert.equal(slotOfMark(0x1234), undefined);
    assert.equal(slotOfTable(254), undefined);
    assert.equal(slotOfTable(TABLE_LAST + 1), undefined);
  });
});
