// Entry point of the lab runtime process (started in the background by `egw up`):
//   node runtime-main.js --name LAB --state-dir DIR
import { fileURLToPath } from "node:url";
import { openDatastore } from "../datastore/connect.js";
import {
  agentArgv,
  agentComponent,
  GATEWAY_COMPONENT_PREFIX,
  gatewayArgv,
  gatewayComponent,
} from "./components.js";
import { nodeBirdArgv, nodeBirdComponent } from "./node-bird.js";
import { readCutNodes } from "./partition.js";
import { routerBirdArgv } from "./router-bird.js";
import { LabRuntime } from "./runtime.js";
import { readManifest, routingOf } from "./state.js";
import { planTopology } from "./topology.js";
import { retryUntilOk, Sleeper, systemClock } from "../daemon/clock.js";

const log = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
};

const main = async (argv: string[]): Promise<void> => {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const stateDir = opt("--state-dir");
  if (!stateDir) {
    process.stderr.write("usage: runtime-main --name LAB --state-dir DIR\n");
    process.exit(2);
  }
  const manifest = readManifest(stateDir);
  const topology = manifest ? planTopology(manifest.name, manifest.nodes) : undefined;
  if (!manifest || !manifest.etcdEndpoint || !topology?.ok) {
    log(`no usable lab manifest in ${stateDir}`);
    process.exit(1);
  }
  const store = openDatastore({ type: "etcd", etcdEndpoints: [manifest.etcdEndpoint] });
  if (!store.ok) {
    log(`cannot open the datastore: ${store.error.message}`);
    process.exit(1);
  }
  const t = topology.value;
  const runtime = new LabRuntime({
    store: store.value,
    topology: t,
    log,
    gateways: {
      stateDir,
      component: gatewayComponent,
      owns: (c) => c.startsWith(GATEWAY_COMPONENT_PREFIX),
      argv: (pod) => gatewayArgv(stateDir, t, pod),
      staticRouterRoutes: routingOf(manifest) === "static",
    },
    agents: {
      stateDir,
      component: agentComponent,
      argv: (node) => agentArgv(stateDir, t, node, manifest.liveness),
    },
    nodeBirds: {
      stateDir,
      component: nodeBirdComponent,
      argv: (node) => nodeBirdArgv(stateDir, node),
      what: "BIRD",
    },
    ...(routingOf(manifest) === "bgp"
      ? { routerBird: { stateDir, netns: t.netns.rtr, argv: routerBirdArgv(stateDir, t) } }
      : {}),
    cutNodes: () => readCutNodes(stateDir),
  });
  // etcd may still be settling: retry the first pass instead of dying.
  await retryUntilOk(() => runtime.start(), {
    sleeper: new Sleeper(systemClock()),
    firstMs: 1000,
    maxMs: 1000,
    stopped: () => false,
    onError: (error) => log(`first reconcile failed (retrying): ${error}`),
  });
  log(`ready: lab ${manifest.name}, ${topology.value.nodes.length} nodes`);
  const shutdown = async (): Promise<void> => {
    setTimeout(() => process.exit(0), 1000).unref(); // etcd may be going away at the same time
    await runtime.stop();
    await store.value.close();
    process.exit(0);
  };
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void shutdown());
};

if (process.argv[1] === fileURLToPath(import.meta.url)) void main(process.argv.slice(2));
