// Conformance table: selector text, labels, expected match (Calico semantics).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Labels } from "./ast.js";
import { formatSelectorError } from "./errors.js";
import { parseSelector } from "./selector.js";

interface Case {
  selector: string;
  labels: Labels;
  match: boolean;
  global?: boolean;
}

const POD: Labels = { app: "web", tier: "frontend", env: "prod", "egw.dev/gateway": "gw-a" };
const NS: Labels = { "kubernetes.io/metadata.name": "payments", team: "pay ments" };
const NONE: Labels = {};

const CASES: Case[] = [
  // all(), empty selector, global()
  { selector: "all()", labels: POD, match: true },
  { selector: "all()", labels: NONE, match: true },
  { selector: "", labels: NONE, match: true },
  { selector: "   ", labels: POD, match: true },
  { selector: "all( )", labels: POD, match: true },
  { selector: "!all()", labels: POD, match: false },
  { selector: "global()", labels: POD, match: false },
  { selector: "global()", labels: POD, match: true, global: true },
  { selector: "!global()", labels: POD, match: true },
  { selector: "global() && app == 'web'", labels: POD, match: true, global: true },
  { selector: "global() && app == 'web'", labels: POD, match: false, global: false },
  // equality
  { selector: "app == 'web'", labels: POD, match: true },
  { selector: 'app == "web"', labels: POD, match: true },
  { selector: "app=='web'", labels: POD, match: true },
  { selector: "app == 'db'", labels: POD, match: false },
  { selector: "app == 'web'", labels: NONE, match: false },
  { selector: "app == ''", labels: { app: "" }, match: true },
  { selector: "app == ''", labels: NONE, match: false },
  { selector: "app == 'Web'", labels: POD, match: false },
  // inequality: absent labels match
  { selector: "app != 'web'", labels: POD, match: false },
  { selector: "app != 'db'", labels: POD, match: true },
  { selector: "app != 'web'", labels: NONE, match: true },
  { selector: 'app!="web"', labels: { app: "db" }, match: true },
  { selector: "app != ''", labels: { app: "" }, match: false },
  // has
  { selector: "has(app)", labels: POD, match: true },
  { selector: "has(app)", labels: NONE, match: false },
  { selector: "has( app )", labels: POD, match: true },
  { selector: "has(app)", labels: { app: "" }, match: true },
  { selector: "!has(app)", labels: NONE, match: true },
  { selector: "!has(app)", labels: POD, match: false },
  { selector: "! has(app)", labels: NONE, match: true },
  { selector: "has(egw.dev/gateway)", labels: POD, match: true },
  // in / not in
  { selector: "app in {'web', 'db'}", labels: POD, match: true },
  { selector: "app in {'db','cache'}", labels: POD, match: false },
  { selector: 'app in {"web"}', labels: POD, match: true },
  { selector: "app in {'web', \"db\"}", labels: { app: "db" }, match: true },
  { selector: "app in {'web'}", labels: NONE, match: false },
  { selector: "app in {}", labels: POD, match: false },
  { selector: "app not in {'web', 'db'}", labels: POD, match: false },
  { selector: "app not in {'db'}", labels: POD, match: true },
  { selector: "app not in {'web'}", labels: NONE, match: true },
  { selector: "app not in {}", labels: POD, match: true },
  { selector: "app in{'web'}", labels: POD, match: true },
  {
    selector: "app in {'a','b','c','d','e','f','g','h','i','j','web'}",
    labels: POD,
    match: true,
  },
  { selector: "app in {'a','b','c','d','e','f','g','h','i','j'}", labels: POD, match: false },
  // string operators
  { selector: "app contains 'e'", labels: POD, match: true },
  { selector: "app contains 'x'", labels: POD, match: false },
  { selector: "app contains ''", labels: POD, match: true },
  { selector: "app contains 'e'", labels: NONE, match: false },
  { selector: "app starts with 'we'", labels: POD, match: true },
  { selector: "app starts with 'eb'", labels: POD, match: false },
  { selector: "app starts with 'w'", labels: NONE, match: false },
  { selector: "app ends with 'eb'", labels: POD, match: true },
  { selector: "app ends with 'we'", labels: POD, match: false },
  { selector: 'app ends with "b"', labels: NONE, match: false },
  { selector: "app  starts   with  'web'", labels: POD, match: true },
  { selector: "!app contains 'x'", labels: POD, match: true },
  // quoting: spaces and the other quote character inside values
  { selector: "team == 'pay ments'", labels: NS, match: true },
  { selector: 'team == "pay ments"', labels: NS, match: true },
  { selector: "team == 'payments'", labels: NS, match: false },
  { selector: "q == 'say \"hi\"'", labels: { q: 'say "hi"' }, match: true },
  { selector: 'q == "it\'s"', labels: { q: "it's" }, match: true },
  { selector: "q == '&& || ! ( )'", labels: { q: "&& || ! ( )" }, match: true },
  { selector: "q in {'a b', 'c,d'}", labels: { q: "c,d" }, match: true },
  { selector: "q == 'ünïcødé ✓'", labels: { q: "ünïcødé ✓" }, match: true },
  // keys with prefixes, dots, dashes, underscores
  { selector: "kubernetes.io/metadata.name == 'payments'", labels: NS, match: true },
  { selector: "egw.dev/gateway == 'gw-a'", labels: POD, match: true },
  { selector: "egw.dev/gateway == 'gw-b'", labels: POD, match: false },
  { selector: "my_key.with-dash == 'v'", labels: { "my_key.with-dash": "v" }, match: true },
  { selector: "app.kubernetes.io/name in {'x'}", labels: { "app.kubernetes.io/name": "x" }, match: true },
  { selector: "A9 == 'v'", labels: { A9: "v" }, match: true },
  // keywords are ordinary keys in key position
  { selector: "in == 'x'", labels: { in: "x" }, match: true },
  { selector: "has == 'x'", labels: { has: "x" }, match: true },
  { selector: "all != 'x'", labels: NONE, match: true },
  // labels inherited from Object.prototype are not labels
  { selector: "has(constructor)", labels: NONE, match: false },
  { selector: "toString != 'x'", labels: NONE, match: true },
  { selector: "constructor not in {'x'}", labels: NONE, match: true },
  // precedence: ! tighter than && tighter than ||
  { selector: "app == 'db' || tier == 'frontend' && env == 'prod'", labels: POD, match: true },
  { selector: "app == 'web' || tier == 'x' && env == 'x'", labels: POD, match: true },
  { selector: "(app == 'web' || tier == 'x') && env == 'x'", labels: POD, match: false },
  { selector: "app == 'db' && tier == 'x' || env == 'prod'", labels: POD, match: true },
  { selector: "app == 'db' && (tier == 'x' || env == 'prod')", labels: POD, match: false },
  { selector: "!app == 'db' && env == 'prod'", labels: POD, match: true },
  { selector: "!(app == 'web' && env == 'prod')", labels: POD, match: false },
  { selector: "!app == 'web' || env == 'prod'", labels: POD, match: true },
  { selector: "!(app == 'web' || env == 'x')", labels: POD, match: false },
  { selector: "!!has(app)", labels: POD, match: true },
  { selector: "!!!has(app)", labels: POD, match: false },
  { selector: "has(app) && has(tier) && has(env) && has(egw.dev/gateway)", labels: POD, match: true },
  { selector: "has(x) || has(y) || has(z) || has(app)", labels: POD, match: true },
  { selector: "has(x) || has(y) || has(z)", labels: POD, match: false },
  // parentheses and whitespace
  { selector: "((app == 'web'))", labels: POD, match: true },
  { selector: "( ( has(app) ) )", labels: POD, match: true },
  { selector: "(has(x)||has(app))&&!has(y)", labels: POD, match: true },
  { selector: "\tapp == 'web'\n&&\r\nenv=='prod'  ", labels: POD, match: true },
  { selector: "app=='web'&&env!='dev'||has(x)", labels: POD, match: true },
  { selector: "all() && !has(x) && app in {'web'} && tier not in {'backend'}", labels: POD, match: true },
];

test(`selector conformance table (${CASES.length} cases)`, () => {
  assert.ok(CASES.length >= 70);
  for (const c of CASES) {
    const parsed = parseSelector(c.selector);
    assert.ok(parsed.ok, `${c.selector}: ${parsed.ok ? "" : formatSelectorError(parsed.error)}`);
    const ctx = c.global === undefined ? undefined : { global: c.global };
    assert.equal(
      parsed.value.matches(c.labels, ctx),
      c.match,
      `${JSON.stringify(c.selector)} on ${JSON.stringify(c.labels)}`,
    );
    // The canonical form must select exactly the same objects.
    const again = parseSelector(parsed.value.toString());
    assert.ok(again.ok, `canonical of ${c.selector}: ${parsed.value.toString()}`);
    assert.equal(again.value.matches(c.labels, ctx), c.match, `canonical ${parsed.value.toString()}`);
  }
});
