// Transactions: each operation is checked as it is added, the first problem sticks, and the text
// is what `nft -f` reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ACCEPT,
  chain,
  concat,
  counter,
  DROP,
  goto,
  inSet,
  is,
  isNot,
  jump,
  log,
  rule,
  set,
  verdictMap,
  vmap,
  type Table,
  type TableObject,
} from "./objects.js";
import { setRef, Transaction } from "./transaction.js";

const table = (...objects: TableObject[]): Table => ({ name: "egw_t", objects });
const problem = (t: Table): string | undefined => new Transaction().replaceTable(t).error;

const base = {
  type: "filter",
  hook: "forward",
  priority: { base: "filter", offset: 0 },
  policy: "accept",
} as const;

describe("Transaction", () => {
  const pairs = set("egw_pairs", ["ifname", "ipv4_addr"], [["ew1", "10.0.0.1"]]);
  const pods = verdictMap("egw_pods", ["ipv4_addr"], [{ key: "10.0.0.1", verdict: jump("egw_a") }]);
  const good = table(
    pairs,
    pods,
    chain("egw_a", [rule([], [counter()], ACCEPT, "a")]),
    chain(
      "egw_fwd",
      [
        rule([isNot(concat("iifname", "ip saddr"), inSet("egw_pairs"))], [counter()], DROP, "spoofed"),
        rule([is("iifname", "ew*")], [], vmap("ip saddr", "egw_pods")),
      ],
      base,
    ),
  );

  it("renders a whole-table replacement that declares the table before deleting it", () => {
    const text = new Transaction().replaceTable(good).text();
    assert.ok(text.ok, text.ok ? "" : text.error);
    assert.equal(
      text.value,
      [
        "table inet egw_t",
        "delete table inet egw_t",
        "table inet egw_t {",
        '  set egw_pairs { type ifname . ipv4_addr; elements = { "ew1" . 10.0.0.1 } }',
        "  map egw_pods { type ipv4_addr : verdict; elements = { 10.0.0.1 : jump egw_a } }",
        "  chain egw_a {",
        '    counter accept comment "a"',
        "  }",
        "  chain egw_fwd {",
        "    type filter hook forward priority filter; policy accept;",
        '    iifname . ip saddr != @egw_pairs counter drop comment "spoofed"',
        '    iifname "ew*" ip saddr vmap @egw_pods',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("renders element operations against a set named by reference", () => {
    const tx = new Transaction()
      .addMapElements(setRef("egw_t", pods), [{ key: "10.0.0.2", verdict: jump("egw_a") }])
      .deleteElements(setRef("egw_t", pairs), [["ew1", "10.0.0.1"]])
      .addElements(setRef("egw_t", pairs), []);
    const text = tx.text();
    assert.ok(text.ok);
    assert.equal(
      text.value,
      "add element inet egw_t egw_pods { 10.0.0.2 : jump egw_a }\n" +
        'delete element inet egw_t egw_pairs { "ew1" . 10.0.0.1 }\n',
    );
    assert.equal(tx.operations.length, 2, "an empty element list adds no operation");
  });

  it("sets a set's or map's elements as a flush and a declaration (never creating the set)", () => {
    const dst = set("egw_dst", ["ipv4_addr"], [], { interval: true });
    const tx = new Transaction()
      .setElements(setRef("egw_t", dst), ["10.0.0.0/31", "10.0.0.2"])
      .setMapElements(setRef("egw_t", pods), [{ key: "10.0.0.2", verdict: jump("egw_a") }])
      .setElements(setRef("egw_t", pairs), []);
    const text = tx.text();
    assert.ok(text.ok, text.ok ? "" : text.error);
    assert.equal(
      text.value,
      [
        "flush set inet egw_t egw_dst",
        "table inet egw_t { set egw_dst { type ipv4_addr; flags interval; auto-merge; elements = { 10.0.0.0/31, 10.0.0.2 }; }; }",
        "flush map inet egw_t egw_pods",
        "table inet egw_t { map egw_pods { type ipv4_addr : verdict; elements = { 10.0.0.2 : jump egw_a }; }; }",
        "flush set inet egw_t egw_pairs",
        "",
      ].join("\n"),
    );
    assert.match(
      new Transaction().setElements(setRef("egw_t", pairs), [["ew1", "10.0.0.1/24"]]).error ?? "",
      /set egw_pairs: element .* is not an IPv4 address/,
    );
    assert.match(
      new Transaction().setElements(setRef("egw_t", pods), ["10.0.0.1"]).error ?? "",
      /is a map, not a set/,
    );
  });

  it("rejects names egw must not use", () => {
    assert.match(problem({ ...good, name: "ip" }) ?? "", /table name "ip"/);
    assert.match(problem(table(chain("fwd", []))) ?? "", /chain name "fwd" must be "egw_"/);
    assert.match(problem(table(chain("egw_a", []), set("egw_a", ["ifname"], []))) ?? "", /declared twice/);
  });

  it("rejects elements that do not fit their set", () => {
    assert.match(problem(table(set("egw_s", ["ifname"], ['ew"1']))) ?? "", /is not an interface name/);
    assert.match(problem(table(set("egw_s", ["ipv4_addr"], ["10.0.0.0/8"]))) ?? "", /is not an IPv4 address/);
    assert.equal(problem(table(set("egw_s", ["ipv4_addr"], ["10.0.0.0/8"], { interval: true }))), undefined);
    assert.match(
      problem(table(set("egw_s", ["ifname", "ipv4_addr"], ["ew1"]))) ?? "",
      /does not fit the set's type/,
    );
    assert.match(problem(table(set("egw_s", ["mark"], [-1]))) ?? "", /not an integer 0-0xffffffff/);
    assert.match(problem(table(set("egw_s", ["ipv4_addr"], ["10.0.0.1", "10.0.0.1"]))) ?? "", /listed twice/);
  });

  it("rejects rules naming what the table lacks, or the wrong type", () => {
    const bad = (r: ReturnType<typeof rule>, ...more: TableObject[]) =>
      problem(table(...more, chain("egw_c", [r])));
    assert.match(
      bad(rule([is("ip saddr", inSet("egw_none"))], [], ACCEPT)) ?? "",
      /set "egw_none" does not exist/,
    );
    assert.match(
      bad(rule([is("iifname", inSet("egw_pairs"))], [], ACCEPT), pairs) ?? "",
      /holds ifname \. ipv4_addr, but the match compares ifname/,
    );
    assert.match(bad(rule([], [], jump("egw_nowhere"))) ?? "", /jump to chain "egw_nowhere"/);
    assert.match(
      bad(rule([], [], vmap("ip daddr", "egw_none"))) ?? "",
      /verdict map "egw_none" does not exist/,
    );
    assert.match(bad(rule([], [], ACCEPT, "x".repeat(129))) ?? "", /at most 128 fit/);
    assert.match(bad(rule([], [log("x".repeat(128), 5)], DROP)) ?? "", /at most 127 fit/);
    assert.match(bad(rule([], [], ACCEPT, 'a "quote"')) ?? "", /without '"'/);
    assert.match(bad(rule([is("th dport", 70000)], [], ACCEPT)) ?? "", /not a port 0-65535/);
    assert.match(bad(rule([is("iifname", "e w*")], [], ACCEPT)) ?? "", /not a valid interface-name wildcard/);
  });

  it("rejects jumps into base chains and chains that loop", () => {
    assert.match(
      problem(table(chain("egw_b", [], base), chain("egw_c", [rule([], [], jump("egw_b"))]))) ?? "",
      /base chain "egw_b"/,
    );
    const loop = table(
      chain("egw_a", [rule([], [], goto("egw_b"))]),
      chain("egw_b", [rule([], [], jump("egw_a"))]),
    );
    assert.match(problem(loop) ?? "", /chains loop: egw_a -> egw_b -> egw_a/);
    const viaMap = table(
      verdictMap("egw_m", ["mark"], [{ key: 1, verdict: jump("egw_a") }]),
      chain("egw_a", [rule([], [], vmap("meta mark", "egw_m"))]),
    );
    assert.match(problem(viaMap) ?? "", /chains loop/);
  });

  it("keeps the first problem and ignores what is added after it", () => {
    const tx = new Transaction()
      .replaceTable(good)
      .addElements(setRef("egw_t", pairs), [["ew 2", "10.0.0.2"]])
      .deleteTable("nope!");
    assert.match(tx.error ?? "", /set egw_pairs: element .* is not an interface name/);
    assert.equal(tx.operations.length, 1);
    const text = tx.text();
    assert.equal(text.ok, false);
    assert.match(
      new Transaction().addElements({ ...setRef("egw_t", pods) }, ["10.0.0.3"]).error ?? "",
      /is a map, not a set/,
    );
  });
});
