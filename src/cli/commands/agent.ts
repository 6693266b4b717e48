// `egw agent --node NAME`: the per-node agent, run inside the node's network namespace (as a
// hostNetwork DaemonSet would). Runs until SIGTERM/SIGINT.
import type { Command } from "commander";
import { Agent } from "../../agent/agent.js";
import { birdPort } from "../../agent/bgp.js";
import { systemClock } from "../../daemon/clock.js";
import { bfdOpener } from "../../daemon/liveness-endpoint.js";
import { createLogger } from "../../util/log.js";
import { waitForSignal } from "../../daemon/signals.js";
import { startStatusServer } from "../../daemon/status-server.js";
import { NodeDataplane } from "../../dataplane/node-dataplane.js";
import { localRunner } from "../../dataplane/runner.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";

interface AgentFlags {
  node?: string;
  resync: string;
  healthPort: string;
  healthAddress: string;
  interfacePrefix: string[];
  clusterCidr: string[];
  pollInterval: string;
  pollFailures: string;
  gatewayHealthPort: string;
  mtu?: string;
  resilientIdleTimer: string;
  liveness: string;
  birdSocket?: string;
  birdConfig?: string;
}

export const LIVENESS_MODES = ["bfd", "poll"] as const;
export type LivenessMode = (typeof LIVENESS_MODES)[number];

/** The --liveness flag, or a usage error naming the valid modes. */
export const livenessFlag = (text: string): LivenessMode => {
  const mode = LIVENESS_MODES.find((m) => m === text);
  if (mode === undefined)
    throw new CliError(`--liveness "${text}": expected one of ${LIVENESS_MODES.join(", ")}`, EXIT_USAGE);
  return mode;
};

/** A number flag within [min, max], or a usage error naming the flag and the valid range. */
export const numberFlag = (flag: string, text: string, min: number, max: number, integer = true): number => {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new CliError(
      `${flag} "${text}": expected ${integer ? "an integer" : "a number"} from ${min} to ${max}`,
      EXIT_USAGE,
    );
  return n;
};

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("agent")
    .description("run the per-node agent: watch the datastore and program this node's egress dataplane")
    .option("--node <name>", "this node's name (default: EGW_NODE_NAME or NODE_NAME)")
    .option("--resync <seconds>", "full reconcile interval (drift repair)", "10")
    .option("--health-port <port>", "port of /healthz and /metrics", "9099")
    .option(
      "--health-address <ip>",
      "address of /healthz and /metrics (the node's IP to expose them)",
      "127.0.0.1",
    )
    .option("--interface-prefix <prefix...>", "host-side interface name prefixes of workloads", ["ew"])
    .option(
      "--cluster-cidr <cidr...>",
      "destinations never sent to gateways besides the pod CIDRs (node, service CIDRs)",
      [],
    )
    .option(
      "--liveness <mode>",
      "how gateway replicas are judged: bfd (data-path liveness sessions from the node IP, timers from each EgressGateway) or poll (readiness polling, --poll-*)",
      "bfd",
    )
    .option(
      "--bird-socket <path>",
      "control socket of this node's BIRD 2 (bird -s); with --bird-config, the agent announces the node's egress IPs over BGP",
    )
    .option(
      "--bird-config <path>",
      "the config file that BIRD reads (bird -c); the agent writes it. Without both flags the agent does no BGP",
    )
    .option("--poll-interval <seconds>", "readiness polling interval of gateway replicas (0 disables)", "10")
    .option("--poll-failures <n>", "consecutive failed polls before a replica is down", "3")
    .option("--gateway-health-port <port>", "health port of gateway replicas", "8080")
    .option("--mtu <bytes>", "MTU of the tunnel device (underlay MTU - 50)")
    .option(
      "--resilient-idle-timer <seconds>",
      "a replica added to a gateway set only takes over buckets idle this long (lower: new replicas take load sooner)",
      "60",
    )
    .action(async (flags: AgentFlags) => {
      const node = flags.node ?? (ctx.io.env.EGW_NODE_NAME || ctx.io.env.NODE_NAME || undefined);
      if (node === undefined) throw new CliError("--node is required (or set EGW_NODE_NAME)", EXIT_USAGE);
      const resyncMs = numberFlag("--resync", flags.resync, 0.1, 86_400, false) * 1000;
      const healthPort = numberFlag("--health-port", flags.healthPort, 0, 65_535);
      const pollIntervalMs = numberFlag("--poll-interval", flags.pollInterval, 0, 3600, false) * 1000;
      const failureThreshold = numberFlag("--poll-failures", flags.pollFailures, 1, 100);
      const gatewayPort = numberFlag("--gateway-health-port", flags.gatewayHealthPort, 1, 65_535);
      const mtu = flags.mtu === undefined ? undefined : numberFlag("--mtu", flags.mtu, 576, 9000);
      const resilientIdleTimerSec = numberFlag("--resilient-idle-timer", flags.resilientIdleTimer, 0, 3600);
      const liveness = livenessFlag(flags.liveness);
      if ((flags.birdSocket === undefined) !== (flags.birdConfig === undefined))
        throw new CliError(
          "--bird-socket and --bird-config go together (both, or neither for no BGP)",
          EXIT_USAGE,
        );

      const log = createLogger("agent");
      const store = await ctx.datastore();
      const dataplane = new NodeDataplane(localRunner(), {
        workloadInterfacePrefixes: flags.interfacePrefix,
        clusterCidrs: flags.clusterCidr,
        healthPort: gatewayPort,
        resilientIdleTimerSec,
        ...(mtu === undefined ? {} : { mtu }),
      });
      const agent = new Agent({
        store,
        node,
        dataplane,
        log,
        resyncMs,
        poll: { intervalMs: pollIntervalMs, failureThreshold, port: gatewayPort },
        ...(liveness === "bfd" ? { liveness: bfdOpener(systemClock(), log) } : {}),
        ...(flags.birdSocket === undefined || flags.birdConfig === undefined
          ? {}
          : { bgp: { bird: birdPort({ socket: flags.birdSocket, configPath: flags.birdConfig }) } }),
      });
      const server = await startStatusServer(
        { host: flags.healthAddress, port: healthPort },
        { "/healthz": () => agent.healthz(), "/metrics": () => agent.metricsText() },
      );
      if (!server.ok) throw new CliError(server.error);
      log.info("serving /healthz and /metrics", { address: server.value.address });
      const signal = waitForSignal();
      await Promise.race([agent.start(), signal]);
      log.info("shutting down", { signal: await signal });
      await agent.stop();
      await server.value.close();
    });
};
