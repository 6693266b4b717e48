// Serves the gateway replica pods (I/O around gateway-pod-actions.ts): reads the egress-IP
// routes the router and nodes hold, applies the route changes, and starts, restarts and stops
// one `egw gateway` process per served replica.
import type { Resource } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";
import { runCommand } from "./exec.js";
import {
  EGRESS_ROUTE_PROTO,
  gatewayPodActions,
  type GatewayPodView,
  type ObservedEgressRoute,
} from "./gateway-pod-actions.js";
import { ipBatch, listNetns } from "./netns.js";
import type { Frozen } from "./partition.js";
import { readManifest } from "./state.js";
import { recordedComponents, startSupervised, stopSupervised } from "./supervision.js";
import type { LabTopology } from "./topology.js";

/** How the runtime runs `egw gateway` for gateway replica pods (omitted: pods only). */
export interface GatewaySupervision {
  stateDir: string;
  /** Manifest component (and log name) of a replica's gateway process. */
  component: (namespace: string, pod: string) => string;
  /** True for components this supervision owns (to find them in the manifest). */
  owns: (component: string) => boolean;
  argv: (pod: GatewayPodView) => string[];
  /** The runtime writes the router's egress-IP routes (a lab without BGP); default true. */
  staticRouterRoutes?: boolean;
}

/** The lab's egress-IP routes in `netns` (empty when it cannot be read). */
const egressRoutes = async (netns: string): Promise<ObservedEgressRoute[]> => {
  const r = await runCommand("ip", [
    "-n",
    netns,
    "-j",
    "-4",
    "route",
    "show",
    "proto",
    String(EGRESS_ROUTE_PROTO),
  ]);
  if (!r.ok) return [];
  try {
    const rows = JSON.parse(r.value || "[]") as { dst?: unknown; dev?: unknown; gateway?: unknown }[];
    return rows.flatMap((row) =>
      typeof row.dst === "string"
        ? [
            {
              dst: row.dst,
              ...(typeof row.dev === "string" ? { dev: row.dev } : {}),
              ...(typeof row.gateway === "string" ? { gateway: row.gateway } : {}),
            },
          ]
        : [],
    );
  } catch {
    return [];
  }
};

/** Egress-IP routes and `egw gateway` processes of the gateway replica pods among `pods`. */
export const superviseGateways = async (
  pods: readonly Resource[],
  sup: GatewaySupervision,
  topology: LabTopology,
  log: (line: string) => void,
  frozen?: Frozen,
): Promise<Result<void, string>> => {
  const manifest = readManifest(sup.stateDir);
  if (!manifest) return err(`no lab manifest in ${sup.stateDir}`);
  const nodeRoutes = new Map<string, ObservedEgressRoute[]>();
  for (const n of topology.nodes) nodeRoutes.set(n.netns, await egressRoutes(n.netns));
  const todo = gatewayPodActions({
    lab: topology.lab,
    nodes: topology.nodes,
    pods,
    existingNetns: new Set(listNetns()),
    routerRoutes: await egressRoutes(topology.netns.rtr),
    nodeRoutes,
    processes: recordedComponents(manifest, sup.stateDir, sup.owns),
    component: sup.component,
    staticRouterRoutes: sup.staticRouterRoutes ?? true,
    ...(frozen === undefined ? {} : { frozen }),
  });
  for (const p of todo.problems) log(p);
  const problems: string[] = [];
  for (const [netns, lines] of todo.nodes) {
    const r = await ipBatch(netns, lines);
    if (!r.ok) problems.push(r.error);
    else log(`egress routes on ${netns}: ${lines.join("; ")}`);
  }
  if (todo.router.length > 0) {
    const r = await ipBatch(topology.netns.rtr, todo.router);
    if (!r.ok) problems.push(r.error);
    else log(`egress routes on the router: ${todo.router.join("; ")}`);
  }
  for (const a of todo.processes) {
    if (a.kind === "start") {
      const pid = startSupervised({
        stateDir: sup.stateDir,
        component: a.component,
        argv: sup.argv(a.pod),
        netns: a.pod.netns,
      });
      if (!pid.ok) problems.push(pid.error);
      else
        log(
          `${a.restart ? "restarted" : "started"} gateway ${a.pod.namespace}/${a.pod.name} ` +
            `(egress IP ${a.pod.egressIP} on ${a.pod.node.name}, pid ${pid.value}, egw logs ${a.component})`,
        );
    } else {
      const stopped = await stopSupervised(sup.stateDir, a.component, manifest.processes[a.component]);
      if (!stopped.ok) problems.push(stopped.error);
      log(`stopped ${a.component} (its pod is gone or no longer a gateway replica)`);
    }
  }
  return problems.length === 0 ? ok(undefined) : err(problems.join("; "));
};
