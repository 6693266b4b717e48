// Lint config: recommended JS + type-aware-free TypeScript rules, and egw's layering; formatting
// is prettier's job.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import egw from "./lint/layering.js";

// Layering (README "Layout"): imports point down this list, never up.
//   bench (and test/)                       everything below
//   cli                                     composition root of the egw command
//   controller, agent, gateway, lab, feeds  the processes; they talk through the datastore and
//                                           the kernel, never by importing one another
//   daemon                                  what the long-running processes share
//   calc, dataplane, datastore, ipam, routing
//   api, selector
//   util
// Decisions on rooms of one layer:
// - dataplane may import calc: it renders calc's NodePlan, whose types are calc's. calc imports
//   none of its siblings: it is pure (no I/O module, DESIGN §4).
// - ipam may import datastore: an allocation is a datastore create (the compare-and-swap that
//   makes two allocators safe), so ipam sits beside datastore, not below it. Its address
//   arithmetic is util/ip.ts.
// - routing (BIRD as a tool: config rendering, birdc output parsing, running bird/birdc) imports
//   only the base: which prefixes a node announces is the agent's decision, not routing's.
// - api may import selector (validation parses selectors); selector imports only util.
// - agent, controller, gateway, lab and feeds import none of each other. Tests of one of them may
//   import the others where an end-to-end test composes them (the agent's e2e test runs a real
//   gateway), as the CLI does.
// - Tests (`*.test.ts`, `testing/`, `testing.ts`) follow the same rules, and may also import any
//   test helper.
// - No barrels: there is no `index.ts` re-exporting a folder, and importing an `index.js` fails
//   lint. Every import names the module that defines what it takes, so a file's imports say
//   exactly which modules it depends on, and a folder has no second way in to keep in step.
const BOTTOM = ["util"];
const BASE = ["api", "selector", ...BOTTOM];
const CORE = ["calc", "dataplane", "datastore", "ipam", "routing"];
const PROCESSES = ["controller", "agent", "gateway", "lab", "feeds"];
const LAYERING = {
  rooms: {
    util: [],
    selector: [...BOTTOM],
    api: ["selector", ...BOTTOM],
    calc: [...BASE],
    datastore: [...BASE],
    dataplane: ["calc", ...BASE],
    ipam: ["datastore", ...BASE],
    routing: [...BASE],
    daemon: [...CORE, ...BASE],
    controller: ["daemon", ...CORE, ...BASE],
    agent: ["daemon", ...CORE, ...BASE],
    gateway: ["daemon", ...CORE, ...BASE],
    lab: ["daemon", ...CORE, ...BASE],
    feeds: ["daemon", ...CORE, ...BASE],
    cli: [...PROCESSES, "daemon", ...CORE, ...BASE],
    bench: ["cli", ...PROCESSES, "daemon", ...CORE, ...BASE],
  },
  testRooms: { agent: ["gateway"] },
  noBarrels: true,
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["src/**/*.ts", "bench/**/*.ts"],
    plugins: { egw },
    rules: { "egw/layering": ["error", LAYERING] },
  },
  {
    files: ["**/*.mjs", "**/*.js", "bin/*"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
