// The BIRD 2 of each lab node (as calico-node runs bird beside felix): its component name, its
// files in the state dir (bird/<node>/bird.conf, the control socket bird/<node>/bird.ctl), the
// argv that runs it in the node's namespace, and the config it starts with — one without peers
// or routes, which the node's agent replaces (`egw agent --bird-config`) as soon as it runs.
// BIRD is a process of its own so an agent restart keeps the node's sessions; the lab runtime
// restarts a dead one (agent-supervision.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../api/defaults.js";
import { renderNodeBirdConfig } from "../routing/bird-config.js";
import { err, ok, type Result } from "../util/result.js";
import { inNetns } from "./exec.js";
import type { LabNode } from "./topology.js";

/** `bird-<node>`, e.g. bird-node-1. */
export const nodeBirdComponent = (node: string): string => `bird-${node}`;

export const nodeBirdPaths = (stateDir: string, node: string) => {
  const dir = join(stateDir, "bird", node);
  return { dir, config: join(dir, "bird.conf"), socket: join(dir, "bird.ctl") };
};

/** BIRD in the foreground (its log lines go to the component's log), in the node's namespace. */
export const nodeBirdArgv = (stateDir: string, node: LabNode): string[] => {
  const p = nodeBirdPaths(stateDir, node.name);
  return inNetns(node.netns, "bird", ["-f", "-c", p.config, "-s", p.socket]);
};

/** Writes the node's first config (no peers, nothing announced) unless the agent wrote one. */
export const writeInitialNodeBirdConfig = (stateDir: string, node: LabNode): Result<string, string> => {
  const p = nodeBirdPaths(stateDir, node.name);
  const text = renderNodeBirdConfig({
    nodeIP: node.underlayIp,
    asNumber: DEFAULTS.bgpConfiguration.asNumber,
    listenPort: DEFAULTS.bgpConfiguration.listenPort,
    peers: [],
    announce: [],
  });
  if (!text.ok) return err(`BIRD config of ${node.name}: ${text.error.join("; ")}`);
  try {
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(p.config, text.value, { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      return err(`cannot write ${p.config}: ${(e as Error).message}`);
  }
  return ok(p.config);
};
