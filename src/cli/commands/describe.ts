// `egw describe KIND NAME [-n NS]`: one object, human-readable.
import type { Command } from "commander";
import { orFail, type CliContext } from "../context.js";
import { CliError } from "../exit.js";
import { notFoundText } from "../kinds.js";
import { renderDescription } from "../output.js";
import { kindOrFail, refFor, targetNamespace } from "./get.js";

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("describe")
    .description("show one resource in detail: metadata, labels, annotations, spec and status")
    .argument("<kind>", "kind: singular, plural or short name")
    .argument("<name>", "object name")
    .option("-n, --namespace <ns>", "namespace (namespaced kinds)")
    .action(async (kindArg: string, name: string, opts: { namespace?: string }) => {
      const info = kindOrFail(kindArg);
      const ref = refFor(info, name, targetNamespace(ctx, info, opts));
      const store = await ctx.datastore();
      const r = await store.get(ref);
      if (!r.ok && r.error.code === "NotFound") throw new CliError(notFoundText(ref));
      ctx.io.stdout(renderDescription(orFail(ctx, r), ctx.io.now()));
    });
};
