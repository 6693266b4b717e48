// Fuzz: seeded (repeatable) random and mutated selector strings. The parser never throws, every
// error is located inside the input, and every accepted selector agrees with a reference
// evaluator and survives a canonical round trip.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Labels, SelectorAst } from "./ast.js";
import { formatSelectorError } from "./errors.js";
import { parseSelector } from "./selector.js";
import { seededRandom } from "../util/random.js";

const rand = seededRandom(0x5e1ec70);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

const KEYS = ["a", "b", "egw.dev/gw", "kubernetes.io/metadata.name"];
const VALUES = ["", "v", "w", "vw", "x y", "it's", 'say "hi"'];

function quoted(v: string): string {
  if (v.includes("'")) return `"${v}"`;
  if (v.includes('"')) return `'${v}'`;
  return rand() < 0.5 ? `'${v}'` : `"${v}"`;
}

/** A random valid selector in the surface syntax, with random spacing. */
function genSelector(depth: number): string {
  const sp = () => pick(["", " ", "  ", "\t"]);
  const k = pick(KEYS);
  const v = () => quoted(pick(VALUES));
  const set = () => `{${sp()}${Array.from({ length: int(4) }, v).join(`${sp()},${sp()}`)}${sp()}}`;
  if (depth > 0 && rand() < 0.45) {
    const parts = Array.from({ length: 2 + int(3) }, () => genSelector(depth - 1));
    const joined = parts.join(`${sp()}${pick(["&&", "||"])}${sp()}`);
    return rand() < 0.5 ? `(${sp()}${joined}${sp()})` : joined;
  }
  if (depth > 0 && rand() < 0.15) return `!${sp()}${genSelector(depth - 1)}`;
  switch (int(11)) {
    case 0:
      return "all()";
    case 1:
      return "global()";
    case 2:
      return `has(${sp()}${k}${sp()})`;
    case 3:
      return `${k}${sp()}==${sp()}${v()}`;
    case 4:
      return `${k}${sp()}!=${sp()}${v()}`;
    case 5:
      return `${k} in${sp()}${set()}`;
    case 6:
      return `${k} not in${sp()}${set()}`;
    case 7:
      return `${k} contains${sp()}${v()}`;
    case 8:
      return `${k} starts with${sp()}${v()}`;
    case 9:
      return `${k} ends with${sp()}${v()}`;
    default:
      return `(${genSelector(0)})`;
  }
}

const SOUP = [
  "a",
  "egw.dev/x",
  "in",
  "not",
  "contains",
  "starts",
  "ends",
  "with",
  "has",
  "all",
  "global",
  "==",
  "!=",
  "=",
  "!",
  "&&",
  "||",
  "&",
  "|",
  "(",
  ")",
  "{",
  "}",
  ",",
  "'v'",
  '"w"',
  "'",
  '"',
  "has(",
  "all()",
  "global()",
  "@",
  "-",
  "/",
  ".",
  "é",
  "\u0000",
  "\n",
  " ",
  "  ",
];
const NOISE = "ab/.-_ ()!=&|{},'\"\t@:é";

function tokenSoup(): string {
  return Array.from({ length: int(12) }, () => pick(SOUP)).join(pick(["", " "]));
}

function mutate(src: string): string {
  let s = src;
  for (let n = 1 + int(3); n > 0; n--) {
    const at = int(s.length + 1);
    switch (int(4)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at) + pick([...NOISE]) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + pick([...NOISE]) + s.slice(at + 1);
        break;
      default:
        s = s.slice(0, at);
    }
  }
  return s;
}

function randomChars(): string {
  return Array.from({ length: int(30) }, () =>
    String.fromCharCode(int(4) === 0 ? int(0x3000) : 32 + int(95)),
  ).join("");
}

/** Reference semantics, written directly from the Calico rules (independent of evaluate.ts). */
function reference(ast: SelectorAst, labels: Labels, global: boolean): boolean {
  const has = (k: string) => Object.hasOwn(labels, k);
  switch (ast.kind) {
    case "all":
      return true;
    case "global":
      return global;
    case "has":
      return has(ast.key);
    case "eq":
      return has(ast.key) && labels[ast.key] === ast.value;
    case "ne":
      return !has(ast.key) || labels[ast.key] !== ast.value;
    case "in":
      return has(ast.key) && ast.values.includes(labels[ast.key]!);
    case "notIn":
      return !has(ast.key) || !ast.values.includes(labels[ast.key]!);
    case "contains":
      return has(ast.key) && labels[ast.key]!.includes(ast.value);
    case "startsWith":
      return has(ast.key) && labels[ast.key]!.startsWith(ast.value);
    case "endsWith":
      return has(ast.key) && labels[ast.key]!.endsWith(ast.value);
    case "not":
      return !reference(ast.operand, labels, global);
    case "and":
      return ast.operands.every((op) => reference(op, labels, global));
    case "or":
      return ast.operands.some((op) => reference(op, labels, global));
  }
}

function randomLabels(): Labels {
  const labels: Record<string, string> = {};
  for (const k of KEYS) if (rand() < 0.6) labels[k] = pick(VALUES);
  return labels;
}

test("fuzz: 12,000 random and mutated selectors never throw and errors are located", () => {
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 12_000; i++) {
    const kind = i % 4;
    const src =
      kind === 0
        ? genSelector(3)
        : kind === 1
          ? mutate(genSelector(3))
          : kind === 2
            ? tokenSoup()
            : randomChars();
    let parsed: ReturnType<typeof parseSelector>;
    try {
      parsed = parseSelector(src);
    } catch (e) {
      assert.fail(`parseSelector threw on ${JSON.stringify(src)}: ${String(e)}`);
    }
    if (!parsed.ok) {
      rejected++;
      const e = parsed.error;
      assert.ok(e.column >= 1 && e.column <= src.length + 1, formatSelectorError(e));
      assert.ok(e.message.length > 0 && !e.message.startsWith("internal"), formatSelectorError(e));
      assert.equal(e.selector, src);
      continue;
    }
    accepted++;
    const selector = parsed.value;
    const canonical = selector.toString();
    const again = parseSelector(canonical);
    assert.ok(again.ok, `canonical of ${JSON.stringify(src)} does not parse: ${canonical}`);
    assert.equal(again.value.toString(), canonical, "canonical form is idempotent");
    for (let j = 0; j < 4; j++) {
      const labels = randomLabels();
      const global = rand() < 0.5;
      const expected = reference(selector.ast, labels, global);
      assert.equal(selector.matches(labels, { global }), expected, `${src} on ${JSON.stringify(labels)}`);
      assert.equal(
        again.value.matches(labels, { global }),
        expected,
        `${canonical} on ${JSON.stringify(labels)}`,
      );
    }
  }
  // The generators must exercise both paths, or the test proves little.
  assert.ok(accepted > 3000, `accepted ${accepted}`);
  assert.ok(rejected > 3000, `rejected ${rejected}`);
});
