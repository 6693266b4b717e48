// Recursive-descent parser for Calico's selector language. Precedence, tightest first: a match
// (`k == 'v'`, `has(k)`, ...) or parenthesised expression, then `!`, then `&&`, then `||`.

import { err, ok, type Result } from "../util/result.js";
import type { SelectorAst } from "./ast.js";
import type { SelectorError } from "./errors.js";
import { labelKeyProblem } from "./keys.js";
import { Lexer, type Token } from "./lexer.js";

/** Parentheses and `!` may nest this deep; beyond it the selector is rejected (bounds recursion). */
export const MAX_SELECTOR_NESTING = 100;

const OPERATORS_HINT = "==, !=, in, not in, contains, starts with or ends with";

/** Thrown inside the parser only (never escapes; no stack needed); parseSelectorAst turns it into a SelectorError. */
class ParseFailure {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** Parses selector text. The empty (or all-blank) selector means `all()`, as in Calico. Never throws. */
export function parseSelectorAst(src: string): Result<SelectorAst, SelectorError> {
  try {
    return ok(new Parser(src).parseSelector());
  } catch (e) {
    if (e instanceof ParseFailure) return err({ selector: src, column: e.offset + 1, message: e.message });
    // A bug here must not crash a daemon that was handed a bad selector.
    return err({ selector: src, column: 1, message: `internal parser error: ${String(e)}` });
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case "end":
      return "end of input";
    case "string":
      return `quoted value ${JSON.stringify(token.value)}`;
    default:
      return `'${token.value}'`;
  }
}

class Parser {
  private readonly lexer: Lexer;
  private depth = 0;

  constructor(private readonly src: string) {
    this.lexer = new Lexer(src);
  }

  parseSelector(): SelectorAst {
    if (this.peek().kind === "end") return { kind: "all" };
    const ast = this.parseOr();
    const trailing = this.peek();
    if (trailing.kind === ")") this.fail(trailing, "unexpected ')' without a matching '('");
    if (trailing.kind !== "end") {
      this.fail(
        trailing,
        `unexpected ${describe(trailing)} after a complete expression; expected '&&' or '||'`,
      );
    }
    return ast;
  }

  private parseOr(): SelectorAst {
    const first = this.parseAnd();
    if (this.peek().kind !== "||") return first;
    const operands = [first];
    while (this.peek().kind === "||") {
      this.next();
      operands.push(this.parseAnd());
    }
    return { kind: "or", operands };
  }

  private parseAnd(): SelectorAst {
    const first = this.parseUnary();
    if (this.peek().kind !== "&&") return first;
    const operands = [first];
    while (this.peek().kind === "&&") {
      this.next();
      operands.push(this.parseUnary());
    }
    return { kind: "and", operands };
  }

  private parseUnary(): SelectorAst {
    const token = this.peek();
    if (token.kind === "!") {
      this.next();
      this.enter(token);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: "not", operand };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): SelectorAst {
    const token = this.next();
    switch (token.kind) {
      case "(": {
        this.enter(token);
        const inner = this.parseOr();
        const close = this.peek();
        if (close.kind !== ")") {
          this.fail(
            close,
            `unclosed '(' from column ${token.start + 1}: expected ')', found ${describe(close)}`,
          );
        }
        this.next();
        this.depth--;
        return inner;
      }
      case "word":
        return this.peek().kind === "(" ? this.parseCall(token) : this.parseMatch(token);
      default:
        return this.fail(token, `expected a selector expression, found ${describe(token)}`);
    }
  }

  /** `all()`, `global()` or `has(key)`; `name` is the word before '('. */
  private parseCall(name: Token): SelectorAst {
    this.next(); // '('
    if (name.value === "all" || name.value === "global") {
      const close = this.next();
      if (close.kind !== ")") this.fail(close, `${name.value}() takes no arguments; expected ')'`);
      return { kind: name.value };
    }
    if (name.value === "has") {
      const key = this.next();
      if (key.kind !== "word") {
        const hint = key.kind === "string" ? " (write the key unquoted, e.g. has(app))" : "";
        this.fail(key, `expected a label key inside has(), found ${describe(key)}${hint}`);
      }
      this.checkKey(key);
      const close = this.next();
      if (close.kind !== ")") {
        this.fail(
          close,
          `unclosed 'has(' from column ${name.start + 1}: expected ')', found ${describe(close)}`,
        );
      }
      return { kind: "has", key: key.value };
    }
    return this.fail(name, `unknown function '${name.value}()'; expected all(), global() or has(key)`);
  }

  /** A comparison starting with the label key `key`. */
  private parseMatch(key: Token): SelectorAst {
    const op = this.next();
    const known = ["in", "not", "contains", "starts", "ends"];
    // Report a bad key only once it is clear the word was meant as a key.
    if (op.kind === "==" || op.kind === "!=" || (op.kind === "word" && known.includes(op.value))) {
      this.checkKey(key);
    }
    switch (op.kind) {
      case "==":
        return { kind: "eq", key: key.value, value: this.expectValue(op) };
      case "!=":
        return { kind: "ne", key: key.value, value: this.expectValue(op) };
      case "word":
        break;
      case "end":
        return this.fail(
          op,
          `expected an operator (${OPERATORS_HINT}) after label key '${key.value}'; use has(${key.value}) to test presence`,
        );
      default:
        return this.fail(
          op,
          `expected an operator (${OPERATORS_HINT}) after label key '${key.value}', found ${describe(op)}`,
        );
    }
    switch (op.value) {
      case "in":
        return { kind: "in", key: key.value, values: this.parseSet(op) };
      case "not":
        this.expectWord(op, "in");
        return { kind: "notIn", key: key.value, values: this.parseSet(op) };
      case "contains":
        return { kind: "contains", key: key.value, value: this.expectValue(op) };
      case "starts":
        this.expectWord(op, "with");
        return { kind: "startsWith", key: key.value, value: this.expectValue(op) };
      case "ends":
        this.expectWord(op, "with");
        return { kind: "endsWith", key: key.value, value: this.expectValue(op) };
      default:
        return this.fail(op, `unknown operator '${op.value}'; expected ${OPERATORS_HINT}`);
    }
  }

  /** `{'a', "b", ...}`; the empty set `{}` is allowed. */
  private parseSet(op: Token): string[] {
    const open = this.next();
    if (open.kind !== "{") {
      this.fail(
        open,
        `expected '{' to start a set of quoted values after '${op.value}', found ${describe(open)}`,
      );
    }
    const values: string[] = [];
    if (this.peek().kind === "}") {
      this.next();
      return values;
    }
    while (true) {
      const item = this.next();
      if (item.kind === "," || item.kind === "}") this.fail(item, "empty set item: expected a quoted value");
      if (item.kind !== "string")
        this.fail(item, `expected a quoted value in the set, found ${describe(item)}`);
      values.push(item.value);
      const sep = this.next();
      if (sep.kind === "}") return values;
      if (sep.kind !== ",") {
        this.fail(sep, `expected ',' or '}' after a set item, found ${describe(sep)}`);
      }
    }
  }

  private expectValue(op: Token): string {
    const token = this.next();
    if (token.kind === "string") return token.value;
    if (token.kind === "end") this.fail(token, "expected a quoted value");
    return this.fail(token, `expected a quoted value after '${op.value}', found ${describe(token)}`);
  }

  private expectWord(after: Token, word: string): void {
    const token = this.next();
    if (token.kind !== "word" || token.value !== word) {
      this.fail(token, `expected '${word}' after '${after.value}', found ${describe(token)}`);
    }
  }

  private checkKey(key: Token): void {
    const problem = labelKeyProblem(key.value);
    if (problem) throw new ParseFailure(key.start + problem.offset, problem.message);
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_SELECTOR_NESTING) {
      this.fail(token, `selector nests '(' and '!' deeper than ${MAX_SELECTOR_NESTING} levels`);
    }
  }

  private peek(): Token {
    const token = this.lexer.peek();
    if (token.kind === "error") throw new ParseFailure(token.start, token.value);
    return token;
  }

  private next(): Token {
    this.peek();
    return this.lexer.next();
  }

  private fail(token: Token, message: string): never {
    throw new ParseFailure(token.start, message);
  }
}
