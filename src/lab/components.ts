// The egw components a lab runs (pure): their names in the manifest (and so their log files) and
// the argv that starts each one inside its namespace, configured for the lab.
import { inNetns } from "./exec.js";
import { labScriptArgv } from "./processes.js";
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

/** `egw ARGS` run by the lab's component entry point, pointed at the lab's etcd. */
const egwArgv = (stateDir: string, t: LabTopology, args: readonly string[]): string[] =>
  labScriptArgv("component-main", ["--state-dir", stateDir, "--etcd", t.etcdClientUrl, "--", ...args]);

/** The controller runs in the control namespace, next to etcd. */
export const controllerArgv = (stateDir: string, t: LabTopology): string[] =>
  inNetns(
    t.netns.ctl,
    process.execPath,
    egwArgv(stateDir, t, ["controller", "--resync", String(LAB_CONTROLLER_RESYNC_SECONDS)]).slice(1),
  );

/** An agent runs in its node's namespace, as a hostNetwork DaemonSet pod would. */
export const agentArgv = (
  stateDir: string,
  t: LabTopology,
  node: { name: string; netns: string },
): string[] =>
  inNetns(
    node.netns,
    process.execPath,
    egwArgv(stateDir, t, [
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
    ]).slice(1),
  );

/** A gateway replica runs in its pod's namespace; its uplink is the pod's eth0. */
export const gatewayArgv = (
  stateDir: string,
  t: LabTopology,
  pod: { namespace: string; name: string; netns: string },
): string[] =>
  inNetns(
    pod.netns,
    process.execPath,
    egwArgv(stateDir, t, [
      "gateway",
      "--pod",
      `${pod.namespace}/${pod.name}`,
      "--resync",
      String(LAB_RESYNC_SECONDS),
    ]).slice(1),
  );
