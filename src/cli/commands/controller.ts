// `egw controller [--resync SECONDS]`: runs the gateway controller until SIGTERM or SIGINT.
import { InvalidArgumentError, type Command } from "commander";
import { DEFAULT_RESYNC_MS, GatewayController } from "../../controller/controller.js";
import {
  DEFAULT_FENCE_AFTER_SECONDS,
  DEFAULT_NODE_LOST_SECONDS,
  fenceTimingProblem,
} from "../../daemon/node-loss-timing.js";
import { waitForSignal } from "../../daemon/signals.js";
import { createLogger } from "../../util/log.js";
import type { CliContext } from "../context.js";

/** A positive number of seconds (fractions allowed), for --resync. */
const parseSeconds = (value: string): number => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive number of seconds, e.g. 30`);
  return n;
};

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("controller")
    .description(
      "run the gateway controller: replica pods, egress IPs and status of every EgressGateway (until SIGTERM/SIGINT)",
    )
    .option(
      "--resync <seconds>",
      "reconcile every gateway and collect orphans this often",
      parseSeconds,
      DEFAULT_RESYNC_MS / 1000,
    )
    .option(
      "--node-lost-seconds <seconds>",
      "a node whose agent lease is not renewed this long is lost: its gateway replicas are replaced " +
        `(gateways must fence sooner: their --fence-after, default ${DEFAULT_FENCE_AFTER_SECONDS}, below this minus 2)`,
      parseSeconds,
      DEFAULT_NODE_LOST_SECONDS,
    )
    .action(async (opts: { resync: number; nodeLostSeconds: number }) => {
      const stopped = waitForSignal();
      const store = await ctx.datastore();
      const log = createLogger("controller", (level, line) =>
        level === "info" ? ctx.io.stdout(`${line}\n`) : ctx.io.stderr(`${line}\n`),
      );
      const unsafe = fenceTimingProblem(DEFAULT_FENCE_AFTER_SECONDS, opts.nodeLostSeconds);
      if (unsafe !== undefined)
        log.warn("--node-lost-seconds is too short for gateways with the default --fence-after", {
          problem: unsafe,
        });
      const controller = new GatewayController({
        store,
        log,
        resyncMs: Math.round(opts.resync * 1000),
        nodeLostMs: Math.round(opts.nodeLostSeconds * 1000),
      });
      // start() retries until the datastore answers; a signal meanwhile still stops cleanly.
      void controller.start();
      const sig = await stopped;
      log.info("shutting down", { signal: sig });
      await controller.stop();
    });
};
