// Restarts the router's BIRD (`bird-router`) when its process is gone, as the runtime restarts
// the agents and the nodes' BIRDs. Only one `egw up` recorded: a lab without BGP has none, and
// one not recorded yet is `egw up`'s to start. BIRD then reads the config it was last given.
import { err, ok, type Result } from "../util/result.js";
import { ROUTER_BIRD_COMPONENT } from "./router-bird.js";
import { readManifest } from "./state.js";
import { recordedComponents, startSupervised } from "./supervision.js";

export interface RouterBirdSupervision {
  stateDir: string;
  netns: string;
  argv: string[];
}

export const superviseRouterBird = (
  sup: RouterBirdSupervision,
  log: (line: string) => void,
): Result<void, string> => {
  const manifest = readManifest(sup.stateDir);
  if (!manifest) return err(`no lab manifest in ${sup.stateDir}`);
  const alive = recordedComponents(manifest, sup.stateDir, (c) => c === ROUTER_BIRD_COMPONENT).get(
    ROUTER_BIRD_COMPONENT,
  );
  if (alive !== false) return ok(undefined);
  const pid = startSupervised({
    stateDir: sup.stateDir,
    component: ROUTER_BIRD_COMPONENT,
    argv: sup.argv,
    netns: sup.netns,
  });
  if (!pid.ok) return err(pid.error);
  log(
    `restarted the router's BIRD (its process was gone; pid ${pid.value}, egw logs ${ROUTER_BIRD_COMPONENT})`,
  );
  return ok(undefined);
};
