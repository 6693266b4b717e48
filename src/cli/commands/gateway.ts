// `egw gateway --pod NS/NAME`: one egress gateway replica, run inside the replica's network
// namespace, answering the client nodes' liveness sessions (BFD, UDP 3784 on its pod IP). Runs
// until SIGTERM/SIGINT; on SIGTERM it reports not ready first (drain: AdminDown on its sessions).
import type { Command } from "commander";
import { createLogger } from "../../util/log.js";
import { systemClock } from "../../daemon/clock.js";
import { bfdOpener } from "../../daemon/liveness-endpoint.js";
import {
  DEFAULT_FENCE_AFTER_SECONDS,
  DEFAULT_NODE_LOST_SECONDS,
  fenceTimingProblem,
} from "../../daemon/node-loss-timing.js";
import { waitForSignal } from "../../daemon/signals.js";
import { startStatusServer } from "../../daemon/status-server.js";
import { GatewayDataplane } from "../../dataplane/gateway-dataplane.js";
import { localRunner } from "../../dataplane/runner.js";
import { detectUplink } from "../../gateway/uplink.js";
import { Gateway } from "../../gateway/gateway.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { numberFlag } from "./agent.js";

interface GatewayFlags {
  pod?: string;
  uplink?: string;
  healthPort: string;
  resync: string;
  mtu?: string;
  fenceAfter: string;
}

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("gateway")
    .description("run one egress gateway replica: tunnel endpoint, SNAT to its egress IP, probes, /readiness")
    .option("--pod <namespace/name>", "this replica's Pod (default: EGW_POD, or POD_NAMESPACE and POD_NAME)")
    .option("--uplink <interface>", "interface towards the outside world (default: the default route's)")
    .option("--health-port <port>", "port of /readiness and /metrics", "8080")
    .option("--resync <seconds>", "full reconcile interval (drift repair)", "10")
    .option("--mtu <bytes>", "MTU of the tunnel device (underlay MTU - 50)")
    .option(
      "--fence-after <seconds>",
      "withdraw SNAT and the egress address after this long without reading the replica's pod " +
        `(must stay below the controller's --node-lost-seconds minus 2; default node-lost ${DEFAULT_NODE_LOST_SECONDS})`,
      String(DEFAULT_FENCE_AFTER_SECONDS),
    )
    .action(async (flags: GatewayFlags) => {
      const env = ctx.io.env;
      const podText =
        flags.pod ??
        (env.EGW_POD ||
          (env.POD_NAMESPACE && env.POD_NAME ? `${env.POD_NAMESPACE}/${env.POD_NAME}` : undefined));
      const [namespace, name, extra] = (podText ?? "").split("/");
      if (!namespace || !name || extra !== undefined)
        throw new CliError(`--pod "${podText ?? ""}": expected NAMESPACE/NAME (or set EGW_POD)`, EXIT_USAGE);
      const healthPort = numberFlag("--health-port", flags.healthPort, 1, 65_535);
      const resyncMs = numberFlag("--resync", flags.resync, 0.1, 86_400, false) * 1000;
      const mtu = flags.mtu === undefined ? undefined : numberFlag("--mtu", flags.mtu, 576, 9000);
      const fenceAfterSeconds = numberFlag("--fence-after", flags.fenceAfter, 1, 3600, false);

      const log = createLogger("gateway");
      const unsafe = fenceTimingProblem(fenceAfterSeconds, DEFAULT_NODE_LOST_SECONDS);
      if (unsafe !== undefined)
        log.warn("--fence-after is too long for the controller's default --node-lost-seconds", {
          problem: unsafe,
        });
      const runner = localRunner();
      const uplink = flags.uplink ?? (await detectUplink(runner));
      const store = await ctx.datastore();
      const gateway = new Gateway({
        store,
        pod: { namespace, name },
        dataplane: new GatewayDataplane(runner, { healthPort, ...(mtu === undefined ? {} : { mtu }) }),
        runner,
        uplink,
        healthPort,
        resyncMs,
        fenceAfterMs: fenceAfterSeconds * 1000,
        log,
        liveness: bfdOpener(systemClock(), log),
      });
      const server = await startStatusServer(
        { host: "0.0.0.0", port: healthPort },
        {
          "/readiness": () => gateway.readinessReply(),
          "/healthz": () => ({ status: 200, body: "ok\n" }),
          "/metrics": () => gateway.metricsText(),
        },
      );
      if (!server.ok) throw new CliError(server.error);
      log.info("serving /readiness and /metrics", { address: server.value.address });
      const signal = waitForSignal();
      await Promise.race([gateway.start(), signal]);
      log.info("draining", { signal: await signal });
      await gateway.drain();
      await gateway.stop();
      await server.value.close();
    });
};
