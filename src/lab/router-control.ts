// The lab router's BIRD as a process to talk to (I/O around router-bird.ts and router-routes.ts):
// writes its config (checked with `bird -p` before it replaces the running one), waits until it
// answers, reloads it with `birdc configure`, and reads what it learned together with the router
// kernel's routes.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { err, ok, type Result } from "../util/result.js";
import { runCommand } from "./exec.js";
import {
  renderRouterBirdConfig,
  routerBirdPaths,
  routerProtocolName,
  type RouterBirdInput,
} from "./router-bird.js";
import { parseProtocols, parseRoutes } from "../routing/bird-status.js";
import { routerView, type KernelRoute, type RouterView } from "./router-routes.js";
import type { LabTopology } from "./topology.js";

const BIRDC_TIMEOUT_MS = 5000;

const birdc = (stateDir: string, args: readonly string[]): Promise<Result<string, string>> =>
  runCommand("birdc", ["-s", routerBirdPaths(stateDir).socket, ...args], { timeoutMs: BIRDC_TIMEOUT_MS });

/** Renders the config for the lab's nodes and puts it in place once BIRD's parser accepts it. */
export const writeRouterBirdConfig = async (
  stateDir: string,
  t: Pick<LabTopology, "routerIp" | "nodes">,
  opts: Pick<RouterBirdInput, "bfd" | "bfdMode"> = {},
): Promise<Result<void, string>> => {
  const p = routerBirdPaths(stateDir);
  const tmp = `${p.config}.new`;
  try {
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(tmp, renderRouterBirdConfig({ routerIp: t.routerIp, nodes: t.nodes, ...opts }));
  } catch (e) {
    return err(`cannot write ${tmp}: ${(e as Error).message}`);
  }
  const parsed = await runCommand("bird", ["-p", "-c", tmp]);
  if (!parsed.ok) return err(`the router's BIRD config ${tmp} does not parse: ${parsed.error}`);
  renameSync(tmp, p.config);
  return ok(undefined);
};

/** True once the router's BIRD answers on its control socket. */
export const routerBirdAnswers = async (stateDir: string): Promise<boolean> =>
  (await birdc(stateDir, ["show", "status"])).ok;

/** `birdc configure`: BIRD reads its config again; sessions whose config did not change stay up. */
export const reconfigureRouterBird = async (stateDir: string): Promise<Result<void, string>> => {
  const r = await birdc(stateDir, ["configure"]);
  if (!r.ok) return r;
  return /Reconfigured|Reconfiguration in progress/.test(r.value)
    ? ok(undefined)
    : err(`birdc configure on the lab router: ${r.value.trim()}`);
};

/** The router kernel's routes that BIRD installed (proto bird). */
export const routerKernelRoutes = async (rtrNetns: string): Promise<Result<KernelRoute[], string>> => {
  const r = await runCommand("ip", ["-n", rtrNetns, "-j", "-4", "route", "show", "proto", "bird"]);
  if (!r.ok) return r;
  try {
    const rows = JSON.parse(r.value || "[]") as { dst?: unknown; gateway?: unknown }[];
    return ok(
      rows.flatMap((row) =>
        typeof row.dst === "string"
          ? [{ dst: row.dst, ...(typeof row.gateway === "string" ? { gateway: row.gateway } : {}) }]
          : [],
      ),
    );
  } catch (e) {
    return err(`cannot parse the router's routes: ${(e as Error).message}`);
  }
};

/** What the router learned, per node, from BIRD and its kernel. */
export const readRouterView = async (
  stateDir: string,
  t: Pick<LabTopology, "netns" | "nodes">,
): Promise<Result<RouterView, string>> => {
  const routes = await birdc(stateDir, ["show", "route", "all"]);
  if (!routes.ok) return err(`cannot ask the lab router's BIRD: ${routes.error}`);
  const protocols = await birdc(stateDir, ["show", "protocols"]);
  if (!protocols.ok) return err(`cannot ask the lab router's BIRD: ${protocols.error}`);
  const kernel = await routerKernelRoutes(t.netns.rtr);
  if (!kernel.ok) return kernel;
  return ok(
    routerView({
      routes: parseRoutes(routes.value),
      protocols: parseProtocols(protocols.value),
      kernel: kernel.value,
      nodes: t.nodes.map((n) => n.name),
      protocolOf: routerProtocolName,
    }),
  );
};
