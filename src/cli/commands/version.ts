// `egw version`.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { egwVersion } from "../version.js";

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("version")
    .description("print the egw version")
    .action(() => ctx.io.stdout(`egw ${egwVersion()}\n`));
};
