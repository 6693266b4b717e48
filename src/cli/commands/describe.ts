// `egw describe KIND NAME [-n NS]`: one object, human-readable. For a Pod it adds how its egress
// leaves: the gateway set per destination with egress IPs, or why it is blocked (calc's explain).
import type { Command } from "commander";
import { orFail, type CliContext } from "../context.js";
import { CliError } from "../exit.js";
import { notFoundText } from "../kinds.js";
import { describePodEgress, readClusterView, skippedLines } from "../egress-view.js";
import { ACCESS_POLICY_KINDS, describePolicyRules, type CounterSource } from "../policy-view.js";
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
      if (ACCESS_POLICY_KINDS.includes(obj.kind))
        ctx.io.stdout(`${describePolicyRules(obj, await policyCounters(ctx)).join("\n")}\n`);
    });
};

/**
 * Rule counters live in each node's nft table. When the CLI talks to a lab on this machine they
 * are read from the lab's node namespaces; otherwise they are not reachable from here.
 */
async function policyCounters(ctx: CliContext): Promise<CounterSource> {
  const sel = ctx.datastoreSelection();
  const unavailable: CounterSource = {
    kind: "unavailable",
    why: "kept by each node's nft ruleset (table inet egw); not available from here (read them on the nodes, or target a lab on this machine)",
  };
  if (sel.type !== "etcd") return unavailable;
  const { labServing, readLabPolicyCounters } = await import("../../lab/policy-counters.js");
  const lab = labServing(ctx.io.env, sel.etcdEndpoints);
  if (lab === undefined) return unavailable;
  const read = await readLabPolicyCounters(lab);
  return {
    kind: "read",
    where: `lab "${read.lab}"`,
    counters: read.counters,
    nodes: read.nodes,
    errors: read.errors,
  };
}
