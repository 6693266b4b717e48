// Malformed selectors: each is rejected with the column of the problem and a message that says
// what was expected.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatSelectorError } from "./errors.js";
import { MAX_SELECTOR_NESTING } from "./parser.js";
import { matchesSelector, parseSelector } from "./selector.js";

interface BadCase {
  selector: string;
  column: number;
  message: RegExp;
}

const BAD: BadCase[] = [
  // missing or wrong values
  { selector: "a == ", column: 6, message: /^expected a quoted value$/ },
  { selector: "a ==", column: 5, message: /^expected a quoted value$/ },
  { selector: "a == b", column: 6, message: /expected a quoted value after '==', found 'b'/ },
  { selector: "a != 1", column: 6, message: /expected a quoted value after '!='/ },
  { selector: "a contains", column: 11, message: /expected a quoted value/ },
  { selector: "a == && b == 'c'", column: 6, message: /found '&&'/ },
  // unterminated strings
  { selector: "a == 'b", column: 6, message: /unterminated string/ },
  { selector: 'a == "b', column: 6, message: /unterminated string: no closing "/ },
  { selector: "a == 'b\"", column: 6, message: /unterminated string: no closing '/ },
  { selector: "a in {'x', 'y}", column: 12, message: /unterminated string/ },
  // unknown operators
  { selector: "a = 'b'", column: 3, message: /unknown operator '='; use '=='/ },
  { selector: "a === 'b'", column: 5, message: /unknown operator '='/ },
  { selector: "has(a) & has(b)", column: 8, message: /unknown operator '&'; use '&&'/ },
  { selector: "has(a) | has(b)", column: 8, message: /unknown operator '\|'; use '\|\|'/ },
  { selector: "a like 'b'", column: 3, message: /unknown operator 'like'; expected ==, !=, in, not in/ },
  { selector: "a ~= 'b'", column: 3, message: /unexpected character '~'/ },
  { selector: "a notin {'b'}", column: 3, message: /unknown operator 'notin'/ },
  { selector: "a not {'b'}", column: 7, message: /expected 'in' after 'not', found '\{'/ },
  { selector: "a starts 'b'", column: 10, message: /expected 'with' after 'starts'/ },
  { selector: "a ends by 'b'", column: 8, message: /expected 'with' after 'ends', found 'by'/ },
  { selector: "a", column: 2, message: /expected an operator .* after label key 'a'; use has\(a\)/ },
  { selector: "a 'b'", column: 3, message: /expected an operator .* found quoted value "b"/ },
  // trailing garbage
  {
    selector: "a == 'b' c",
    column: 10,
    message: /unexpected 'c' after a complete expression; expected '&&' or '\|\|'/,
  },
  {
    selector: "a == 'b' 'c'",
    column: 10,
    message: /unexpected quoted value "c" after a complete expression/,
  },
  { selector: "all() all()", column: 7, message: /after a complete expression/ },
  { selector: "a == 'b' == 'c'", column: 10, message: /unexpected '=='/ },
  // unbalanced parentheses, missing operands
  {
    selector: "(a == 'b'",
    column: 10,
    message: /unclosed '\(' from column 1: expected '\)', found end of input/,
  },
  { selector: "((has(a))", column: 10, message: /unclosed '\(' from column 1/ },
  { selector: "has(a))", column: 7, message: /unexpected '\)' without a matching '\('/ },
  { selector: "()", column: 2, message: /expected a selector expression, found '\)'/ },
  { selector: "!", column: 2, message: /expected a selector expression, found end of input/ },
  { selector: "a == 'b' &&", column: 12, message: /expected a selector expression, found end of input/ },
  { selector: "|| a == 'b'", column: 1, message: /expected a selector expression, found '\|\|'/ },
  { selector: "a == 'b' && || c == 'd'", column: 13, message: /found '\|\|'/ },
  // sets
  { selector: "a in {'x',,'y'}", column: 11, message: /empty set item/ },
  { selector: "a in {'x',}", column: 11, message: /empty set item/ },
  { selector: "a in {,'x'}", column: 7, message: /empty set item/ },
  { selector: "a in {'x' 'y'}", column: 11, message: /expected ',' or '\}' after a set item/ },
  { selector: "a in {'x'", column: 10, message: /expected ',' or '\}'.*end of input/ },
  { selector: "a in 'x'", column: 6, message: /expected '\{' to start a set of quoted values after 'in'/ },
  { selector: "a in {x}", column: 7, message: /expected a quoted value in the set, found 'x'/ },
  // functions
  { selector: "has()", column: 5, message: /expected a label key inside has\(\)/ },
  { selector: "has('a')", column: 5, message: /write the key unquoted/ },
  { selector: "has(a", column: 6, message: /unclosed 'has\(' from column 1/ },
  { selector: "has(a b)", column: 7, message: /unclosed 'has\('.*found 'b'/ },
  { selector: "all(a)", column: 5, message: /all\(\) takes no arguments/ },
  { selector: "global(", column: 8, message: /global\(\) takes no arguments/ },
  {
    selector: "any()",
    column: 1,
    message: /unknown function 'any\(\)'; expected all\(\), global\(\) or has\(key\)/,
  },
  { selector: "All()", column: 1, message: /unknown function 'All\(\)'/ },
  // bad keys
  { selector: "app:name == 'x'", column: 4, message: /invalid character ':' in label key/ },
  { selector: "a b == 'x'", column: 3, message: /unknown operator 'b'/ },
  { selector: "-a == 'x'", column: 1, message: /label key '-a' must start with a letter or digit/ },
  { selector: "a- == 'x'", column: 2, message: /must end with a letter or digit/ },
  { selector: "a/b/c == 'x'", column: 4, message: /more than one '\/'/ },
  { selector: "egw.dev/ == 'x'", column: 9, message: /empty name after '\/'/ },
  { selector: "/a == 'x'", column: 1, message: /empty prefix before '\/'/ },
  { selector: "Egw.dev/a == 'x'", column: 1, message: /invalid prefix 'Egw.dev'.*lower-case DNS name/ },
  { selector: "egw..dev/a == 'x'", column: 5, message: /invalid prefix/ },
  { selector: "has(-a)", column: 5, message: /must start with a letter or digit/ },
  { selector: `${"k".repeat(64)} == 'x'`, column: 1, message: /longer than 63 characters/ },
  { selector: "a == 'x' && b\u00e9 == 'y'", column: 14, message: /invalid character 'é' in label key/ },
  { selector: "a == 'x' @", column: 10, message: /unexpected character '@'/ },
  { selector: "a == 'x' \u0000", column: 10, message: /unexpected character U\+0000/ },
];

test(`malformed selectors are rejected with a located message (${BAD.length} cases)`, () => {
  assert.ok(BAD.length >= 20);
  for (const c of BAD) {
    const parsed = parseSelector(c.selector);
    assert.ok(!parsed.ok, `${JSON.stringify(c.selector)} should be rejected`);
    const shown = formatSelectorError(parsed.error);
    assert.equal(parsed.error.selector, c.selector);
    assert.equal(parsed.error.column, c.column, shown);
    assert.match(parsed.error.message, c.message, shown);
  }
});

test("formatSelectorError names the selector, the problem and the column", () => {
  const parsed = parseSelector("a == ");
  assert.ok(!parsed.ok);
  assert.equal(formatSelectorError(parsed.error), 'selector "a == ": expected a quoted value at column 6');
});

test("the first problem in reading order is reported", () => {
  // The syntax error at column 6 comes before the unterminated string at column 9.
  const parsed = parseSelector("a == == 'b");
  assert.ok(!parsed.ok);
  assert.equal(parsed.error.column, 6);
});

test("nesting is bounded, so hostile input cannot exhaust the stack", () => {
  const ok = (n: number) => `${"(".repeat(n)}has(a)${")".repeat(n)}`;
  assert.ok(parseSelector(ok(MAX_SELECTOR_NESTING)).ok);
  const tooDeep = parseSelector(ok(MAX_SELECTOR_NESTING + 1));
  assert.ok(!tooDeep.ok);
  assert.equal(tooDeep.error.column, MAX_SELECTOR_NESTING + 1);
  assert.match(tooDeep.error.message, /deeper than 100 levels/);

  assert.ok(parseSelector(`${"!".repeat(MAX_SELECTOR_NESTING)}has(a)`).ok);
  const bangs = parseSelector(`${"!".repeat(100_000)}has(a)`);
  assert.ok(!bangs.ok);
  assert.match(bangs.error.message, /deeper than/);
  assert.ok(!parseSelector("(!".repeat(50_000)).ok);
});

test("long flat chains are not nesting", () => {
  const chain = Array.from({ length: 5000 }, (_, i) => `k${i} != 'x'`).join(" && ");
  const parsed = parseSelector(chain);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.matches({}), true);
  assert.equal(parsed.value.matches({ k4999: "x" }), false);
});

test("matchesSelector parses and matches in one step", () => {
  assert.deepEqual(matchesSelector("app == 'web'", { app: "web" }), { ok: true, value: true });
  assert.deepEqual(matchesSelector("global()", {}, { global: true }), { ok: true, value: true });
  const bad = matchesSelector("app ==", { app: "web" });
  assert.ok(!bad.ok);
  assert.equal(bad.error.column, 7);
});
