// Cutting a lab node off the network (`egw lab node cut/restore`): its port on the underlay switch
// goes down, so the node, its agent and its gateway replicas lose the datastore and the tunnel
// (etcd is reached through the underlay, in the control namespace), and the cut is recorded in the
// state dir for the lab runtime, a separate process. The runtime then stops acting for that
// node, as a kubelet that cannot reach the API server: it neither wires nor removes the node's
// pods, nor starts or stops their gateway processes, until the node is restored; then it catches
// up. The record keeps the node's pods at the moment of the cut, because a pod deleted meanwhile
// is no longer in the datastore to say where its namespace lives. This module does not decide
// anything about pods: pod-actions.ts and gateway-pod-actions.ts take the frozen sets.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "../util/result.js";
import { podNetns, switchPort } from "./names.js";
import { ipBatch } from "./netns.js";
import type { PodRef } from "./pod-actions.js";
import type { LabNode, LabTopology } from "./topology.js";

export const CUT_NODES_FILE = "cut-nodes.json";

export interface CutNode {
  /** When the node was cut (ISO-8601). */
  since: string;
  /** The node's pods when it was cut: their namespaces and processes are left alone while cut. */
  pods: PodRef[];
}

/** Cut nodes by name. */
export type CutNodes = Record<string, CutNode>;

const cutPath = (stateDir: string): string => join(stateDir, CUT_NODES_FILE);

/** The recorded cuts; none when the file is missing or unreadable. */
export const readCutNodes = (stateDir: string): CutNodes => {
  try {
    const v = JSON.parse(readFileSync(cutPath(stateDir), "utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as CutNodes) : {};
  } catch {
    return {};
  }
};

export const writeCutNodes = (stateDir: string, cut: CutNodes): Result<void, string> => {
  const path = cutPath(stateDir);
  try {
    if (Object.keys(cut).length === 0) {
      if (existsSync(path)) rmSync(path);
      return ok(undefined);
    }
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(cut, null, 2)}\n`);
    renameSync(tmp, path);
    return ok(undefined);
  } catch (e) {
    return err(`cannot record the cut nodes in ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
};

/** What the runtime leaves alone while nodes are cut (pure). */
export interface Frozen {
  nodes: ReadonlySet<string>;
  /** Pod network namespaces of the cut nodes' pods. */
  netns: ReadonlySet<string>;
  /** Their pods, as `namespace/name`. */
  pods: ReadonlySet<string>;
}

export const frozenBy = (lab: string, cut: CutNodes): Frozen => {
  const pods = Object.values(cut).flatMap((c) => (Array.isArray(c.pods) ? c.pods : []));
  return {
    nodes: new Set(Object.keys(cut)),
    netns: new Set(pods.map((p) => podNetns(lab, p.namespace, p.name))),
    pods: new Set(pods.map((p) => `${p.namespace}/${p.name}`)),
  };
};

export const NOTHING_FROZEN: Frozen = { nodes: new Set(), netns: new Set(), pods: new Set() };

/** The `ip -batch` line that takes the node's underlay switch port down or up. */
export const switchPortLine = (node: LabNode, up: boolean): string =>
  `link set ${switchPort(`n${node.index}`)} ${up ? "up" : "down"}`;

/** Takes the node's switch port down or up (in the underlay switch's namespace). */
export const setNodePort = (t: LabTopology, node: LabNode, up: boolean): Promise<Result<void, string>> =>
  ipBatch(t.netns.ul, [switchPortLine(node, up)]);
