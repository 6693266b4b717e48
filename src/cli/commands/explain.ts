// `egw explain [-n NS] POD --to IP:PORT[/tcp|udp|icmp]`: would this connection be allowed, which
// tier/policy/rule (or default) decides, and which gateways and egress IP it would leave with.
// It reads the cluster from the datastore and runs calc's code, the same the agents enforce.
import { Option, type Command } from "commander";
import { orFail, type CliContext } from "../context.js";
import { readClusterView, skippedLines } from "../egress-view.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { explainConnection, formatConnectionExplanation, parseTarget } from "../explain-view.js";

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("explain")
    .description("explain whether a pod's connection is allowed, which policy decides, and how it leaves")
    .argument("<pod>", "pod name")
    .requiredOption("--to <target>", "destination: IP:PORT[/tcp|udp|sctp|udplite] or IP/icmp")
    .option("-n, --namespace <ns>", "namespace of the pod")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (pod: string, opts: { to: string; namespace?: string; output: "text" | "json" }) => {
      const to = parseTarget(opts.to);
      if (!to.ok) throw new CliError(to.error, EXIT_USAGE);
      const namespace = ctx.namespace(opts.namespace);
      const store = await ctx.datastore();
      const view = orFail(ctx, await readClusterView(store), "reading the cluster");
      for (const line of skippedLines(view)) ctx.io.stderr(`${line}\n`);
      const x = explainConnection(view.index, namespace, pod, to.value);
      if (!x.ok) throw new CliError(x.error);
      ctx.io.stdout(
        opts.output === "json"
          ? `${JSON.stringify(x.value, null, 2)}\n`
          : `${formatConnectionExplanation(x.value).join("\n")}\n`,
      );
    });
};
