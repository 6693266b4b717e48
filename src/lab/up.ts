// `egw up`: checks prerequisites, builds the lab's namespaces and links, starts its processes
// (etcd, etcd proxy, external hosts, firewall logger and feed poller, controller, feeds server, one BIRD and one agent per node, runtime), records the cluster's Nodes, pod
// IPPool and default Namespace. Every resource is recorded in the state dir as it is made, so
// `egw down` can clean up whatever state a failed run leaves.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Resource } from "../api/meta.js";
import { LABEL_NAMESPACE_NAME, LABEL_TOPOLOGY_ZONE } from "../api/well-known.js";
import { openDatastore } from "../datastore/connect.js";
import type { Datastore } from "../datastore/types.js";
import { validateResource } from "../api/validate.js";
import { err, ok, type Result } from "../util/result.js";
import { buildSteps, type BuildStep } from "./build-steps.js";
import { labDown } from "./down.js";
import { inNetns } from "./exec.js";
import { FEED_POLLER_COMPONENT, feedPollerArgv } from "./feed-poller.js";
import { FIREWALL_LOG_GROUP } from "./firewall.js";
import { isLabNetns, scratchNetns, validateLabName } from "./names.js";
import { addNetns, ipBatch, listNetns, nftApply, setSysctls } from "./netns.js";
import { checkPrerequisites, formatProblems, ulogdPluginDir } from "./prereq.js";
import {
  agentArgv,
  agentComponent,
  CONTROLLER_COMPONENT,
  controllerArgv,
  FEEDS_COMPONENT,
  feedsArgv,
} from "./components.js";
import { nodeBirdArgv, nodeBirdComponent, nodeBirdPaths, writeInitialNodeBirdConfig } from "./node-bird.js";
import { isAlive, startDetached } from "../util/background-process.js";
import { sleep, waitFor } from "../util/wait.js";
import { labScriptArgv } from "./processes.js";
import {
  labPaths,
  prepareStateDir,
  readManifest,
  registerLab,
  writeManifest,
  type Component,
  type Env,
  type LabManifest,
  type LabRouting,
} from "./state.js";
import { labBgpResources, LAB_ROUTER_AS, ROUTER_BIRD_COMPONENT, routerBirdArgv } from "./router-bird.js";
import { routerBirdAnswers, writeRouterBirdConfig } from "./router-control.js";
import { labHealth } from "./status.js";
import { ECHO_SERVICE, planTopology, POD_BLOCK_PREFIX, POD_POOL_CIDR, type LabTopology } from "./topology.js";

export interface UpOptions {
  name: string;
  nodes: number;
  /** Label node i with zone (i-1) mod zones (topology.kubernetes.io/zone); 0 or absent = no zones. */
  zones?: number;
  stateDir: string;
  env: Env;
  /** How the agents judge gateway replicas; default bfd. */
  liveness?: "bfd" | "poll";
  /**
   * How the router reaches egress IPs; default bgp (BIRD in the router peers with every node and
   * `BGPConfiguration default` and `BGPPeer lab-router` are applied), static = `--no-bgp`.
   */
  routing?: LabRouting;
  /** Progress lines ("creating namespaces…"). */
  progress?: (line: string) => void;
}

export interface UpOutcome {
  /** The lab was already running: nothing was changed. */
  alreadyRunning: boolean;
  manifest: LabManifest;
  topology: LabTopology;
}

const STARTUP_TIMEOUT_MS = 30_000;
/** How long started components must stay up before `egw up` calls the lab ready. */
const COMPONENT_SETTLE_MS = 1000;
/** Unix socket paths are limited to 108 bytes by the kernel. */
const MAX_SOCKET_PATH = 107;

export const POD_POOL_NAME = "default-ipv4-ippool";

export const labUp = async (opts: UpOptions): Promise<Result<UpOutcome, string[]>> => {
  const progress = opts.progress ?? (() => undefined);
  const name = validateLabName(opts.name);
  if (!name.ok) return err([name.error]);
  const topo = planTopology(opts.name, opts.nodes, opts.zones ?? 0);
  if (!topo.ok) return err([topo.error]);
  const t = topo.value;

  const existing = readManifest(opts.stateDir);
  if (existing) {
    const health = labHealth(existing);
    if (health.healthy) {
      const current = planTopology(existing.name, existing.nodes);
      return ok({ alreadyRunning: true, manifest: existing, topology: current.ok ? current.value : t });
    }
    const broken = [
      ...health.missingNetns.map((n) => `namespace ${n} is missing`),
      ...health.processes.filter((p) => !p.alive).map((p) => `${p.component} is not running`),
    ];
    return err([
      `lab "${opts.name}" exists in ${opts.stateDir} but is not healthy (${broken.join("; ") || existing.phase}); ` +
        `run 'egw down --name ${opts.name}' and then 'egw up' again`,
    ]);
  }
  const leftovers = listNetns().filter((n) => isLabNetns(opts.name, n));
  if (leftovers.length > 0) {
    return err([
      `network namespaces of lab "${opts.name}" already exist (${leftovers.join(", ")}) without a lab in ${opts.stateDir}; ` +
        `run 'egw down --name ${opts.name}' first`,
    ]);
  }

  progress("checking prerequisites");
  const problems = await checkPrerequisites(scratchNetns(opts.name));
  if (problems.length > 0) return err(formatProblems(problems));
  const pluginDir = ulogdPluginDir() ?? "";

  const paths = labPaths(opts.stateDir);
  const longest = [paths.etcdSocket, ...t.nodes.map((n) => nodeBirdPaths(opts.stateDir, n.name).socket)];
  if (longest.some((p) => Buffer.byteLength(p) > MAX_SOCKET_PATH)) {
    return err([
      `--state-dir ${opts.stateDir} is too long for a unix socket path; use a path shorter than ~80 characters`,
    ]);
  }
  const prepared = prepareStateDir(opts.stateDir);
  if (!prepared.ok) return err([prepared.error]);

  const manifest: LabManifest = {
    name: opts.name,
    nodes: opts.nodes,
    stateDir: opts.stateDir,
    phase: "building",
    createdAt: new Date().toISOString(),
    processes: {},
    ...(opts.liveness === undefined ? {} : { liveness: opts.liveness }),
    routing: opts.routing ?? "bgp",
  };
  const built = await build(t, manifest, opts, pluginDir, progress);
  if (!built.ok) {
    progress("egw up failed; removing what it built");
    await labDown({ name: opts.name, stateDir: opts.stateDir, env: opts.env });
    return err(built.error);
  }
  return ok({ alreadyRunning: false, manifest, topology: t });
};

/** Builds everything, recording progress in the manifest; the caller cleans up on failure. */
const build = async (
  t: LabTopology,
  manifest: LabManifest,
  opts: UpOptions,
  pluginDir: string,
  progress: (line: string) => void,
): Promise<Result<void, string[]>> => {
  const paths = labPaths(opts.stateDir);
  const save = (): Result<void, string[]> => {
    // The runtime records the gateway processes it starts in the same file: keep them.
    manifest.processes = { ...readManifest(opts.stateDir)?.processes, ...manifest.processes };
    const w = writeManifest(manifest);
    return w.ok ? ok(undefined) : err([w.error]);
  };
  let r = save();
  if (!r.ok) return r;
  const reg = registerLab(opts.env, { name: t.lab, stateDir: opts.stateDir });
  if (!reg.ok) return err([reg.error]);

  progress(
    `building ${t.nodes.length} nodes, router, external hosts and control plane in network namespaces`,
  );
  for (const step of buildSteps(t)) {
    const s = await runStep(step);
    if (!s.ok) return err([s.error]);
  }

  const start = (component: Component, argv: string[], netns?: string): Result<void, string[]> => {
    const r = startLabProcess(manifest, component, argv, netns);
    return r.ok ? ok(undefined) : err([r.error]);
  };
  const waitForLog = async (component: Component, text: string): Promise<Result<void, string[]>> => {
    const seen = await waitFor(() => logContains(paths.log(component), text), STARTUP_TIMEOUT_MS);
    return seen
      ? ok(undefined)
      : err([`${component} did not start; see ${paths.log(component)} (egw logs ${component})`]);
  };

  progress("starting etcd in the control namespace");
  r = start(
    "etcd",
    inNetns(t.netns.ctl, "etcd", [
      "--name",
      `egw-${t.lab}`,
      "--data-dir",
      paths.etcdData,
      "--listen-client-urls",
      `${t.etcdClientUrl},${paths.etcdSocketUrl}`,
      "--advertise-client-urls",
      t.etcdClientUrl,
      "--listen-peer-urls",
      "http://127.0.0.1:2380",
      "--initial-advertise-peer-urls",
      "http://127.0.0.1:2380",
      "--initial-cluster",
      `egw-${t.lab}=http://127.0.0.1:2380`,
      "--logger",
      "zap",
      "--log-level",
      "warn",
    ]),
    t.netns.ctl,
  );
  if (!r.ok) return r;
  r = start(
    "etcd-proxy",
    labScriptArgv("etcd-proxy", [
      "--socket",
      paths.etcdSocket,
      "--port-file",
      paths.proxyPort,
      "--state-dir",
      opts.stateDir,
    ]),
  );
  if (!r.ok) return r;
  if (!(await waitFor(() => existsSync(paths.proxyPort), STARTUP_TIMEOUT_MS))) {
    return err([`etcd-proxy did not start; see ${paths.log("etcd-proxy")}`]);
  }
  manifest.etcdEndpoint = `http://127.0.0.1:${readFileSync(paths.proxyPort, "utf8").trim()}`;
  r = save();
  if (!r.ok) return r;
  const reg2 = registerLab(opts.env, {
    name: t.lab,
    stateDir: opts.stateDir,
    etcdEndpoint: manifest.etcdEndpoint,
  });
  if (!reg2.ok) return err([reg2.error]);

  const store = openDatastore({ type: "etcd", etcdEndpoints: [manifest.etcdEndpoint], timeoutMs: 2000 });
  if (!store.ok) return err([store.error.message]);
  try {
    const ready = await waitFor(async () => (await store.value.list("Node")).ok, STARTUP_TIMEOUT_MS, 200);
    if (!ready) return err([`etcd did not become ready; see ${paths.log("etcd")} (egw logs etcd)`]);
    progress("recording nodes, the pod IP pool and namespace default");
    const seeded = await seed(store.value, t);
    if (!seeded.ok) return err([seeded.error]);
    if (manifest.routing === "bgp") {
      progress("applying BGPConfiguration default and BGPPeer lab-router (the nodes peer with the router)");
      const applied = await applyResources(store.value, labBgpResources(t));
      if (!applied.ok) return err([applied.error]);
    }
  } finally {
    await store.value.close();
  }

  progress("starting the external hosts (whoami, db, echo) and the firewall log");
  r = start(
    "external",
    inNetns(
      t.netns.ext,
      process.execPath,
      labScriptArgv("external-servers", [
        ...t.externalHosts.flatMap((h) => [`--${h.service}`, `${h.ip}:${h.port}`]),
        "--echo",
        `${ECHO_SERVICE.ip}:${ECHO_SERVICE.port}`,
        "--state-dir",
        opts.stateDir,
      ]).slice(1),
    ),
    t.netns.ext,
  );
  if (!r.ok) return r;
  writeFileSync(paths.ulogdConf, renderUlogdConf(pluginDir, paths.log("firewall"), paths.firewallLog));
  r = start("firewall", inNetns(t.netns.rtr, "ulogd", ["-c", paths.ulogdConf]), t.netns.rtr);
  if (!r.ok) return r;
  // Idle until `egw lab firewall allow --feed`.
  r = start(FEED_POLLER_COMPONENT, feedPollerArgv(opts.stateDir, t.netns.rtr), t.netns.rtr);
  if (!r.ok) return r;
  if (manifest.routing === "bgp") {
    // Before the agents, so the router listens when the nodes' sessions first try.
    progress(`starting BIRD in the router namespace (AS ${LAB_ROUTER_AS}, one BGP session per node, BFD)`);
    const written = await writeRouterBirdConfig(opts.stateDir, t);
    if (!written.ok) return err([written.error]);
    r = start(ROUTER_BIRD_COMPONENT, routerBirdArgv(opts.stateDir, t), t.netns.rtr);
    if (!r.ok) return r;
    if (!(await waitFor(() => routerBirdAnswers(opts.stateDir), STARTUP_TIMEOUT_MS, 200)))
      return err([
        `${ROUTER_BIRD_COMPONENT} did not start; see ${paths.log(ROUTER_BIRD_COMPONENT)} (egw logs ${ROUTER_BIRD_COMPONENT})`,
      ]);
  }
  progress("starting BIRD on every node (the agents configure it)");
  for (const node of t.nodes) {
    const conf = writeInitialNodeBirdConfig(opts.stateDir, node);
    if (!conf.ok) return err([conf.error]);
    r = start(nodeBirdComponent(node.name), nodeBirdArgv(opts.stateDir, node), node.netns);
    if (!r.ok) return r;
  }
  progress("starting the gateway controller, the firewall feeds server and one agent per node");
  r = start(CONTROLLER_COMPONENT, controllerArgv(opts.stateDir, t), t.netns.ctl);
  if (!r.ok) return r;
  r = start(FEEDS_COMPONENT, feedsArgv(opts.stateDir, t), t.netns.ctl);
  if (!r.ok) return r;
  for (const node of t.nodes) {
    r = start(agentComponent(node.name), agentArgv(opts.stateDir, t, node, opts.liveness), node.netns);
    if (!r.ok) return r;
  }
  progress("starting the lab runtime (pods, gateway replicas)");
  r = start("runtime", labScriptArgv("runtime-main", ["--name", t.lab, "--state-dir", opts.stateDir]));
  if (!r.ok) return r;
  for (const [component, text] of [
    ["external", "ready"],
    ["firewall", "initialization finished"],
    [FEED_POLLER_COMPONENT, '"msg":"ready"'],
    ["runtime", "ready"],
  ] as const) {
    const w = await waitForLog(component, text);
    if (!w.ok) return w;
  }
  // Started components must still run (a bad flag or a missing command exits at once).
  await sleep(COMPONENT_SETTLE_MS);
  const dead = [
    CONTROLLER_COMPONENT,
    FEEDS_COMPONENT,
    ...t.nodes.map((n) => agentComponent(n.name)),
    ...t.nodes.map((n) => nodeBirdComponent(n.name)),
    ...(manifest.routing === "bgp" ? [ROUTER_BIRD_COMPONENT] : []),
  ].filter((c) => {
    const rec = manifest.processes[c];
    return !rec || !isAlive(rec.pid);
  });
  if (dead.length > 0)
    return err(dead.map((c) => `${c} exited at start; see ${paths.log(c)} (egw logs ${c})`));
  manifest.phase = "ready";
  return save();
};

/**
 * Starts a background process for the lab (argv as from inNetns() for one inside a namespace)
 * with its output in logs/<component>.log, and records it in the manifest so `egw status` shows
 * it and `egw down` stops it. The argv must mention the state dir (e.g. --state-dir DIR) when it
 * runs in the root namespace: down only kills recorded pids whose command line still names it.
 */
export const startLabProcess = (
  manifest: LabManifest,
  component: Component,
  argv: string[],
  netns?: string,
): Result<number, string> => {
  const paths = labPaths(manifest.stateDir);
  const pid = startDetached(argv, { logFile: paths.log(component), cwd: manifest.stateDir });
  if (!pid.ok) return err(`${component}: ${pid.error}`);
  manifest.processes[component] = {
    pid: pid.value,
    ...(netns ? { netns } : {}),
    startedAt: new Date().toISOString(),
  };
  const saved = writeManifest(manifest);
  return saved.ok ? ok(pid.value) : saved;
};

const runStep = async (step: BuildStep): Promise<Result<void, string>> => {
  switch (step.kind) {
    case "netns":
      return addNetns(step.names);
    case "ip":
      return ipBatch(step.netns, step.lines);
    case "sysctl":
      return setSysctls(step.netns, step.settings);
    case "nft":
      return nftApply(step.netns, step.text);
  }
};

const logContains = (file: string, text: string): boolean => {
  try {
    return readFileSync(file, "utf8").includes(text);
  } catch {
    return false;
  }
};

/** ulogd: NFLOG group → JSON lines in the state dir (the firewall log). */
export const renderUlogdConf = (pluginDir: string, logFile: string, jsonFile: string): string =>
  [
    "[global]",
    `logfile="${logFile}"`,
    "loglevel=3",
    ...[
      "inppkt_NFLOG",
      "filter_IFINDEX",
      "filter_IP2STR",
      "filter_HWHDR",
      "raw2packet_BASE",
      "output_JSON",
    ].map((p) => `plugin="${pluginDir}/ulogd_${p}.so"`),
    "stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON",
    "[log1]",
    `group=${FIREWALL_LOG_GROUP}`,
    "[json1]",
    "sync=1",
    `file="${jsonFile}"`,
    "",
  ].join("\n");

/** The objects a cluster provides: Nodes, the pod IPPool and namespace default (create or update). */
export const labObjects = (t: LabTopology): Resource[] => [
  ...t.nodes.map((n): Resource => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: n.name,
      labels: {
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
        ...(n.zone === undefined ? {} : { [LABEL_TOPOLOGY_ZONE]: n.zone }),
      },
    },
    spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
    status: {
      addresses: [
        { type: "InternalIP", address: n.underlayIp },
        { type: "Hostname", address: n.name },
      ],
    },
  })),
  {
    apiVersion: "egw.dev/v1",
    kind: "IPPool",
    metadata: { name: POD_POOL_NAME },
    spec: { cidr: POD_POOL_CIDR, blockSize: POD_BLOCK_PREFIX, natOutgoing: true, allowedUses: ["Workload"] },
  },
  {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "default", labels: { [LABEL_NAMESPACE_NAME]: "default" } },
  },
];

const seed = (store: Datastore, t: LabTopology): Promise<Result<void, string>> =>
  createOrUpdate(store, labObjects(t));

/** Resources a user could have applied: validated by the API's rules first, then stored. */
const applyResources = async (store: Datastore, objs: readonly Resource[]): Promise<Result<void, string>> => {
  const valid: Resource[] = [];
  for (const obj of objs) {
    const v = validateResource(obj);
    if (!v.ok)
      return err(
        `${obj.kind} ${obj.metadata.name} is not valid: ${v.error.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      );
    valid.push(v.value);
  }
  return createOrUpdate(store, valid);
};

const createOrUpdate = async (store: Datastore, objs: readonly Resource[]): Promise<Result<void, string>> => {
  for (const obj of objs) {
    const created = await store.create(obj);
    if (created.ok) continue;
    if (created.error.code !== "AlreadyExists")
      return err(`cannot record ${obj.kind} ${obj.metadata.name}: ${created.error.message}`);
    const updated = await store.update(obj);
    if (!updated.ok) return err(`cannot update ${obj.kind} ${obj.metadata.name}: ${updated.error.message}`);
  }
  return ok(undefined);
};
