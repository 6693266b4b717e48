import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BfdDiag, decodeControl, encodeControl, type BfdControl } from "./packet.js";

const base: BfdControl = {
  diag: BfdDiag.None,
  state: "Up",
  poll: false,
  final: false,
  cpi: false,
  auth: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 0x01020304,
  yourDiscriminator: 0xfffffffe,
  desiredMinTxUs: 100_000,
  requiredMinRxUs: 200_000,
  requiredMinEchoRxUs: 0,
};

const bytes = (p: Partial<BfdControl>): Buffer => encodeControl({ ...base, ...p });

const rejects = (b: Buffer, fragment: string): void => {
  const r = decodeControl(b);
  assert.equal(r.ok, false, `expected a rejection mentioning ${fragment}`);
  if (!r.ok) assert.match(r.error, new RegExp(fragment));
};

describe("BFD control packet", () => {
  it("encodes the RFC 5880 §4.1 layout", () => {
    const b = bytes({ diag: BfdDiag.AdminDown, state: "Init", poll: true, cpi: true, detectMult: 5 });
    assert.equal(b.length, 24);
    assert.equal(b[0], (1 << 5) | 7, "version 1, diag 7");
    assert.equal(b[1], (2 << 6) | 0x20 | 0x08, "state Init, P and C");
    assert.equal(b[2], 5);
    assert.equal(b[3], 24);
    assert.equal(b.readUInt32BE(4), 0x01020304);
    assert.equal(b.readUInt32BE(8), 0xfffffffe);
    assert.equal(b.readUInt32BE(12), 100_000);
    assert.equal(b.readUInt32BE(16), 200_000);
    assert.equal(b.readUInt32BE(20), 0);
  });

  it("round-trips every state, diag and flag combination that passes the checks", () => {
    for (const state of ["AdminDown", "Down", "Init", "Up"] as const)
      for (const diag of Object.values(BfdDiag))
        for (const [poll, final] of [
          [false, false],
          [true, false],
          [false, true],
        ] as const)
          for (const cpi of [false, true])
            for (const demand of [false, true]) {
              const p: BfdControl = {
                ...base,
                state,
                diag,
                poll,
                final,
                cpi,
                demand,
                requiredMinEchoRxUs: 50_000,
              };
              assert.deepEqual(decodeControl(encodeControl(p)), { ok: true, value: p });
            }
  });

  it("round-trips the extremes of the numeric fields", () => {
    const p: BfdControl = {
      ...base,
      diag: 31,
      detectMult: 255,
      myDiscriminator: 0xffffffff,
      yourDiscriminator: 0,
      state: "Down",
      desiredMinTxUs: 0xffffffff,
      requiredMinRxUs: 0,
      requiredMinEchoRxUs: 0xffffffff,
    };
    assert.deepEqual(decodeControl(encodeControl(p)), { ok: true, value: p });
  });

  it("refuses to encode a field out of range", () => {
    assert.throws(() => bytes({ diag: 32 }), /diag 32/);
    assert.throws(() => bytes({ detectMult: 256 }), /detectMult 256/);
    assert.throws(() => bytes({ myDiscriminator: -1 }), /myDiscriminator -1/);
    assert.throws(() => bytes({ desiredMinTxUs: 2 ** 32 }), /desiredMinTxUs/);
    assert.throws(() => bytes({ requiredMinRxUs: 1.5 }), /requiredMinRxUs/);
  });

  it("accepts a longer payload than the length field (trailing bytes are the transport's)", () => {
    const b = Buffer.concat([bytes({}), Buffer.alloc(8)]);
    assert.equal(decodeControl(b).ok, true);
  });

  describe("reception checks (RFC 5880 §6.8.6)", () => {
    it("a payload shorter than 24 bytes", () => rejects(bytes({}).subarray(0, 23), "23 bytes"));

    it("a version other than 1", () => {
      const b = bytes({});
      b[0] = (2 << 5) | (b[0]! & 0x1f);
      rejects(b, "version 2");
      b[0] = b[0]! & 0x1f;
      rejects(b, "version 0");
    });

    it("a length field below 24", () => {
      const b = bytes({});
      b[3] = 23;
      rejects(b, "length field 23");
    });

    it("a length field below 26 with the A bit set", () => {
      const b = Buffer.concat([bytes({ auth: true }), Buffer.alloc(2)]);
      b[3] = 24;
      rejects(b, "length field 24: must be at least 26");
    });

    it("a length field larger than the payload", () => {
      const b = bytes({});
      b[3] = 25;
      rejects(b, "larger than the 24-byte payload");
    });

    it("a detect mult of 0", () => rejects(bytes({ detectMult: 0 }), "detect mult 0"));

    it("the multipoint bit", () => rejects(bytes({ multipoint: true }), "multipoint"));

    it("a my discriminator of 0", () => rejects(bytes({ myDiscriminator: 0 }), "my discriminator 0"));

    it("a your discriminator of 0 outside Down and AdminDown", () => {
      rejects(bytes({ yourDiscriminator: 0, state: "Up" }), "your discriminator 0 in state Up");
      rejects(bytes({ yourDiscriminator: 0, state: "Init" }), "your discriminator 0 in state Init");
      assert.equal(decodeControl(bytes({ yourDiscriminator: 0, state: "Down" })).ok, true);
      assert.equal(decodeControl(bytes({ yourDiscriminator: 0, state: "AdminDown" })).ok, true);
    });

    it("an authentication section (none is configured)", () => {
      const b = Buffer.concat([bytes({ auth: true }), Buffer.alloc(4)]);
      b[3] = 28;
      rejects(b, "authentication present");
    });

    it("poll and final together", () => {
      const b = bytes({ poll: true });
      b[1] = b[1]! | 0x10;
      rejects(b, "poll and final");
    });
  });
});
