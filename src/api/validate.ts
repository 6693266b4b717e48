// validateResource: envelope (apiVersion, kind) → schema → defaults → semantic rules, on a copy.
import { err, ok, type Result } from "../util/result.js";
import { applyDefaults, cloneJson } from "./defaults.js";
import { KINDS, kindInfo } from "./kinds.js";
import { IssueList, type PathSegment, showValue, type ValidationIssue } from "./issues.js";
import type { Resource } from "./meta.js";
import { checkSchema } from "./schema-check.js";
import { SCHEMAS } from "./schemas/all.js";
import { checkMetadata, checkSemantics } from "./semantic.js";

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const VALID_KINDS = KINDS.map((k) => k.kind).join(", ");

/** kind/namespace/name of a possibly malformed object, for stamping its issues. */
function subjectOf(v: unknown): { kind: string; namespace?: string; name?: string } {
  if (!isObject(v)) return { kind: "" };
  const meta = isObject(v.metadata) ? v.metadata : {};
  const subject: { kind: string; namespace?: string; name?: string } = {
    kind: typeof v.kind === "string" ? v.kind : "",
  };
  if (typeof meta.namespace === "string") subject.namespace = meta.namespace;
  if (typeof meta.name === "string") subject.name = meta.name;
  return subject;
}

/** Numbers JSON cannot carry (NaN, ±Infinity, e.g. YAML `.inf`) slip through ajv's number type. */
function checkFiniteNumbers(issues: IssueList, v: unknown, path: PathSegment[]): void {
  if (typeof v === "number" && !Number.isFinite(v)) {
    issues.add(path, `${showValue(v)} is not valid: expected a finite number`);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => checkFiniteNumbers(issues, x, [...path, i]));
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) checkFiniteNumbers(issues, x, [...path, k]);
  }
}

function validateUnsafe(input: unknown): Result<Resource, ValidationIssue[]> {
  const issues = new IssueList(subjectOf(input));
  if (!isObject(input)) {
    issues.add(
      ["kind"],
      `${showValue(input)} is not a resource: expected an object with apiVersion, kind, metadata and spec`,
    );
    return err(issues.issues);
  }
  const info = typeof input.kind === "string" ? kindInfo(input.kind) : undefined;
  if (!info) {
    const given = input.kind === undefined ? "is required" : `${showValue(input.kind)} is not a known kind`;
    issues.add(["kind"], `${given}: expected one of ${VALID_KINDS}`);
    return err(issues.issues);
  }
  const schema = SCHEMAS[info.kind];
  if (!schema) {
    issues.add(["kind"], `${info.kind} has no schema`);
    return err(issues.issues);
  }
  // Validate a private copy: nothing below may alter what the caller handed in.
  const copy = cloneJson(input);
  checkFiniteNumbers(issues, copy, []);
  const schemaOk = checkSchema(schema, copy, issues);
  // Name and label syntax is reported alongside schema errors when metadata itself is well-formed.
  const metadataOk = !issues.issues.some((i) => i.path === "metadata" || i.path.startsWith("metadata."));
  if (metadataOk && isObject(copy.metadata))
    checkMetadata(issues, info.kind, copy.metadata as unknown as Resource["metadata"]);
  if (!schemaOk || issues.issues.length > 0) return err(issues.issues);

  const defaulted = applyDefaults(info.kind, copy as unknown as Resource);
  checkSemantics(issues, defaulted);
  return issues.issues.length > 0 ? err(issues.issues) : ok(defaulted);
}

/**
 * Validates any value as an egw resource and returns a new object with defaults applied, or every
 * problem found, each with a field path. Never throws and never modifies its input.
 */
export function validateResource(obj: unknown): Result<Resource, ValidationIssue[]> {
  try {
    return validateUnsafe(obj);
  } catch (e) {
    // Only pathological input (e.g. nesting thousands deep) gets here.
    let subject: { kind: string; namespace?: string; name?: string } = { kind: "" };
    try {
      subject = subjectOf(obj);
    } catch {
      // keep the anonymous subject
    }
    const reason = e instanceof RangeError ? "it is nested too deeply or too large" : String(e);
    return err([{ ...subject, path: "metadata", message: `the object cannot be validated: ${reason}` }]);
  }
}
