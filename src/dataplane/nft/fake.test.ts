// The nft fake: transactions apply all or nothing, element operations behave as the kernel's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeNft } from "./fake.js";
import {
  ACCEPT,
  chain,
  counter,
  DROP,
  inSet,
  is,
  jump,
  rule,
  set,
  verdictMap,
  type Table,
} from "./objects.js";
import { tableText } from "./text.js";
import { setRef, Transaction } from "./transaction.js";

const ifaces = set("egw_ifaces", ["ifname"], ["ew1"]);
const pods = verdictMap("egw_pods", ["ipv4_addr"], [{ key: "10.0.0.1", verdict: jump("egw_a") }]);
const egw: Table = {
  name: "egw",
  objects: [
    ifaces,
    pods,
    chain("egw_a", [rule([], [], ACCEPT)]),
    chain("egw_fwd", [rule([is("iifname", inSet("egw_ifaces"))], [counter()], DROP, "known")], {
      type: "filter",
      hook: "forward",
      priority: { base: "filter", offset: 0 },
      policy: "accept",
    }),
  ],
};

const loaded = (): FakeNft => {
  const fake = new FakeNft();
  const r = fake.run(new Transaction().replaceTable(egw));
  assert.ok(r.ok, r.ok ? "" : r.error);
  return fake;
};

describe("FakeNft", () => {
  it("keeps what a transaction loads and dumps it as text", () => {
    const fake = loaded();
    assert.deepEqual(fake.table("egw"), egw);
    assert.equal(fake.dump(), `${tableText(egw)}\n`);
    assert.ok(fake.run(new Transaction().deleteTable("egw")).ok);
    assert.equal(fake.table("egw"), undefined);
    assert.ok(fake.run(new Transaction().deleteTable("egw")).ok, "deleting an absent table is fine");
  });

  it("adds and deletes elements; adding one that is there changes nothing", () => {
    const fake = loaded();
    const r = fake.run(
      new Transaction()
        .addElements(setRef("egw", ifaces), ["ew1", "ew2"])
        .addMapElements(setRef("egw", pods), [
          { key: "10.0.0.1", verdict: jump("egw_a") },
          { key: "10.0.0.2", verdict: jump("egw_a") },
        ])
        .deleteElements(setRef("egw", pods), ["10.0.0.1"]),
    );
    assert.ok(r.ok, r.ok ? "" : r.error);
    const t = fake.table("egw");
    assert.deepEqual(t?.objects[0], { ...ifaces, elements: ["ew1", "ew2"] });
    assert.deepEqual(t?.objects[1], { ...pods, elements: [{ key: "10.0.0.2", verdict: jump("egw_a") }] });
  });

  it("applies nothing of a transaction that fails anywhere", () => {
    const fake = loaded();
    const before = fake.dump();
    const failing = [
      // The kernel: "No such file or directory".
      new Transaction()
        .addElements(setRef("egw", ifaces), ["ew9"])
        .deleteElements(setRef("egw", ifaces), ["ew7"]),
      // The kernel: "File exists".
      new Transaction()
        .addElements(setRef("egw", ifaces), ["ew9"])
        .addMapElements(setRef("egw", pods), [{ key: "10.0.0.1", verdict: DROP }]),
      new Transaction().addMapElements(setRef("egw", pods), [{ key: "10.0.0.5", verdict: jump("egw_fwd") }]),
      new Transaction().addElements({ ...setRef("egw", ifaces), name: "egw_gone" }, ["ew9"]),
      new Transaction().addElements({ ...setRef("egw", ifaces), type: ["ipv4_addr"] }, ["10.0.0.9"]),
      new Transaction().addElements(setRef("egw_other", ifaces), ["ew9"]),
    ];
    const errors = failing.map((tx) => {
      const r = fake.run(tx);
      assert.equal(r.ok, false);
      return r.ok ? "" : r.error;
    });
    assert.match(errors[0] ?? "", /operation 1 \(delete-elements\): egw_ifaces has no element "ew7"/);
    assert.match(errors[1] ?? "", /already maps "10\.0\.0\.1" to another verdict/);
    assert.match(errors[2] ?? "", /jump to "egw_fwd", which is not a regular chain/);
    assert.match(errors[3] ?? "", /has no set or map "egw_gone"/);
    assert.match(errors[4] ?? "", /is a set of ifname, not what the operation expects/);
    assert.match(errors[5] ?? "", /table inet egw_other does not exist/);
    assert.equal(fake.dump(), before);
  });

  it("merges interval elements as the kernel's auto-merge does: a merged prefix cannot be deleted alone", () => {
    const dst = set("egw_dst", ["ipv4_addr"], ["10.0.0.1", "10.0.0.2", "10.0.1.0/24"], { interval: true });
    const fake = new FakeNft();
    assert.ok(fake.run(new Transaction().replaceTable({ name: "egw", objects: [dst] })).ok);
    const listed = (): unknown => fake.table("egw")?.objects[0];
    // Listed back as the fewest prefixes covering what is held (the kernel lists 10.0.0.1-10.0.0.2).
    assert.deepEqual(listed(), { ...dst, elements: ["10.0.0.1", "10.0.0.2", "10.0.1.0/24"] });
    const ref = setRef("egw", dst);
    const r = fake.run(new Transaction().deleteElements(ref, ["10.0.0.2"]));
    assert.equal(r.ok, false, "the kernel says: element does not exist");
    assert.match(r.ok ? "" : r.error, /has no element "10\.0\.0\.2"/);
    assert.ok(fake.run(new Transaction().addElements(ref, ["10.0.0.3", "10.0.0.0/30"])).ok);
    assert.deepEqual(listed(), { ...dst, elements: ["10.0.0.0/30", "10.0.1.0/24"] });
    assert.ok(fake.run(new Transaction().deleteElements(ref, ["10.0.0.0/30"])).ok, "a whole element goes");
    // Setting the elements flushes first, so anything may follow.
    assert.ok(fake.run(new Transaction().setElements(ref, ["10.0.1.5", "10.0.1.6"])).ok);
    assert.deepEqual(listed(), { ...dst, elements: ["10.0.1.5", "10.0.1.6"] });
    assert.ok(fake.run(new Transaction().setElements(ref, [])).ok);
    assert.deepEqual(listed(), { ...dst, elements: [] });
  });

  it("sets a set's or map's elements only where the set exists", () => {
    const fake = loaded();
    const r = fake.run(
      new Transaction()
        .setElements(setRef("egw", ifaces), ["ew5"])
        .setMapElements(setRef("egw", pods), [{ key: "10.0.0.9", verdict: jump("egw_a") }]),
    );
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.deepEqual(fake.table("egw")?.objects[0], { ...ifaces, elements: ["ew5"] });
    assert.deepEqual(fake.table("egw")?.objects[1], {
      ...pods,
      elements: [{ key: "10.0.0.9", verdict: jump("egw_a") }],
    });
    // In the kernel the flush fails, so the declaration that follows never creates the set.
    const missing = fake.run(new Transaction().setElements(setRef("egw_other", ifaces), ["ew1"]));
    assert.equal(missing.ok, false);
    assert.equal(fake.table("egw_other"), undefined);
  });

  it("refuses a transaction that failed its own checks", () => {
    const fake = new FakeNft();
    const r = fake.run(new Transaction().replaceTable({ name: "egw", objects: [chain("bad name", [])] }));
    assert.equal(r.ok, false);
    assert.deepEqual(fake.ruleset(), []);
  });
});
