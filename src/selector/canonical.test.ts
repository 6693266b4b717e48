// Canonical form: stable text, equivalent on re-parse, idempotent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { selectorLabelKeys, type SelectorAst } from "./ast.js";
import { canonicalSelector } from "./canonical.js";
import { parseSelector } from "./selector.js";

const CANONICAL: [input: string, canonical: string][] = [
  ["", "all()"],
  ["  all(  )  ", "all()"],
  ["global()", "global()"],
  ["app=='web'", 'app == "web"'],
  ['app  !=  "web"', 'app != "web"'],
  ["has(  app )", "has(app)"],
  ["! has(app)", "!has(app)"],
  ["!!has(app)", "!!has(app)"],
  ["!app == 'x'", '!(app == "x")'],
  ["!(a == 'x' && b == 'y')", '!(a == "x" && b == "y")'],
  ["app in {'z','a',\"m\",'a'}", 'app in {"a", "m", "z"}'],
  ["app not in {}", "app not in {}"],
  ["app in{ 'x' }", 'app in {"x"}'],
  ["app contains'x'", 'app contains "x"'],
  ["app starts  with 'x'", 'app starts with "x"'],
  ["app ends\twith 'x'", 'app ends with "x"'],
  ["q == 'say \"hi\"'", "q == 'say \"hi\"'"],
  ['q == "it\'s"', 'q == "it\'s"'],
  ['q in {\'a"b\', "c"}', 'q in {\'a"b\', "c"}'],
  ["((a == 'x'))", 'a == "x"'],
  ["(a == 'x' || b == 'y') && c == 'z'", '(a == "x" || b == "y") && c == "z"'],
  ["a == 'x' || (b == 'y' && c == 'z')", 'a == "x" || b == "y" && c == "z"'],
  ["(a == 'x' || b == 'y') || c == 'z'", 'a == "x" || b == "y" || c == "z"'],
  ["(a == 'x' && b == 'y') && c == 'z'", 'a == "x" && b == "y" && c == "z"'],
  ["!(has(a) || has(b)) && !(has(c))", "!(has(a) || has(b)) && !has(c)"],
  [
    "egw.dev/gateway=='gw'&&kubernetes.io/metadata.name!='x'",
    'egw.dev/gateway == "gw" && kubernetes.io/metadata.name != "x"',
  ],
];

test("canonical text of selectors", () => {
  for (const [input, expected] of CANONICAL) {
    const parsed = parseSelector(input);
    assert.ok(parsed.ok, input);
    assert.equal(parsed.value.toString(), expected, input);
    assert.equal(canonicalSelector(parsed.value.ast), expected, input);
    // Idempotent: the canonical text is its own canonical text.
    const again = parseSelector(expected);
    assert.ok(again.ok, expected);
    assert.equal(again.value.toString(), expected);
  }
});

test("canonical text of hand-built syntax trees re-parses to an equivalent tree", () => {
  const ast: SelectorAst = {
    kind: "and",
    operands: [
      {
        kind: "or",
        operands: [
          { kind: "has", key: "a" },
          { kind: "not", operand: { kind: "global" } },
        ],
      },
      {
        kind: "not",
        operand: { kind: "and", operands: [{ kind: "eq", key: "b", value: "x y" }, { kind: "all" }] },
      },
      { kind: "notIn", key: "c", values: ["2", "10", "1"] },
    ],
  };
  const text = canonicalSelector(ast);
  assert.equal(text, '(has(a) || !global()) && !(b == "x y" && all()) && c not in {"1", "10", "2"}');
  const parsed = parseSelector(text);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.ast, {
    ...ast,
    operands: [ast.operands[0], ast.operands[1], { kind: "notIn", key: "c", values: ["1", "10", "2"] }],
  });
});

test("selectorLabelKeys lists each referenced key once, in order", () => {
  const parsed = parseSelector(
    "app == 'x' && (!has(egw.dev/gw) || tier in {'a'}) && app != 'y' && all() && global() && z ends with 'q'",
  );
  assert.ok(parsed.ok);
  assert.deepEqual(selectorLabelKeys(parsed.value.ast), ["app", "egw.dev/gw", "tier", "z"]);
  const all = parseSelector("all()");
  assert.ok(all.ok);
  assert.deepEqual(selectorLabelKeys(all.value.ast), []);
});
