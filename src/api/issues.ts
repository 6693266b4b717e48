// Validation issues: what is wrong, where (field path) and in which object.

export interface ValidationIssue {
  kind: string;
  namespace?: string;
  name?: string;
  /** Field path such as `spec.cidr`, `spec.rules[2].destination.cidr`, `metadata.labels["a/b"]`. */
  path: string;
  /** Includes the bad value and what would be valid. */
  message: string;
}

/** `IPPool egress-a: spec.cidr: "10.0.0.0/33" is not a valid CIDR` (namespaced: `Kind ns/name: ...`). */
export function formatIssue(i: ValidationIssue): string {
  const kind = i.kind || "object";
  const name = i.name ? (i.namespace ? `${i.namespace}/${i.name}` : i.name) : "";
  const subject = name ? `${kind} ${name}` : kind;
  return `${subject}: ${i.path}: ${i.message}`;
}

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Renders segments as `a.b[2]["x/y"]`: numbers are list indices, odd keys are quoted. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

const MAX_SHOWN = 80;

/** A short, never-throwing rendering of any value for messages: strings quoted, long ones cut. */
export function showValue(v: unknown): string {
  let text: string;
  try {
    if (typeof v === "bigint") text = `${v}n`;
    else if (typeof v === "number") text = Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "0" : String(v);
    else if (v === undefined) text = "undefined";
    else if (typeof v === "function" || typeof v === "symbol") text = `a ${typeof v}`;
    else text = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)) ?? String(v);
  } catch {
    text = Array.isArray(v) ? "a list" : `a ${typeof v}`;
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

/** Collects issues for one object, stamping its kind, namespace and name. */
export class IssueList {
  readonly issues: ValidationIssue[] = [];

  constructor(private readonly subject: { kind: string; namespace?: string; name?: string }) {}

  add(path: readonly PathSegment[], message: string): void {
    const issue: ValidationIssue = { kind: this.subject.kind, path: formatPath(path), message };
    if (this.subject.namespace !== undefined) issue.namespace = this.subject.namespace;
    if (this.subject.name !== undefined) issue.name = this.subject.name;
    this.issues.push(issue);
  }

  /** Adds `<value> <problem>` if problem is defined. */
  check(path: readonly PathSegment[], value: unknown, problem: string | undefined): void {
    if (problem !== undefined) this.add(path, `${showValue(value)} ${problem}`);
  }
}
