// The egw components a lab runs (pure): their names in the manifest (and so their log files) and
// the argv that starts each one inside its namespace, configured for the lab.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inNetns } from "./exec.js";
import { nodeBirdPaths } from "./node-bird.js";
import { UNDERLAY_CIDR, type LabTopology } from "./topology.js";

export const CONTROLLER_COMPONENT = "controller";
export const agentComponent = (node: string): string => `agent-${node}`;
/** `gateway.<namespace>.<pod>`: a namespace has no dots, so the name is unambiguous. */
export const gatewayComponent = (namespace: string, pod: string): string => `gateway.${namespace}.${pod}`;
export const GATEWAY_COMPONENT_PREFIX = "gateway.";

/** The host-side veth prefix of lab pods (names.ts podHostInterface). */
export const LAB_WORKLOAD_INTERFACE_PREFIX = "ew";
/**
 * New replicas must take load at once in the lab (tests scale up and expect both replicas to be
 * used): a resilient group only gives a new member buckets that were idle this long.
 */
export const LAB_RESILIENT_IDLE_TIMER_SEC = 1;
/** How often lab agents and gateways repair drift and lab agents poll gateway readiness. */
export const LAB_RESYNC_SECONDS = 5;
export const LAB_POLL_INTERVAL_SECONDS = 2;
export const LAB_CONTROLLER_RESYNC_SECONDS = 10;

/** The egw CLI of this build (bin/egw at the repository root, which runs dist/). */
const EGW_BIN = fileURLToPath(
  new URL(import.meta.url.includes("/dist/") ? "../../../bin/egw" : "../../bin/egw", import.meta.url),
);

/**
 * The command (for inNetns) that runs `egw ARGS` as a lab component, configured the way a
 * DaemonSet's environment would: the lab's etcd in EGW_DATASTORE_TYPE and EGW_ETCD_ENDPOINTS
 * (overriding whatever the user's environment says). `--config` names a file in the state dir
 * that is never written, so the user's CLI config cannot leak into components, and the state dir
 * stands on the command line, which is how `egw down`, status and the runtime recognise the
 * process as the lab's.
 */
const egwCommand = (stateDir: string, t: LabTopology, args: readonly string[]): [string, string[]] => [
  "env",
  [
    "EGW_DATASTORE_TYPE=etcd",
    `EGW_ETCD_ENDPOINTS=${t.etcdClientUrl}`,
    process.execPath,
    EGW_BIN,
    "--config",
    join(stateDir, "component-config.yaml"),
    ...args,
  ],
];

/** The controller runs in the control namespace, next to etcd. */
export const controllerArgv = (stateDir: string, t: LabTopology): string[] =>
  inNetns(
    t.netns.ctl,
    ...egwCommand(stateDir, t, ["controller", "--resync", String(LAB_CONTROLLER_RESYNC_SECONDS)]),
  );

/** The firewall feeds server (`egw feeds`), beside the controller; firewalls reach it over the underlay. */
export const FEEDS_COMPONENT = "feeds";
export const LAB_FEEDS_PORT = 8080;
/** The lab's feeds base URL, e.g. http://172.30.0.2:8080 (paths in docs/feeds.md). */
export const labFeedsUrl = (t: LabTopology): string => `http://${t.controlIp}:${LAB_FEEDS_PORT}`;

export const feedsArgv = (stateDir: string, t: LabTopology): string[] =>
  inNetns(
    t.netns.ctl,
    ...egwCommand(stateDir, t, [
      "feeds",
      "--listen",
      `${t.controlIp}:${LAB_FEEDS_PORT}`,
      "--advertise-url",
      labFeedsUrl(t),
    ]),
  );

/**
 * An agent runs in its node's namespace, as a hostNetwork DaemonSet pod would, and drives the
 * node's BIRD (node-bird.ts) through its config file and control socket.
 */
export const agentArgv = (
  stateDir: string,
  t: LabTopology,
  node: { name: string; netns: string },
  liveness: "bfd" | "poll" = "bfd",
): string[] =>
  inNetns(
    node.netns,
    ...egwCommand(stateDir, t, [
      "agent",
      "--node",
      node.name,
      "--interface-prefix",
      LAB_WORKLOAD_INTERFACE_PREFIX,
      "--cluster-cidr",
      UNDERLAY_CIDR,
      "--resilient-idle-timer",
      String(LAB_RESILIENT_IDLE_TIMER_SEC),
      "--resync",
      String(LAB_RESYNC_SECONDS),
      "--poll-interval",
      String(LAB_POLL_INTERVAL_SECONDS),
      "--liveness",
      liveness,
      "--bird-socket",
      nodeBirdPaths(stateDir, node.name).socket,
      "--bird-config",
      nodeBirdPaths(stateDir, node.name).config,
    ]),
  );

/** A gateway replica runs in its pod's namespace; its uplink is the pod's eth0. */
export const gatewayArgv = (
  stateDir: string,
  t: LabTopology,
  pod: { namespace: string; name: string; netns: string },
): string[] =>
  inNetns(
    pod.netns,
    ...egwCommand(stateDir, t, [
      "gateway",
      "--pod",
      `${pod.namespace}/${pod.name}`,
      "--resync",
      String(LAB_RESYNC_SECONDS),
    ]),
  );
