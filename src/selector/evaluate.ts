// Compiles a syntax tree into a tree of closures once, so matching allocates nothing and does no
// parsing or regex work per call (it runs over every pod).

import type { Labels, SelectorAst } from "./ast.js";

/** `global` is the context flag `global()` tests. */
export type Matcher = (labels: Labels, global: boolean) => boolean;

/** Sets at most this big are scanned linearly; larger ones use a hash set. */
const LINEAR_SET_MAX = 8;

const always: Matcher = () => true;
const isGlobal: Matcher = (_labels, global) => global;

export function compileMatcher(ast: SelectorAst): Matcher {
  switch (ast.kind) {
    case "all":
      return always;
    case "global":
      return isGlobal;
    case "has": {
      const key = ast.key;
      // typeof, not `in`/hasOwn: inherited members such as `constructor` are not labels.
      return (labels) => typeof labels[key] === "string";
    }
    case "eq": {
      const { key, value } = ast;
      return (labels) => labels[key] === value;
    }
    case "ne": {
      // Calico: matches when the label is absent too.
      const { key, value } = ast;
      return (labels) => labels[key] !== value;
    }
    case "in": {
      const contains = setMembership(ast.values);
      const key = ast.key;
      return (labels) => {
        const v = labels[key];
        return typeof v === "string" && contains(v);
      };
    }
    case "notIn": {
      // Calico: matches when the label is absent too.
      const contains = setMembership(ast.values);
      const key = ast.key;
      return (labels) => {
        const v = labels[key];
        return typeof v !== "string" || !contains(v);
      };
    }
    case "contains": {
      const { key, value } = ast;
      return (labels) => {
        const v = labels[key];
        return typeof v === "string" && v.includes(value);
      };
    }
    case "startsWith": {
      const { key, value } = ast;
      return (labels) => {
        const v = labels[key];
        return typeof v === "string" && v.startsWith(value);
      };
    }
    case "endsWith": {
      const { key, value } = ast;
      return (labels) => {
        const v = labels[key];
        return typeof v === "string" && v.endsWith(value);
      };
    }
    case "not": {
      const operand = compileMatcher(ast.operand);
      return (labels, global) => !operand(labels, global);
    }
    case "and": {
      const operands = ast.operands.map(compileMatcher);
      if (operands.length === 2) {
        const [a, b] = operands as [Matcher, Matcher];
        return (labels, global) => a(labels, global) && b(labels, global);
      }
      return (labels, global) => {
        for (let i = 0; i < operands.length; i++) if (!operands[i]!(labels, global)) return false;
        return true;
      };
    }
    case "or": {
      const operands = ast.operands.map(compileMatcher);
      if (operands.length === 2) {
        const [a, b] = operands as [Matcher, Matcher];
        return (labels, global) => a(labels, global) || b(labels, global);
      }
      return (labels, global) => {
        for (let i = 0; i < operands.length; i++) if (operands[i]!(labels, global)) return true;
        return false;
      };
    }
  }
}

function setMembership(values: readonly string[]): (v: string) => boolean {
  if (values.length > LINEAR_SET_MAX) {
    const set = new Set(values);
    return (v) => set.has(v);
  }
  const list = [...values];
  return (v) => list.includes(v);
}
