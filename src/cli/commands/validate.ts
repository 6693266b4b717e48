// `egw validate -f FILE|-`: the checks apply makes, offline (no datastore): schema, semantics and
// cross-checks between the documents of the file.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { CliError } from "../exit.js";
import { validateDocuments } from "../validate-input.js";
import { readDocuments } from "../yaml-input.js";

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("validate")
    .description("check resources offline, without a datastore")
    .requiredOption("-f, --filename <file>", "file with one or more resources, or - for stdin")
    .option("-n, --namespace <ns>", "namespace for namespaced resources that name none")
    .action(async (opts: { filename: string; namespace?: string }) => {
      const docs = await readDocuments(opts.filename, ctx.io.readStdin);
      if (!docs.ok) throw new CliError(docs.error);
      const valid = validateDocuments(docs.value, {
        namespace: ctx.namespace(opts.namespace),
        explicitNamespace: opts.namespace !== undefined,
        existing: [],
        references: false,
      });
      if (!valid.ok) throw new CliError([...valid.error, `${valid.error.length} problem(s) found`]);
      const n = valid.value.length;
      ctx.io.stdout(`${n} document${n === 1 ? "" : "s"} valid\n`);
    });
};
