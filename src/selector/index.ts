// Calico's selector language: parse (with located errors), match label maps, canonical text.
export { selectorLabelKeys, type Labels, type SelectorAst, type SelectorContext } from "./ast.js";
export { canonicalSelector } from "./canonical.js";
export { formatSelectorError, type SelectorError } from "./errors.js";
export { labelKeyProblem } from "./keys.js";
export { MAX_SELECTOR_NESTING, parseSelectorAst } from "./parser.js";
export { compileSelector, matchesSelector, parseSelector, type Selector } from "./selector.js";
