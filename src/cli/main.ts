// The egw CLI: builds the commander program from the command modules and maps outcomes to exit codes.
import { Command, CommanderError, Option } from "commander";
import * as agent from "./commands/agent.js";
import * as apply from "./commands/apply.js";
import * as controller from "./commands/controller.js";
import * as crds from "./commands/crds.js";
import * as del from "./commands/delete.js";
import * as describe from "./commands/describe.js";
import * as drain from "./commands/drain.js";
import * as explain from "./commands/explain.js";
import * as feeds from "./commands/feeds.js";
import * as gateway from "./commands/gateway.js";
import * as get from "./commands/get.js";
import * as lab from "./commands/lab.js";
import * as validate from "./commands/validate.js";
import * as version from "./commands/version.js";
import { DATASTORE_TYPES } from "./config.js";
import {
  createContext,
  type CliContext,
  type CliIO,
  type CliPorts,
  type DatastoreOpener,
} from "./context.js";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, formatErrorLines } from "./exit.js";
import { labPolicyCounters } from "./lab-counters.js";
import { egwVersion } from "./version.js";

interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/** Every command group, in help order. Add a group here (e.g. the lab commands) with one line. */
const COMMANDS: readonly CommandModule[] = [
  apply,
  get,
  describe,
  explain,
  del,
  drain, // cordon, uncordon, drain (node maintenance)
  validate,
  crds,
  version,
  lab, // up, down, exec, status, logs, lab firewall
  controller,
  agent,
  gateway,
  feeds,
];

/** What the CLI reaches beyond the datastore: the lab's counter reader on this machine. */
const PORTS: CliPorts = { policyCounters: labPolicyCounters };

export const buildProgram = (
  io: CliIO,
  opener?: DatastoreOpener,
  ports: CliPorts = PORTS,
): { program: Command; ctx: CliContext } => {
  const program = new Command("egw");
  // Settings first: subcommands created by .command() inherit them.
  program
    .description("egress gateways with access control for Kubernetes")
    .version(egwVersion(), "--version", "print the egw version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .addOption(
      new Option(
        "--datastore <type>",
        "datastore (default: EGW_DATASTORE_TYPE, config file, or etcd)",
      ).choices(DATASTORE_TYPES),
    )
    .option("--config <file>", "config file (default: EGW_CONFIG, or ~/.config/egw/config.yaml)");
  const ctx = createContext(program, io, opener, ports);
  for (const m of COMMANDS) m.register(program, ctx);
  return { program, ctx };
};

/** Runs one invocation (`args` without node and script) and returns the exit code; never throws. */
export const run = async (
  args: readonly string[],
  io: CliIO,
  opener?: DatastoreOpener,
  ports?: CliPorts,
): Promise<number> => {
  const { program, ctx } = buildProgram(io, opener, ports);
  try {
    await program.parseAsync([...args], { from: "user" });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or the help / version text).
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof CliError) {
      io.stderr(formatErrorLines(e.messages));
      return e.exitCode;
    }
    io.stderr(
      formatErrorLines([`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`]),
    );
    return EXIT_FAILURE;
  } finally {
    try {
      await ctx.close();
    } catch {
      // closing a broken connection must not change the outcome
    }
  }
};

const readAllStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

export const processIO = (): CliIO => ({
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  readStdin: readAllStdin,
  env: process.env,
  now: () => new Date(),
});

/** Entry point used by bin/egw with the full process.argv. */
export const main = async (argv: string[]): Promise<void> => {
  const code = await run(argv.slice(2), processIO());
  // Exit explicitly: datastore clients may keep timers alive; stdout/stderr writes are flushed
  // first by waiting for empty writes to complete.
  await new Promise<void>((r) => process.stdout.write("", () => r()));
  await new Promise<void>((r) => process.stderr.write("", () => r()));
  process.exit(code);
};
