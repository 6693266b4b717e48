// `egw lab node cut NAME` / `egw lab node restore NAME`: takes a lab node off the network and
// back (lab/partition.ts): its underlay switch port goes down, so the node's agent and gateway
// replicas lose the datastore and the tunnel, and the lab runtime leaves the node's pods alone
// (as a partitioned kubelet would) until it is restored.
import type { Command } from "commander";
import { podView } from "../../lab/pod-actions.js";
import { readCutNodes, setNodePort, writeCutNodes } from "../../lab/partition.js";
import { planTopology, type LabNode, type LabTopology } from "../../lab/topology.js";
import type { LabManifest } from "../../lab/state.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { runningLab, withStore, type LabFlags } from "./lab.js";

const labNode = (m: LabManifest, name: string): { t: LabTopology; node: LabNode } => {
  const t = planTopology(m.name, m.nodes);
  if (!t.ok) throw new CliError(t.error);
  const node = t.value.nodes.find((n) => n.name === name);
  if (!node)
    throw new CliError(
      `node "${name}" is not a node of lab "${m.name}" (nodes: ${t.value.nodes.map((n) => n.name).join(", ")})`,
      EXIT_USAGE,
    );
  return { t: t.value, node };
};

export const registerLabNode = (lab: Command, ctx: CliContext): void => {
  const group = lab.command("node").description("take a lab node off the network and back (partition tests)");

  group
    .command("cut")
    .description(
      "cut a node off: its underlay port goes down (datastore and tunnel unreachable) and the lab runtime stops acting for its pods",
    )
    .argument("<node>", "node name, e.g. node-2")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (name: string, opts: LabFlags) => {
      const m = runningLab(ctx, opts);
      const { t, node } = labNode(m, name);
      const cut = readCutNodes(m.stateDir);
      if (cut[name] !== undefined) {
        ctx.io.stdout(`${name} is already cut off (since ${cut[name].since})\n`);
        return;
      }
      const listed = await withStore(m, (store) => store.list("Pod"));
      if (!listed.ok) throw new CliError(`cannot list the pods of ${name}: ${listed.error.message}`);
      const pods = listed.value.items
        .map(podView)
        .filter((p) => p.nodeName === name)
        .map((p) => ({ namespace: p.namespace, name: p.name }));
      // Recorded before the port goes down, so the runtime never acts on what it can no longer see.
      const saved = writeCutNodes(m.stateDir, { ...cut, [name]: { since: new Date().toISOString(), pods } });
      if (!saved.ok) throw new CliError(saved.error);
      const down = await setNodePort(t, node, false);
      if (!down.ok) {
        writeCutNodes(m.stateDir, cut);
        throw new CliError(`cannot take ${name}'s underlay port down: ${down.error}`);
      }
      ctx.io.stdout(
        `${name} cut off: underlay port down (${node.underlayIp} unreachable); the lab runtime leaves its ${pods.length} pod(s) alone until: egw lab node restore ${name}\n`,
      );
    });

  group
    .command("restore")
    .description(
      "bring a cut node back: its underlay port comes up and the lab runtime catches up on its pods",
    )
    .argument("<node>", "node name, e.g. node-2")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (name: string, opts: LabFlags) => {
      const m = runningLab(ctx, opts);
      const { t, node } = labNode(m, name);
      const up = await setNodePort(t, node, true);
      if (!up.ok) throw new CliError(`cannot bring ${name}'s underlay port up: ${up.error}`);
      const cut = readCutNodes(m.stateDir);
      const wasCut = cut[name] !== undefined;
      delete cut[name];
      const saved = writeCutNodes(m.stateDir, cut);
      if (!saved.ok) throw new CliError(saved.error);
      ctx.io.stdout(
        wasCut
          ? `${name} restored: underlay port up; the lab runtime catches up on its pods\n`
          : `${name} was not cut; its underlay port is up\n`,
      );
    });
};
