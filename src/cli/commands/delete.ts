// `egw delete (-f FILE | KIND NAME...) [-n NS]`.
import type { Command } from "commander";
import { kindInfo } from "../../api/kinds.js";
import type { ObjectRef } from "../../api/meta.js";
import { DatastoreUnavailable, orFail, type CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { notFoundText, qualifiedName, validKindsText } from "../kinds.js";
import { documentLocation, readDocuments, type InputDocument } from "../yaml-input.js";
import { kindOrFail, refFor, targetNamespace } from "./get.js";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The identity of a document to delete; only kind, name and namespace matter. */
export const refFromDocument = (doc: InputDocument, defaultNamespace: string): ObjectRef | string => {
  const where = documentLocation(doc);
  const v = doc.value;
  if (!isRecord(v)) return `${where}: not a resource`;
  const info = typeof v.kind === "string" ? kindInfo(v.kind) : undefined;
  if (!info || info.internal)
    return `${where}: kind: unknown kind ${JSON.stringify(v.kind)}; valid kinds: ${validKindsText()}`;
  const meta = isRecord(v.metadata) ? v.metadata : {};
  if (typeof meta.name !== "string" || meta.name === "")
    return `${where}: ${info.kind}: metadata.name is required`;
  if (!info.namespaced) return { kind: info.kind, name: meta.name };
  const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : defaultNamespace;
  return { kind: info.kind, namespace: ns, name: meta.name };
};

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("delete")
    .description("delete resources named on the command line or in a file")
    .argument("[kind]", "kind: singular, plural or short name")
    .argument("[names...]", "names of the objects to delete")
    .option("-f, --filename <file>", "delete the resources in this file (- for stdin)")
    .option("-n, --namespace <ns>", "namespace (namespaced kinds)")
    .action(
      async (
        kindArg: string | undefined,
        names: string[],
        opts: { filename?: string; namespace?: string },
      ) => {
        let refs: ObjectRef[];
        if (opts.filename !== undefined) {
          if (kindArg !== undefined)
            throw new CliError("give either -f FILE or KIND NAME..., not both", EXIT_USAGE);
          const docs = await readDocuments(opts.filename, ctx.io.readStdin);
          if (!docs.ok) throw new CliError(docs.error);
          const ns = ctx.namespace(opts.namespace);
          const parsed = docs.value.map((d) => refFromDocument(d, ns));
          const problems = parsed.filter((p): p is string => typeof p === "string");
          if (problems.length > 0) throw new CliError([...problems, "nothing deleted"]);
          refs = parsed as ObjectRef[];
        } else {
          if (kindArg === undefined) throw new CliError("give -f FILE or KIND NAME...", EXIT_USAGE);
          const info = kindOrFail(kindArg);
          if (names.length === 0)
            throw new CliError(`give the name(s) of the ${info.plural} to delete`, EXIT_USAGE);
          const namespace = targetNamespace(ctx, info, opts);
          refs = names.map((n) => refFor(info, n, namespace));
        }
        const store = await ctx.datastore();
        const failures: string[] = [];
        for (const ref of refs) {
          const r = await store.delete(ref);
          if (r.ok) {
            ctx.io.stdout(`${qualifiedName(ref)} deleted\n`);
          } else if (r.error.code === "NotFound") {
            failures.push(notFoundText(ref));
          } else {
            try {
              orFail(ctx, r, qualifiedName(ref));
            } catch (e) {
              if (e instanceof DatastoreUnavailable || !(e instanceof CliError)) throw e;
              failures.push(...e.messages);
            }
          }
        }
        if (failures.length > 0) throw new CliError(failures);
      },
    );
};
