// Shared by apply and validate: turn parsed documents into validated, defaulted resources, or
// every problem found (schema, semantic, and cross-object), each naming document, kind/name and path.
import { kindInfo } from "../api/kinds.js";
import type { Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";
import { validateAgainst } from "../api/cross.js";
import { formatIssue } from "../api/issues.js";
import { validateResource } from "../api/validate.js";
import { withNamespace } from "./apply-plan.js";
import { documentLocation, type InputDocument } from "./yaml-input.js";

export interface ValidatedDocument {
  doc: InputDocument;
  resource: Resource;
}

const refKey = (r: Resource): string => `${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}`;

const describeResource = (r: Resource): string =>
  `${r.kind} ${r.metadata.namespace ? `${r.metadata.namespace}/` : ""}${r.metadata.name}`;

/**
 * Validates each document on its own (schema, defaults, semantics), then the set as a whole
 * against `existing` (objects already stored). Returns all problems, not just the first.
 */
export const validateDocuments = (
  docs: readonly InputDocument[],
  opts: {
    namespace: string;
    explicitNamespace: boolean;
    existing: readonly Resource[];
    /** false offline: references to stored objects (tiers) cannot be checked. */
    references?: boolean;
  },
): Result<ValidatedDocument[], string[]> => {
  const problems: string[] = [];
  const valid: ValidatedDocument[] = [];
  const seen = new Map<string, InputDocument>();
  for (const doc of docs) {
    const where = documentLocation(doc);
    const value = doc.value as { kind?: unknown };
    if (typeof value.kind === "string" && kindInfo(value.kind)?.internal) {
      problems.push(`${where}: kind ${value.kind} is managed by egw and cannot be written`);
      continue;
    }
    const namespaced = withNamespace(doc.value, opts.namespace, opts.explicitNamespace);
    if (!namespaced.ok) {
      problems.push(`${where}: ${namespaced.error}`);
      continue;
    }
    const r = validateResource(namespaced.value);
    if (!r.ok) {
      problems.push(...r.error.map((i) => `${where}: ${formatIssue(i)}`));
      continue;
    }
    const key = refKey(r.value);
    const first = seen.get(key);
    if (first) {
      problems.push(
        `${where}: ${describeResource(r.value)} appears twice (first at ${documentLocation(first)})`,
      );
      continue;
    }
    seen.set(key, doc);
    valid.push({ doc, resource: r.value });
  }
  if (problems.length > 0) return err(problems);
  // The stored versions of objects the input replaces stay in: immutable-field checks need them.
  const cross = validateAgainst(
    valid.map((v) => v.resource),
    opts.existing,
    opts.references === false ? { references: false } : {},
  );
  if (cross.length > 0) return err(cross.map((i) => formatIssue(i)));
  return ok(valid);
};
