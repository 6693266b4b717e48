// `egw apply -f FILE|-`: validate every document first, then create or update each (all or nothing
// on invalid input; compare-and-swap updates that never touch status).
import type { Command } from "commander";
import { describeRef, refOf, type Resource } from "../../api/meta.js";
import type { Datastore } from "../../datastore/types.js";
import { planApply } from "../apply-plan.js";
import { DatastoreUnavailable, orFail, type CliContext } from "../context.js";
import { CliError } from "../exit.js";
import { qualifiedName } from "../kinds.js";
import { validateDocuments } from "../validate-input.js";
import { readDocuments } from "../yaml-input.js";

/**
 * Kinds whose stored objects validateAgainst reads (pool overlap, immutable pool fields, tiers,
 * advertised pools, BGP peers against nodes and each other).
 */
export const CROSS_CHECK_KINDS = ["IPPool", "Tier", "Node", "BGPPeer"] as const;

/** Attempts per object when someone else updates it between our read and our write. */
const MAX_ATTEMPTS = 3;

type Outcome = "created" | "configured" | "unchanged";

const loadExisting = async (
  ctx: CliContext,
  store: Datastore,
  kinds: Iterable<string>,
): Promise<Resource[]> => {
  const out: Resource[] = [];
  for (const kind of new Set(kinds)) {
    const r = orFail(ctx, await store.list(kind), `listing ${kind} objects`);
    out.push(...r.items);
  }
  return out;
};

const applyOne = async (ctx: CliContext, store: Datastore, desired: Resource): Promise<Outcome> => {
  const ref = refOf(desired);
  const what = describeRef(ref);
  const pinned = desired.metadata.resourceVersion;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const got = await store.get(ref);
    if (!got.ok && got.error.code !== "NotFound") orFail(ctx, got, what);
    const stored = got.ok ? got.value : undefined;
    const step = planApply(desired, stored);
    if (step.action === "unchanged") return "unchanged";
    const written =
      step.action === "create" ? await store.create(step.object) : await store.update(step.object);
    if (written.ok) return step.action === "create" ? "created" : "configured";
    const code = written.error.code;
    if (code === "Conflict" && pinned !== undefined) {
      throw new CliError(
        `${what}: the object was modified since metadata.resourceVersion "${pinned}" in the file ` +
          `(stored: "${stored?.metadata.resourceVersion ?? "?"}"); get the current version and apply again, ` +
          `or remove metadata.resourceVersion to overwrite`,
      );
    }
    // Someone created or changed it between our read and write: read again and redo.
    if (code === "Conflict" || code === "AlreadyExists") continue;
    orFail(ctx, written, what);
  }
  throw new CliError(
    `${what} was modified concurrently ${MAX_ATTEMPTS} times while applying; retry the apply`,
  );
};

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("apply")
    .description("create or update resources from a YAML/JSON file (all documents are validated first)")
    .requiredOption("-f, --filename <file>", "file with one or more resources, or - for stdin")
    .option("-n, --namespace <ns>", "namespace for namespaced resources that name none")
    .action(async (opts: { filename: string; namespace?: string }) => {
      const docs = await readDocuments(opts.filename, ctx.io.readStdin);
      if (!docs.ok) throw new CliError(docs.error);
      const store = await ctx.datastore();
      const existing = await loadExisting(ctx, store, CROSS_CHECK_KINDS);
      const valid = validateDocuments(docs.value, {
        namespace: ctx.namespace(opts.namespace),
        explicitNamespace: opts.namespace !== undefined,
        existing,
      });
      if (!valid.ok) {
        const n = docs.value.length;
        throw new CliError([
          ...valid.error,
          `nothing applied: ${valid.error.length} problem(s); none of the ${n} document(s) of ${opts.filename === "-" ? "stdin" : opts.filename} was written`,
        ]);
      }
      const failures: string[] = [];
      for (const { resource } of valid.value) {
        try {
          const outcome = await applyOne(ctx, store, resource);
          ctx.io.stdout(`${qualifiedName(refOf(resource), resource.apiVersion)} ${outcome}\n`);
        } catch (e) {
          // Unreachable datastore: every further object would wait for the same timeout.
          if (!(e instanceof CliError) || e instanceof DatastoreUnavailable) throw e;
          failures.push(...e.messages);
        }
      }
      if (failures.length > 0) throw new CliError(failures);
    });
};
