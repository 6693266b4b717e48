// `egw describe KIND NAME [-n NS]`: one object, human-readable. For a Pod it adds how its egress
// leaves: per destination its gateways with egress IPs and the settings that chose them, or why
// it is blocked (calc's explain). For an EgressGateway it adds each replica as seen from outside:
// the client nodes' liveness sessions, its upstream probe state and its drain deadline. For a
// Node it adds its BGP sessions (node-bgp-view.ts).
import type { Command } from "commander";
import { orFail, type CliContext } from "../context.js";
import { CliError } from "../exit.js";
import { notFoundText } from "../kinds.js";
import { describePodEgress, readClusterView, skippedLines } from "../egress-view.js";
import { readReplicaVisibility } from "../gateway-replicas.js";
import { describeReplicas } from "../replica-view.js";
import { describeNodeBgp } from "../node-bgp-view.js";
import { ACCESS_POLICY_KINDS, describePolicyRules } from "../policy-view.js";
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
      const obj = orFail(ctx, r);
      ctx.io.stdout(renderDescription(obj, ctx.io.now()));
      if (obj.kind === "Pod") {
        const view = orFail(ctx, await readClusterView(store), "reading the cluster for the egress view");
        for (const line of skippedLines(view)) ctx.io.stderr(`${line}\n`);
        const lines = describePodEgress(view.index, obj.metadata.namespace ?? "default", obj.metadata.name);
        ctx.io.stdout(`${lines.join("\n")}\n`);
      }
      if (obj.kind === "EgressGateway") {
        const read = orFail(ctx, await readReplicaVisibility(store, [obj]), "reading the gateway's replicas");
        const replicas = read.get(`${obj.metadata.namespace ?? "default"}/${obj.metadata.name}`) ?? [];
        ctx.io.stdout(`${describeReplicas(replicas, ctx.io.now()).join("\n")}\n`);
      }
      if (obj.kind === "Node") ctx.io.stdout(`${describeNodeBgp(obj, ctx.io.now()).join("\n")}\n`);
      if (ACCESS_POLICY_KINDS.includes(obj.kind))
        ctx.io.stdout(`${describePolicyRules(obj, await ctx.policyCounters()).join("\n")}\n`);
    });
};
