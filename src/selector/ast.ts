// The selector syntax tree. `and`/`or` are n-ary so long chains stay flat (no deep recursion).

/** A label map, as carried by pods, namespaces, gateways and network sets. */
export type Labels = Readonly<Record<string, string>>;

/** What a selector may need to know about the labelled object besides its labels. */
export interface SelectorContext {
  /** True when the object is global (cluster-scoped, e.g. a GlobalNetworkSet); `global()` tests this. */
  readonly global?: boolean;
}

export type SelectorAst =
  | { readonly kind: "all" }
  | { readonly kind: "global" }
  | { readonly kind: "has"; readonly key: string }
  | { readonly kind: "eq"; readonly key: string; readonly value: string }
  | { readonly kind: "ne"; readonly key: string; readonly value: string }
  | { readonly kind: "in"; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: "notIn"; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: "contains"; readonly key: string; readonly value: string }
  | { readonly kind: "startsWith"; readonly key: string; readonly value: string }
  | { readonly kind: "endsWith"; readonly key: string; readonly value: string }
  | { readonly kind: "not"; readonly operand: SelectorAst }
  | { readonly kind: "and"; readonly operands: readonly SelectorAst[] }
  | { readonly kind: "or"; readonly operands: readonly SelectorAst[] };

/** Label keys a selector references, each once, in order of first appearance. */
export function selectorLabelKeys(ast: SelectorAst): string[] {
  const keys = new Set<string>();
  const visit = (node: SelectorAst): void => {
    switch (node.kind) {
      case "all":
      case "global":
        return;
      case "not":
        visit(node.operand);
        return;
      case "and":
      case "or":
        for (const operand of node.operands) visit(operand);
        return;
      default:
        keys.add(node.key);
    }
  };
  visit(ast);
  return [...keys];
}
