// `egw lab router routes [-o json]`: what the lab router learned by BGP, asked from its BIRD
// (`birdc show route all`, `show protocols`) and joined with the router kernel's routes.
import { Option, type Command } from "commander";
import { readRouterView } from "../../lab/router-control.js";
import { ROUTER_BIRD_COMPONENT } from "../../lab/router-bird.js";
import { formatRouterView } from "../../lab/router-routes.js";
import { routingOf } from "../../lab/state.js";
import { planTopology } from "../../lab/topology.js";
import type { CliContext } from "../context.js";
import { CliError } from "../exit.js";
import { runningLab, type LabFlags } from "./lab.js";

export const registerLabRouter = (lab: Command, ctx: CliContext): void => {
  const router = lab.command("router").description("the lab's upstream router (BIRD, BGP with every node)");
  router
    .command("routes")
    .description(
      "the routes the router learned by BGP: prefix, node, next hop, since, session; and whether its kernel holds them",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (opts: LabFlags & { output: "table" | "json" }) => {
      const m = runningLab(ctx, opts);
      const t = planTopology(m.name, m.nodes);
      if (!t.ok) throw new CliError(t.error);
      if (routingOf(m) !== "bgp")
        throw new CliError(
          `lab "${m.name}" routes egress IPs statically (egw up --no-bgp): its router runs no BGP; ` +
            `see its routes with: ip -n ${t.value.netns.rtr} route show proto 211`,
        );
      const view = await readRouterView(m.stateDir, t.value);
      if (!view.ok) throw new CliError(`${view.error} (egw logs ${ROUTER_BIRD_COMPONENT})`);
      ctx.io.stdout(
        opts.output === "json" ? `${JSON.stringify(view.value, null, 2)}\n` : formatRouterView(view.value),
      );
    });
};
