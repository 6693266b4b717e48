// The shape check of objects read from the datastore, before they reach calc: the same TypeBox
// schemas `egw apply` and `egw validate` use (api/schemas), run by ajv, compiled once per kind. A
// daemon must survive anything other writers stored, so a malformed object is reported (kind/name,
// field path, what is expected) and skipped, never a crash.
//
// Reading is more lenient than writing in one way only: fields a schema does not declare are
// accepted, anywhere (in metadata, spec and status), because other writers add them — kubelets
// and controllers write status fields egw does not model, newer egw versions add fields. Every
// declared field must still have its declared type and values. Defaults and semantic rules (CIDR
// and selector syntax…) are not applied here: calc judges those per object and fails closed.
import type { TSchema } from "@sinclair/typebox";
import { IssueList } from "../api/issues.js";
import { checkSchema } from "../api/schema-check.js";
import { SCHEMAS } from "../api/schemas/all.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A copy of `schema` that accepts undeclared fields at every level. */
function acceptingUnknownFields(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(acceptingUnknownFields);
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "additionalProperties" && value === false) continue;
    out[key] = acceptingUnknownFields(value);
  }
  return out;
}

/** The reading schema of each kind, derived once from the kind's schema. */
const READING = new Map<string, TSchema>(
  Object.entries(SCHEMAS).map(([kind, schema]) => [kind, acceptingUnknownFields(schema) as TSchema]),
);

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Describes an object for messages even when its metadata is broken. */
export function describeObject(kind: string, obj: unknown): string {
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
  const name = text(meta.name) ?? "(no name)";
  const ns = text(meta.namespace);
  return ns !== undefined ? `${kind} ${ns}/${name}` : `${kind} ${name}`;
}

/**
 * undefined when the object has the shape its kind's schema declares; otherwise every reason why
 * not, as `Kind ns/name: path: what is wrong; path: …`.
 */
export function malformed(kind: string, obj: unknown): string | undefined {
  if (!isObject(obj)) return `${kind}: not an object`;
  const subject = describeObject(kind, obj);
  const schema = READING.get(kind);
  if (schema === undefined) return `${subject}: ${kind} is not a kind egw knows`;
  const issues = new IssueList({ kind });
  try {
    if (checkSchema(schema, obj, issues)) return undefined;
  } catch (e) {
    // Only pathological input (e.g. nesting thousands deep) gets here.
    const why = e instanceof RangeError ? "it is nested too deeply or too large" : String(e);
    return `${subject}: cannot be checked: ${why}`;
  }
  return `${subject}: ${issues.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
}
