// Element updates: the operations between two versions of a table, their text, and — for random
// edits — that running them in the fake (which merges interval elements as the kernel does)
// leaves exactly the second version.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../util/random.js";
import { addressRange, elementUpdate, intervalRanges, mergeRanges, rangePrefixes } from "./elements.js";
import { FakeNft } from "./fake.js";
import {
  ACCEPT,
  chain,
  jump,
  rule,
  set,
  verdictMap,
  type Element,
  type MapElement,
  type NftMap,
  type NftSet,
  type Table,
  type TableObject,
} from "./objects.js";
import { Transaction } from "./transaction.js";

const ifaces = (xs: string[]): NftSet => set("egw_ifaces", ["ifname"], xs);
const pairs = (xs: [string, string][]): NftSet => set("egw_pairs", ["ifname", "ipv4_addr"], xs);
const pods = (xs: [string, string][]): NftMap =>
  verdictMap(
    "egw_pods",
    ["ipv4_addr"],
    xs.map(([ip, c]) => ({ key: ip, verdict: jump(c) })),
  );
const dsts = (xs: string[]): NftSet => set("egw_dst", ["ipv4_addr"], xs, { interval: true });
const CHAINS = [chain("egw_a", [rule([], [], ACCEPT)]), chain("egw_b", [rule([], [], ACCEPT)])];
const table = (...objects: TableObject[]): Table => ({ name: "egw", objects: [...objects, ...CHAINS] });

const text = (before: Table, after: Table): string => {
  const u = elementUpdate(before, after);
  assert.ok(u !== undefined, "an element update");
  const t = u.transaction.text();
  assert.ok(t.ok, t.ok ? "" : t.error);
  return t.value;
};

describe("address ranges", () => {
  it("reads addresses and prefixes as nft does (host bits ignored)", () => {
    assert.deepEqual(addressRange("10.0.0.1"), [167772161, 167772161]);
    assert.deepEqual(addressRange("10.0.0.7/30"), [167772164, 167772167]);
    assert.equal(addressRange("10.0.0.1/33"), undefined);
    assert.equal(addressRange("nope"), undefined);
  });

  it("merges overlapping and adjacent ranges, and writes a range back as the fewest prefixes", () => {
    const r = intervalRanges(["10.0.0.2", "10.0.0.1", "10.0.0.0/31", "10.0.1.0/24", "10.0.0.8/29"]);
    assert.ok(r !== undefined);
    assert.deepEqual(r.flatMap(rangePrefixes), ["10.0.0.0/31", "10.0.0.2", "10.0.0.8/29", "10.0.1.0/24"]);
    assert.deepEqual(mergeRanges([]), []);
    assert.deepEqual(rangePrefixes([0, 2 ** 32 - 1]), ["0.0.0.0/0"]);
    assert.deepEqual(rangePrefixes([167772161, 167772166]), [
      "10.0.0.1",
      "10.0.0.2/31",
      "10.0.0.4/31",
      "10.0.0.6",
    ]);
  });
});

describe("elementUpdate", () => {
  it("deletes and adds single elements of plain sets and maps, deletions first", () => {
    const before = table(
      ifaces(["ew1", "ew2"]),
      pairs([
        ["ew1", "10.0.0.1"],
        ["ew2", "10.0.0.2"],
      ]),
      pods([
        ["10.0.0.1", "egw_a"],
        ["10.0.0.2", "egw_a"],
      ]),
    );
    const after = table(
      ifaces(["ew1", "ew3"]),
      pairs([
        ["ew1", "10.0.0.1"],
        ["ew3", "10.0.0.3"],
      ]),
      pods([
        ["10.0.0.1", "egw_b"],
        ["10.0.0.3", "egw_a"],
      ]),
    );
    assert.equal(
      text(before, after),
      [
        'delete element inet egw egw_ifaces { "ew2" }',
        'delete element inet egw egw_pairs { "ew2" . 10.0.0.2 }',
        // A key whose verdict changes is deleted and added again: adding it would fail ("File exists").
        "delete element inet egw egw_pods { 10.0.0.1, 10.0.0.2 }",
        'add element inet egw egw_ifaces { "ew3" }',
        'add element inet egw egw_pairs { "ew3" . 10.0.0.3 }',
        "add element inet egw egw_pods { 10.0.0.1 : jump egw_b, 10.0.0.3 : jump egw_a }",
        "",
      ].join("\n"),
    );
    const u = elementUpdate(before, after);
    assert.deepEqual(u?.count, { added: 4, removed: 4, rewritten: 0, sets: 3 });
  });

  it("writes a changed interval set whole, and leaves one that covers the same addresses alone", () => {
    const before = table(dsts(["10.0.0.1/32", "10.0.0.2/32"]));
    assert.equal(
      text(before, table(dsts(["10.0.0.2/32"]))),
      "flush set inet egw egw_dst\n" +
        "table inet egw { set egw_dst { type ipv4_addr; flags interval; auto-merge; elements = { 10.0.0.2/32 }; }; }\n",
    );
    assert.equal(text(before, table(dsts([]))), "flush set inet egw egw_dst\n");
    assert.equal(text(before, table(dsts(["10.0.0.2", "10.0.0.1"]))), "", "same addresses: nothing to do");
  });

  it("is nothing for equal tables and undefined when sets are declared differently", () => {
    const a = table(ifaces(["ew1"]), dsts(["10.0.0.0/8"]));
    assert.equal(text(a, table(ifaces(["ew1"]), dsts(["10.0.0.0/8"]))), "");
    assert.equal(elementUpdate(a, table(ifaces(["ew1"]))), undefined, "a set less");
    assert.equal(
      elementUpdate(a, table(set("egw_ifaces", ["ipv4_addr"], []), dsts(["10.0.0.0/8"]))),
      undefined,
      "another type",
    );
    assert.equal(elementUpdate(a, table(dsts(["10.0.0.0/8"]), ifaces(["ew1"]))), undefined, "another order");
    assert.equal(
      elementUpdate(a, table(ifaces(["ew1"]), set("egw_dst", ["ipv4_addr"], ["10.0.0.1"]))),
      undefined,
      "interval flag",
    );
  });

  it("writes changed plain sets whole when the table's interval sets are big (nft would list them all)", () => {
    const big = Array.from({ length: 3000 }, (_, i) => `100.64.${i >> 8}.${i & 255}/32`);
    const before = table(ifaces(["ew1", "ew2"]), dsts(big));
    const after = table(ifaces(["ew1"]), dsts(big));
    assert.equal(
      text(before, after),
      'flush set inet egw egw_ifaces\ntable inet egw { set egw_ifaces { type ifname; elements = { "ew1" }; }; }\n',
    );
  });
});

describe("elementUpdate against the fake (randomized)", () => {
  const IFACES = Array.from({ length: 12 }, (_, i) => `ew${i}`);
  const IPS = Array.from({ length: 12 }, (_, i) => `10.0.0.${i}`);
  const pick = <T>(rand: () => number, xs: readonly T[]): T[] => xs.filter(() => rand() < 0.5);
  const shuffled = <T>(rand: () => number, xs: readonly T[]): T[] =>
    xs
      .map((x) => [rand(), x] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, x]) => x);

  const randomTable = (rand: () => number, bigIntervals: boolean): Table => {
    const ips = pick(rand, IPS);
    const mapped: MapElement[] = pick(rand, IPS).map((ip) => ({
      key: ip,
      verdict: jump(rand() < 0.5 ? "egw_a" : "egw_b"),
    }));
    // Adjacent addresses and prefixes, so the fake (like the kernel) merges them.
    const cidrs = [...pick(rand, IPS), ...(rand() < 0.3 ? ["10.0.0.0/30"] : [])];
    const big = bigIntervals ? Array.from({ length: 1200 }, (_, i) => `100.64.${i >> 8}.${i & 255}`) : [];
    return table(
      ifaces(shuffled(rand, pick(rand, IFACES))),
      pairs(ips.map((ip, i): [string, string] => [IFACES[i] as string, ip])),
      verdictMap("egw_pods", ["ipv4_addr"], mapped),
      dsts(shuffled(rand, cidrs)),
      set("egw_big", ["ipv4_addr"], big, { interval: true }),
    );
  };

  /** What a table holds, order aside (interval sets as the fake lists them after merging). */
  const content = (t: Table): string[] =>
    t.objects.flatMap((o) => {
      if (o.kind === "chain") return [];
      const keys =
        o.kind === "map"
          ? o.elements.map((e) => `${String(e.key)}:${JSON.stringify(e.verdict)}`)
          : o.kind === "set" && o.interval
            ? (intervalRanges(o.elements) ?? []).flatMap(rangePrefixes)
            : o.elements.map((e: Element) => JSON.stringify(e));
      return [`${o.name}=${[...keys].sort().join(",")}`];
    });

  for (const bigIntervals of [false, true]) {
    it(`turns any table into any other in one transaction (${bigIntervals ? "big" : "small"} interval sets)`, () => {
      const rand = seededRandom(bigIntervals ? 41 : 42);
      let cases = 0;
      for (let k = 0; k < 150; k++) {
        const fake = new FakeNft();
        let current = randomTable(rand, bigIntervals);
        assert.ok(fake.run(new Transaction().replaceTable(current)).ok);
        for (let step = 0; step < 6; step++) {
          const next = randomTable(rand, bigIntervals);
          const u = elementUpdate(current, next);
          assert.ok(u !== undefined);
          const r = fake.run(u.transaction);
          assert.ok(r.ok, r.ok ? "" : `${r.error}\n${u.transaction.text().ok ? "" : ""}`);
          const held = fake.table("egw");
          assert.ok(held !== undefined);
          assert.deepEqual(content(held), content(next));
          current = next;
          cases++;
        }
      }
      assert.equal(cases, 900);
    });
  }
});
