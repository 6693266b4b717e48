// A parsed, ready-to-match selector: the public face of this module.

import { err, ok, type Result } from "../util/result.js";
import type { Labels, SelectorAst, SelectorContext } from "./ast.js";
import { canonicalSelector } from "./canonical.js";
import type { SelectorError } from "./errors.js";
import { compileMatcher, type Matcher } from "./evaluate.js";
import { parseSelectorAst } from "./parser.js";

export interface Selector {
  readonly ast: SelectorAst;
  /** Whether an object with these labels is selected; `ctx.global` says it is cluster-scoped. */
  matches(labels: Labels, ctx?: SelectorContext): boolean;
  /** The canonical text (see canonicalSelector). */
  toString(): string;
}

class CompiledSelector implements Selector {
  private readonly matcher: Matcher;
  private canonical: string | undefined;

  constructor(readonly ast: SelectorAst) {
    this.matcher = compileMatcher(ast);
  }

  matches(labels: Labels, ctx?: SelectorContext): boolean {
    return this.matcher(labels, ctx?.global === true);
  }

  toString(): string {
    this.canonical ??= canonicalSelector(this.ast);
    return this.canonical;
  }
}

/** Builds a matcher for a syntax tree (e.g. one from parseSelectorAst or built in code). */
export function compileSelector(ast: SelectorAst): Selector {
  return new CompiledSelector(ast);
}

/** Parses selector text; "" means all(). Never throws: bad input gives a located error. */
export function parseSelector(src: string): Result<Selector, SelectorError> {
  const parsed = parseSelectorAst(src);
  return parsed.ok ? ok(compileSelector(parsed.value)) : parsed;
}

/** Parses and matches in one step; for one-off checks (parse once and reuse in loops). */
export function matchesSelector(
  src: string,
  labels: Labels,
  ctx?: SelectorContext,
): Result<boolean, SelectorError> {
  const parsed = parseSelector(src);
  return parsed.ok ? ok(parsed.value.matches(labels, ctx)) : err(parsed.error);
}
