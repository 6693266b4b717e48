// The canonical text of a selector: one space around binary operators, double quotes (single
// quotes only for a value that contains a double quote), `in` sets sorted and de-duplicated, and
// parentheses only where precedence needs them. Parsing it gives an equivalent selector, and
// canonicalising that gives the same text again.

import type { SelectorAst } from "./ast.js";
import { compareStrings } from "../util/compare.js";

export function canonicalSelector(ast: SelectorAst): string {
  switch (ast.kind) {
    case "all":
      return "all()";
    case "global":
      return "global()";
    case "has":
      return `has(${ast.key})`;
    case "eq":
      return `${ast.key} == ${quote(ast.value)}`;
    case "ne":
      return `${ast.key} != ${quote(ast.value)}`;
    case "in":
      return `${ast.key} in ${set(ast.values)}`;
    case "notIn":
      return `${ast.key} not in ${set(ast.values)}`;
    case "contains":
      return `${ast.key} contains ${quote(ast.value)}`;
    case "startsWith":
      return `${ast.key} starts with ${quote(ast.value)}`;
    case "endsWith":
      return `${ast.key} ends with ${quote(ast.value)}`;
    case "not": {
      const inner = canonicalSelector(ast.operand);
      return isCompact(ast.operand) ? `!${inner}` : `!(${inner})`;
    }
    case "and":
      // An `or` operand needs parentheses; everything else binds tighter than `&&`.
      return ast.operands
        .map((op) => (op.kind === "or" ? `(${canonicalSelector(op)})` : canonicalSelector(op)))
        .join(" && ");
    case "or":
      return ast.operands.map(canonicalSelector).join(" || ");
  }
}

/** Operands that read unambiguously right after `!`. */
function isCompact(ast: SelectorAst): boolean {
  return ast.kind === "all" || ast.kind === "global" || ast.kind === "has" || ast.kind === "not";
}

/** The selector language has no escapes: a value is quoted with a character it does not contain. */
function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

function set(values: readonly string[]): string {
  const sorted = [...new Set(values)].sort(compareStrings);
  return `{${sorted.map(quote).join(", ")}}`;
}
