// Runs a kind's JSON Schema (ajv) and turns ajv's errors into field-path issues that say what the
// bad value was and what would be valid.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { TSchema } from "@sinclair/typebox";
import { type IssueList, type PathSegment, showValue } from "./issues.js";

// strict: off because schemas carry `expected` (message hints) and `x-kubernetes-*` keys.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
const compiled = new WeakMap<TSchema, ValidateFunction>();

type SchemaNode = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** "what is valid" for a schema node, in words. */
export function describeSchema(schema: unknown): string {
  if (!isObject(schema)) return "a valid value";
  if (typeof schema.expected === "string") return schema.expected;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => showValue(v)).join(", ")}`;
  if ("const" in schema) return showValue(schema.const);
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(describeSchema).join(" or ");
  const min = typeof schema.minimum === "number" ? schema.minimum : undefined;
  const max = typeof schema.maximum === "number" ? schema.maximum : undefined;
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` >= ${min}`
        : max !== undefined
          ? ` <= ${max}`
          : "";
  switch (schema.type) {
    case "integer":
      return `an integer${range}`;
    case "number":
      return `a number${range}`;
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "array": {
      const n = typeof schema.minItems === "number" ? schema.minItems : 0;
      const atLeast = n > 0 ? ` of at least ${n} item${n === 1 ? "" : "s"}` : "";
      return `a list${atLeast}, each item ${describeSchema(schema.items)}`;
    }
    case "object":
      return isObject(schema.properties) && Object.keys(schema.properties).length > 0
        ? `an object with fields ${Object.keys(schema.properties).join(", ")}`
        : "an object";
    default:
      return "a valid value";
  }
}

/** JSON pointer (`/spec/rules/0`) to segments, numbers where the data holds a list. */
function pointerToSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const segments: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = isObject(node) ? node[key] : undefined;
    }
  }
  return segments;
}

function messageFor(e: ErrorObject): { extra?: string; message: string } {
  const parent = e.parentSchema as SchemaNode | undefined;
  const value = e.data;
  switch (e.keyword) {
    case "required": {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const props = parent && isObject(parent.properties) ? parent.properties : {};
      return { extra: missing, message: `is required: expected ${describeSchema(props[missing])}` };
    }
    case "additionalProperties": {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = parent && isObject(parent.properties) ? Object.keys(parent.properties) : [];
      const valid = known.length > 0 ? `valid fields are ${known.join(", ")}` : "no fields are allowed here";
      return { extra, message: `unknown field: ${valid}` };
    }
    case "uniqueItems": {
      const { i, j } = e.params as { i: number; j: number };
      return {
        message: `${showValue(value)} is not valid: items ${j} and ${i} are the same; list each once`,
      };
    }
    default:
      return { message: `${showValue(value)} is not valid: expected ${describeSchema(parent)}` };
  }
}

/** Validates `data` against `schema`, adding one issue per problem; returns whether it passed. */
export function checkSchema(schema: TSchema, data: unknown, issues: IssueList): boolean {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(data)) return true;
  const errors = validate.errors ?? [];
  // A failed union reports once, as a whole; drop the per-branch errors beneath it.
  const unionPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  for (const e of errors) {
    if (unionPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    const { extra, message } = messageFor(e);
    const segments = pointerToSegments(e.instancePath, data);
    if (extra !== undefined) segments.push(extra);
    const key = JSON.stringify(segments) + message;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.add(segments, message);
  }
  return false;
}
