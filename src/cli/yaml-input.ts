// Reads the resources a user hands to apply/delete/validate: one file or stdin ("-"), holding
// multi-document YAML, a JSON object, a JSON array, or a `kind: List` with `items`.
import { readFile } from "node:fs/promises";
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { err, ok, type Result } from "../util/result.js";

export interface InputDocument {
  /** The parsed value (not yet validated). */
  value: unknown;
  /** File name as the user gave it, or `<stdin>`. */
  source: string;
  /** 1-based position among the file's resources (List items counted individually). */
  index: number;
  /** 1-based line where the resource starts, when known. */
  line?: number;
}

export const sourceName = (path: string): string => (path === "-" ? "<stdin>" : path);

/** `f.yaml:12` or `f.yaml (resource 3)`: where a document came from, for messages. */
export const documentLocation = (d: InputDocument): string =>
  d.line !== undefined ? `${d.source}:${d.line}` : `${d.source} (resource ${d.index})`;

/** Reads a file or, for "-", everything on stdin. */
export const readSource = async (
  path: string,
  readStdin: () => Promise<string>,
): Promise<Result<string, string>> => {
  if (path === "-") {
    try {
      return ok(await readStdin());
    } catch (e) {
      return err(`cannot read stdin: ${(e as Error).message}`);
    }
  }
  try {
    return ok(await readFile(path, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return err(`file "${path}" does not exist`);
    if (code === "EISDIR") return err(`"${path}" is a directory; give a YAML or JSON file`);
    return err(`cannot read "${path}": ${(e as Error).message}`);
  }
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A `kind: List` (as `egw get -o yaml` prints) carries its objects in `items`. */
const isList = (v: unknown): v is { items: unknown[] } =>
  isRecord(v) && v.kind === "List" && Array.isArray(v.items);

/** Turns "…message at line 4, column 1:\n\n<snippet>" into its first sentence. */
const shortYamlMessage = (message: string): string =>
  (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");

/** Line/column from a JSON.parse error; V8 reports a character position. */
const jsonErrorPosition = (message: string, text: string): { line: number; col: number } | undefined => {
  const m = /position (\d+)/.exec(message);
  if (!m) return undefined;
  const before = text.slice(0, Number(m[1]));
  const lines = before.split("\n");
  return { line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1 };
};

const parseJson = (text: string, source: string): Result<InputDocument[], string[]> => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message.replace(/ in JSON at position \d+.*$/, "");
    const pos = jsonErrorPosition((e as Error).message, text);
    const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
    return err([`${where}: invalid JSON: ${msg}`]);
  }
  const values = Array.isArray(value) ? value : isList(value) ? value.items : [value];
  return ok(values.map((v, i) => ({ value: v, source, index: i + 1 })));
};

/** Line of the node that starts a document or list item. */
const lineOf = (lc: LineCounter, range: readonly number[] | null | undefined): number | undefined =>
  range && range[0] !== undefined ? lc.linePos(range[0]).line : undefined;

const itemsOfYamlDoc = (doc: Document, lc: LineCounter): { value: unknown; line?: number }[] => {
  const value: unknown = doc.toJS();
  const docLine = lineOf(lc, doc.contents?.range);
  const itemNodes = (node: unknown): { range?: readonly number[] | null }[] | undefined =>
    isRecord(node) && Array.isArray(node.items)
      ? (node.items as { range?: readonly number[] | null }[])
      : undefined;
  if (Array.isArray(value)) {
    const nodes = itemNodes(doc.contents);
    return value.map((v, i) => ({ value: v, line: lineOf(lc, nodes?.[i]?.range) ?? docLine }));
  }
  if (isList(value)) {
    const nodes = itemNodes(doc.get("items", true));
    return value.items.map((v, i) => ({ value: v, line: lineOf(lc, nodes?.[i]?.range) ?? docLine }));
  }
  return [{ value, line: docLine }];
};

const parseYaml = (text: string, source: string): Result<InputDocument[], string[]> => {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  if (!Array.isArray(docs)) return ok([]);
  const errors: string[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
      errors.push(`${where}: invalid YAML: ${shortYamlMessage(e.message)}`);
    }
  }
  if (errors.length > 0) return err(errors);
  const out: InputDocument[] = [];
  for (const doc of docs) {
    for (const item of itemsOfYamlDoc(doc, lc)) {
      // `---` separators with nothing between them yield null documents: skip them.
      if (item.value === null || item.value === undefined) continue;
      out.push({ value: item.value, source, index: out.length + 1, line: item.line });
    }
  }
  return ok(out);
};

/**
 * Parses the text into resources-to-be. Syntax errors carry `file:line:column`; an input with no
 * documents is an error; every document must be a mapping.
 */
export const parseDocuments = (text: string, source: string): Result<InputDocument[], string[]> => {
  const trimmed = text.trimStart();
  const parsed =
    trimmed.startsWith("{") || trimmed.startsWith("[") ? parseJson(text, source) : parseYaml(text, source);
  if (!parsed.ok) return parsed;
  const docs = parsed.value.filter((d) => d.value !== null && d.value !== undefined);
  if (docs.length === 0) return err([`${source} is empty: expected at least one YAML or JSON resource`]);
  const notObjects = docs
    .filter((d) => !isRecord(d.value))
    .map(
      (d) =>
        `${documentLocation(d)}: expected a resource (a mapping with apiVersion, kind, metadata), got ${describeValue(d.value)}`,
    );
  return notObjects.length > 0 ? err(notObjects) : ok(docs);
};

const describeValue = (v: unknown): string =>
  Array.isArray(v)
    ? "a list"
    : typeof v === "string"
      ? `the string ${JSON.stringify(v)}`
      : `${typeof v} ${String(v)}`;

/** readSource + parseDocuments. */
export const readDocuments = async (
  path: string,
  readStdin: () => Promise<string>,
): Promise<Result<InputDocument[], string[]>> => {
  const text = await readSource(path, readStdin);
  if (!text.ok) return err([text.error]);
  return parseDocuments(text.value, sourceName(path));
};
