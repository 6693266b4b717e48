// ESLint rule `egw/layering`: a module may import only from the rooms (top-level folders of
// src/, and bench/) its room is allowed to depend on. It checks every way a module names another:
// `import`, `import type`, `export … from`, dynamic `import()` (which no-restricted-imports does
// not see) and TypeScript's `import("…")` types. With `noBarrels`, it also rejects importing an
// `index.js` module (a barrel), in any of those forms: an import names the module that defines what
// it takes. The policy (which room may import which, barrels or not) is passed as options by
// eslint.config.js; this file only applies it.
//
// Options: {
//   rooms: { [room]: string[] }       rooms each room may import besides itself
//   testRooms: { [room]: string[] }    extra rooms its tests may import (composition in e2e tests)
//   noBarrels: boolean                 reject imports of index.js modules (default false)
// }
// A file's room: `src/<room>/…` → <room>; `bench/…` → "bench". Files elsewhere are not checked.
// Tests are `*.test.ts` and test helpers (`testing/` folders, `testing.ts`); a test may import
// any test helper, whatever its room.
import path from "node:path";

const roomOf = (rel) => {
  const parts = rel.split(path.sep);
  if (parts[0] === "src" && parts.length > 2) return parts[1];
  if (parts[0] === "bench") return "bench";
  return undefined;
};

const isTestHelper = (rel) =>
  rel.split(path.sep).includes("testing") || path.basename(rel, ".ts") === "testing";
const isTest = (rel) => /\.test\.ts$/.test(rel) || isTestHelper(rel);

/** A relative specifier naming a folder's index module (`./x/index.js`) or the folder itself. */
const isBarrel = (spec) =>
  /(^|\/)index(\.[cm]?[jt]s)?$/.test(spec) || spec.endsWith("/") || spec === "." || spec === "..";

/** The string a module specifier node holds, or undefined when it is computed at run time. */
const specifierOf = (node) => {
  if (node?.type === "Literal" && typeof node.value === "string") return node.value;
  if (node?.type === "TemplateLiteral" && node.expressions.length === 0) return node.quasis[0]?.value.cooked;
  if (node?.type === "TSLiteralType") return specifierOf(node.literal);
  return undefined;
};

export const layering = {
  meta: {
    type: "problem",
    docs: { description: "imports point down the layers of the README (cli → … → util), import() included" },
    schema: [
      {
        type: "object",
        properties: {
          rooms: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
          testRooms: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
          noBarrels: { type: "boolean" },
        },
        required: ["rooms"],
        additionalProperties: false,
      },
    ],
    messages: {
      upward:
        "{{from}} may not import {{to}} ({{spec}}): {{from}} may import {{allowed}}. See the layering decisions in eslint.config.js.",
      unknownRoom: "src/{{room}} is not in the layering of eslint.config.js: add it where it belongs.",
      computed:
        "import() with a computed path cannot be checked for layering: name the module with a string literal.",
      barrel:
        "{{spec}} is a barrel: import from the module that defines the thing (egw has no index.ts re-exports; see eslint.config.js).",
    },
  },
  create(context) {
    const { rooms, testRooms = {}, noBarrels = false } = context.options[0] ?? { rooms: {} };
    const cwd = context.cwd ?? process.cwd();
    const file = path.relative(cwd, context.filename);
    const from = roomOf(file);
    if (from === undefined && !noBarrels) return {};
    const test = isTest(file);
    const allowed = from === undefined ? undefined : rooms[from];

    const check = (node, source) => {
      if (from !== undefined && allowed === undefined) {
        context.report({ node, messageId: "unknownRoom", data: { room: from } });
        return;
      }
      const spec = specifierOf(source);
      if (spec === undefined) {
        if (source !== undefined && from !== undefined) context.report({ node, messageId: "computed" });
        return;
      }
      if (!spec.startsWith(".")) return; // packages and node: builtins
      if (noBarrels && isBarrel(spec)) {
        context.report({ node, messageId: "barrel", data: { spec } });
        return;
      }
      if (from === undefined || allowed === undefined) return;
      const target = path.relative(cwd, path.resolve(path.dirname(context.filename), spec));
      const to = roomOf(target);
      if (to === undefined || to === from || allowed.includes(to)) return;
      if (test && (isTestHelper(target) || (testRooms[from] ?? []).includes(to))) return;
      context.report({
        node,
        messageId: "upward",
        data: { from, to, spec, allowed: allowed.length > 0 ? allowed.join(", ") : "nothing outside itself" },
      });
    };

    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.argument),
    };
  },
};

export default { rules: { layering } };
