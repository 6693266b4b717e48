import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { documentLocation, parseDocuments, readDocuments } from "./yaml-input.js";

const twoDocs = `# pools and gateways
apiVersion: egw.dev/v1
kind: IPPool
metadata:
  name: a
---
apiVersion: egw.dev/v1
kind: EgressGateway
metadata:
  name: gw
`;

describe("parseDocuments", () => {
  it("reads multi-document YAML with the line each document starts on", () => {
    const r = parseDocuments(twoDocs, "f.yaml");
    assert.ok(r.ok);
    assert.equal(r.value.length, 2);
    assert.deepEqual(
      r.value.map((d) => [d.index, d.line, (d.value as { kind: string }).kind]),
      [
        [1, 2, "IPPool"],
        [2, 7, "EgressGateway"],
      ],
    );
    assert.equal(documentLocation(r.value[1]!), "f.yaml:7");
  });

  it("reports YAML syntax errors with file, line and column", () => {
    const r = parseDocuments("kind: IPPool\nmetadata:\n  name: a\n---\nspec: [1, 2\nkind: x\n", "bad.yaml");
    assert.ok(!r.ok);
    assert.equal(r.error.length, 1);
    assert.match(r.error[0]!, /^bad\.yaml:6:1: invalid YAML: /);
  });

  it("reports duplicate keys with their line", () => {
    const r = parseDocuments("kind: IPPool\nkind: Tier\n", "dup.yaml");
    assert.ok(!r.ok);
    assert.match(r.error[0]!, /^dup\.yaml:2:1: invalid YAML: Map keys must be unique/);
  });

  it("rejects empty input, also when it holds only comments and separators", () => {
    for (const text of ["", "  \n", "# nothing\n---\n---\n"]) {
      const r = parseDocuments(text, "empty.yaml");
      assert.ok(!r.ok);
      assert.match(r.error[0]!, /^empty\.yaml is empty/);
    }
  });

  it("skips empty documents between separators", () => {
    const r = parseDocuments("---\nkind: Tier\n---\n---\nkind: IPPool\n", "f.yaml");
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.map((d) => [d.index, d.line]),
      [
        [1, 2],
        [2, 5],
      ],
    );
  });

  it("rejects documents that are not mappings", () => {
    const r = parseDocuments("kind: Tier\n---\njust a string\n", "f.yaml");
    assert.ok(!r.ok);
    assert.match(r.error[0]!, /^f\.yaml:3: expected a resource .*got the string "just a string"/);
  });

  it("expands a kind: List into its items, with each item's line", () => {
    const text =
      "apiVersion: v1\nkind: List\nitems:\n  - kind: Tier\n    metadata: {name: a}\n  - kind: Tier\n    metadata: {name: b}\n";
    const r = parseDocuments(text, "list.yaml");
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.map((d) => [d.line, (d.value as { metadata: { name: string } }).metadata.name]),
      [
        [4, "a"],
        [6, "b"],
      ],
    );
  });

  it("reads JSON objects, arrays and Lists", () => {
    const one = parseDocuments('{"kind": "Tier", "metadata": {"name": "a"}}', "f.json");
    assert.ok(one.ok);
    assert.equal(one.value.length, 1);
    const arr = parseDocuments('[{"kind": "Tier"}, {"kind": "IPPool"}]', "f.json");
    assert.ok(arr.ok);
    assert.equal(arr.value.length, 2);
    const list = parseDocuments('{"kind": "List", "items": [{"kind": "Tier"}]}', "f.json");
    assert.ok(list.ok);
    assert.equal(list.value.length, 1);
    assert.equal(documentLocation(list.value[0]!), "f.json (resource 1)");
  });

  it("reports JSON syntax errors with a line", () => {
    const r = parseDocuments('{\n  "kind": "Tier",\n  "metadata": {"name": "a",}\n}\n', "f.json");
    assert.ok(!r.ok);
    assert.match(r.error[0]!, /^f\.json:3:\d+: invalid JSON: /);
  });
});

describe("readDocuments", () => {
  it("reads files and stdin, and explains missing files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "egw-cli-yaml-"));
    try {
      const path = join(dir, "r.yaml");
      writeFileSync(path, twoDocs);
      const fromFile = await readDocuments(path, () => Promise.reject(new Error("not used")));
      assert.ok(fromFile.ok);
      assert.equal(fromFile.value[0]!.source, path);
      const fromStdin = await readDocuments("-", () => Promise.resolve(twoDocs));
      assert.ok(fromStdin.ok);
      assert.equal(fromStdin.value[0]!.source, "<stdin>");
      const missing = await readDocuments(join(dir, "nope.yaml"), () => Promise.resolve(""));
      assert.ok(!missing.ok);
      assert.match(missing.error[0]!, /does not exist/);
      const isDir = await readDocuments(dir, () => Promise.resolve(""));
      assert.ok(!isDir.ok);
      assert.match(isDir.error[0]!, /is a directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
