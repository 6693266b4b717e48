// The lab commands: `egw up`, `egw down`, `egw exec`, `egw status`, `egw logs`, `egw lab …`.
import { existsSync, rmSync } from "node:fs";
import type { Command } from "commander";
import { openDatastore } from "../../datastore/connect.js";
import type { Datastore } from "../../datastore/types.js";
import { labDown } from "../../lab/down.js";
import { readLines } from "../../lab/logs.js";
import { DEFAULT_LAB_NAME, podNetns } from "../../lab/names.js";
import { netnsExists } from "../../lab/netns.js";
import { podView } from "../../lab/pod-actions.js";
import {
  COMPONENTS,
  componentsOf,
  labPaths,
  listLabs,
  readManifest,
  resolveLabName,
  resolveStateDir,
  routingOf,
  type LabManifest,
} from "../../lab/state.js";
import { clusterView, formatStatus, labHealth } from "../../lab/status.js";
import type { LabTopology } from "../../lab/topology.js";
import { labUp } from "../../lab/up.js";
import {
  parseReplicaRef,
  parseUpstreamState,
  setUpstream,
  UPSTREAM_FAULT_TABLE,
} from "../../lab/upstream-fault.js";
import { gatewayComponent, GATEWAY_COMPONENT_PREFIX, labFeedsUrl } from "../../lab/components.js";
import { runInteractive } from "../../util/process.js";
import { readConfig, writeConfig, type EgwConfig } from "../config.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { livenessFlag } from "./agent.js";
import { formatTable } from "../../util/table.js";
import { registerLabFirewall } from "./lab-firewall.js";
import { registerLabNode } from "./lab-node.js";
import { registerLabRouter } from "./lab-router.js";

export interface LabFlags {
  name?: string;
  stateDir?: string;
}

const configOrEmpty = (ctx: CliContext): EgwConfig => {
  try {
    return ctx.config();
  } catch {
    return {};
  }
};

/** --name, else the lab the CLI config targets, else the only running lab, else "egw". */
const labName = (ctx: CliContext, flags: LabFlags): string =>
  resolveLabName(ctx.io.env, flags.name, configOrEmpty(ctx).etcdEndpoints, DEFAULT_LAB_NAME);

export const runningLab = (ctx: CliContext, flags: LabFlags): LabManifest => {
  const name = labName(ctx, flags);
  const stateDir = resolveStateDir(ctx.io.env, name, flags.stateDir);
  const m = readManifest(stateDir);
  if (!m)
    throw new CliError(
      `lab "${name}" is not running (no lab state in ${stateDir}); start it with: egw up --name ${name}`,
    );
  return m;
};

const labStore = (m: LabManifest): Datastore => {
  if (!m.etcdEndpoint)
    throw new CliError(
      `lab "${m.name}" has no datastore yet (egw up did not finish); see egw status --name ${m.name}`,
    );
  const s = openDatastore({ type: "etcd", etcdEndpoints: [m.etcdEndpoint], timeoutMs: 3000 });
  if (!s.ok) throw new CliError(s.error.message);
  return s.value;
};

export const withStore = async <T>(m: LabManifest, fn: (s: Datastore) => Promise<T>): Promise<T> => {
  const store = labStore(m);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
};

const parseCount = (flag: string, raw: string, example: string): number => {
  if (!/^\d+$/.test(raw))
    throw new CliError(`${flag} "${raw}" is not a whole number (e.g. ${flag} ${example})`, EXIT_USAGE);
  return Number(raw);
};

const summary = (t: LabTopology, m: LabManifest, configPath: string): string => {
  const rows: string[][] = [
    ["control", t.netns.ctl, `${t.controlIp}`, `etcd ${t.etcdClientUrl}`],
    [
      "router",
      t.netns.rtr,
      t.routerIp,
      `routes 172.30.0.0/24 <-> 198.18.0.0/15, firewall in front of db, ${
        routingOf(m) === "bgp"
          ? "egress IPs learned by BGP (BIRD, AS 64513)"
          : "static egress-IP routes (--no-bgp)"
      }`,
    ],
    ...t.nodes.map((n) => [
      n.name,
      n.netns,
      n.underlayIp,
      `pods ${n.podCidr}, node SNAT for the pod pool${n.zone === undefined ? "" : `, ${n.zone}`}`,
    ]),
    ...t.externalHosts.map((h) => [
      h.name,
      t.netns.ext,
      `${h.ip}:${h.port}`,
      h.service === "whoami"
        ? "HTTP: answers with the source IP it sees"
        : "TCP: behind the firewall, nothing allowed yet",
    ]),
  ];
  const lines = formatTable(rows).map((l) => `  ${l}`);
  return [
    `lab "${m.name}" is up: ${t.nodes.length} node(s), state in ${m.stateDir}`,
    ...lines,
    `  components: controller and feeds (control namespace; feeds at ${labFeedsUrl(t)}/feeds), agent-<node> in each node, gateway.<ns>.<pod> per replica` +
      (routingOf(m) === "bgp" ? ", bird-router (router namespace)" : ""),
    `  CLI datastore: ${m.etcdEndpoint ?? "-"} (proxy to etcd's unix socket), written to ${configPath}`,
    ``,
    `next:`,
    `  egw apply -f pod.yaml            # a Pod (spec.nodeName optional) gets a netns, IP and routes`,
    `  egw apply -f examples/quickstart.yaml   # an EgressGateway and pods that use it (docs/gateways.md)`,
    `  egw exec POD -- curl -s http://198.18.10.10/`,
    `  egw lab firewall allow --host db 172.30.0.0/24`,
    ...(routingOf(m) === "bgp"
      ? [`  egw lab router routes            # the egress IPs the router learned by BGP`]
      : []),
    `  egw status · egw logs runtime · egw down${m.name === DEFAULT_LAB_NAME ? "" : ` --name ${m.name}`}`,
    ``,
  ].join("\n");
};

/** Points the CLI config at the lab's etcd (keeping other settings). */
const targetLab = (ctx: CliContext, endpoint: string): string => {
  const path = ctx.configPath();
  const current = readConfig(path);
  const next: EgwConfig = {
    ...(current.ok ? current.value : {}),
    datastoreType: "etcd",
    etcdEndpoints: [endpoint],
  };
  const w = writeConfig(next, path);
  if (!w.ok) throw new CliError(w.error);
  return path;
};

/** Drops the lab's endpoint from the CLI config; removes the file if nothing else is left. */
const untargetLab = (ctx: CliContext, endpoint: string): void => {
  const path = ctx.configPath();
  const current = readConfig(path);
  if (!current.ok || !current.value.etcdEndpoints?.includes(endpoint)) return;
  const rest: EgwConfig = { ...current.value };
  delete rest.etcdEndpoints;
  delete rest.datastoreType;
  if (Object.keys(rest).length === 0) rmSync(path, { force: true });
  else writeConfig(rest, path);
};

const registerUpDown = (program: Command, ctx: CliContext): void => {
  program
    .command("up")
    .description("build (or show) a lab cluster in network namespaces on this machine (needs root)")
    .option("--nodes <n>", "number of nodes", "3")
    .option(
      "--zones <n>",
      "label the nodes with N zones round robin (topology.kubernetes.io/zone: zone-a, zone-b, …); 0 = none",
      "0",
    )
    .option("--name <lab>", "lab name (several labs can run side by side)", DEFAULT_LAB_NAME)
    .option(
      "--state-dir <dir>",
      "state directory (default $EGW_STATE_DIR/<name> or /var/lib/egw/labs/<name>)",
    )
    .option("--liveness <mode>", "how the agents judge gateway replicas: bfd or poll (see egw agent)", "bfd")
    .option(
      "--no-bgp",
      "static router routes to the egress IPs instead of BIRD on the router learning them by BGP from the nodes",
    )
    .action(
      async (opts: {
        nodes: string;
        zones: string;
        name: string;
        stateDir?: string;
        liveness: string;
        bgp: boolean;
      }) => {
        const nodes = parseCount("--nodes", opts.nodes, "3");
        const zones = parseCount("--zones", opts.zones, "2");
        const liveness = livenessFlag(opts.liveness);
        const stateDir = resolveStateDir(ctx.io.env, opts.name, opts.stateDir);
        const started = Date.now();
        const r = await labUp({
          name: opts.name,
          nodes,
          zones,
          stateDir,
          env: ctx.io.env,
          liveness,
          routing: opts.bgp ? "bgp" : "static",
          progress: (line) => ctx.io.stderr(`egw up: ${line}\n`),
        });
        if (!r.ok) throw new CliError(r.error);
        const { manifest, topology } = r.value;
        const configPath = manifest.etcdEndpoint ? targetLab(ctx, manifest.etcdEndpoint) : ctx.configPath();
        if (r.value.alreadyRunning) {
          ctx.io.stdout(`lab "${manifest.name}" is already running; nothing changed\n\n`);
          const cluster = await withStore(manifest, (s) => clusterView(manifest, s));
          ctx.io.stdout(formatStatus(manifest, labHealth(manifest), cluster));
          return;
        }
        ctx.io.stdout(summary(topology, manifest, configPath));
        ctx.io.stderr(`egw up: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      },
    );

  program
    .command("down")
    .description("remove a lab: its processes, namespaces, devices and state (safe to repeat)")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory, if it was given to egw up")
    .action(async (opts: LabFlags) => {
      const name = labName(ctx, opts);
      const stateDir = resolveStateDir(ctx.io.env, name, opts.stateDir);
      const r = await labDown({ name, stateDir, env: ctx.io.env });
      if (!r.ok) throw new CliError(r.error);
      if (r.value.etcdEndpoint) untargetLab(ctx, r.value.etcdEndpoint);
      if (r.value.nothingToDo) ctx.io.stdout(`lab "${name}" is not running; nothing to remove\n`);
      else {
        ctx.io.stdout(
          `lab "${name}" removed: ${r.value.deletedNetns.length} namespaces, ${r.value.stoppedProcesses} processes, state in ${stateDir}\n`,
        );
      }
    });
};

const registerExec = (program: Command, ctx: CliContext): void => {
  program
    .command("exec")
    .description("run a command inside a lab pod's network namespace: egw exec [-n NS] POD -- CMD [ARGS...]")
    .option("-n, --namespace <ns>", "the pod's namespace")
    .option("--name <lab>", "lab name")
    .argument("<pod>", "pod name")
    .argument("<command...>", "command and arguments (after --)")
    .action(async (pod: string, command: string[], opts: LabFlags & { namespace?: string }) => {
      const m = runningLab(ctx, opts);
      const namespace = ctx.namespace(opts.namespace);
      const found = await withStore(m, (s) => s.get({ kind: "Pod", namespace, name: pod }));
      if (!found.ok) {
        if (found.error.code === "NotFound") {
          throw new CliError(
            `pod "${pod}" not found in namespace "${namespace}" of lab "${m.name}" (see: egw get pods -n ${namespace})`,
          );
        }
        throw new CliError(`cannot look up pod ${namespace}/${pod}: ${found.error.message}`);
      }
      const view = podView(found.value);
      const netns = podNetns(m.name, namespace, pod);
      if (view.phase !== "Running" || !netnsExists(netns)) {
        const why = view.message ? `: ${view.message}` : "";
        throw new CliError(`pod ${namespace}/${pod} is not running (phase ${view.phase ?? "Pending"})${why}`);
      }
      const [cmd, ...args] = command;
      if (cmd === undefined) throw new CliError("give the command to run after --", EXIT_USAGE);
      const end = await runInteractive([cmd, ...args], { netns });
      if (end.kind === "NotStarted")
        throw new CliError(`cannot run ${cmd} in pod ${namespace}/${pod}: ${end.message}`);
      const code = end.kind === "Exited" ? end.code : 128;
      if (code !== 0) throw new CliError([], code);
    });
};

const registerStatusLogs = (program: Command, ctx: CliContext): void => {
  program
    .command("status")
    .description("show a lab's nodes, pods with their IPs, and its processes")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (opts: LabFlags) => {
      const m = runningLab(ctx, opts);
      const health = labHealth(m);
      const cluster = m.etcdEndpoint ? await withStore(m, (s) => clusterView(m, s)) : "egw up did not finish";
      ctx.io.stdout(formatStatus(m, health, cluster));
      if (!health.healthy) throw new CliError([], 1);
    });

  program
    .command("logs")
    .description(`print a lab component's log (${COMPONENTS.join(", ")}, …)`)
    .argument("<component>", `${COMPONENTS.join(" | ")} | any other the lab runs`)
    .option("-f, --follow", "keep printing new lines")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (component: string, opts: LabFlags & { follow?: boolean }) => {
      const m = runningLab(ctx, opts);
      const known = componentsOf(m);
      if (!known.includes(component)) {
        throw new CliError(`unknown component "${component}"; valid: ${known.join(", ")}`, EXIT_USAGE);
      }
      const file = labPaths(m.stateDir).log(component);
      if (!existsSync(file)) throw new CliError(`no log yet for ${component} (${file})`);
      await readLines(file, (lines) => ctx.io.stdout(lines.map((l) => `${l}\n`).join("")), {
        follow: opts.follow === true,
        ...(opts.follow ? { stop: untilSignal() } : {}),
      });
    });
};

export const untilSignal = (): Promise<void> =>
  new Promise((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });

const registerLabGroup = (program: Command, ctx: CliContext): void => {
  const lab = program.command("lab").description("lab utilities: the upstream firewall, the list of labs");
  registerLabNode(lab, ctx);
  registerLabRouter(lab, ctx);

  lab
    .command("list")
    .description("list the labs running on this machine")
    .action(() => {
      const labs = listLabs(ctx.io.env);
      if (labs.length === 0) return ctx.io.stdout("no labs running\n");
      for (const l of labs) {
        const m = readManifest(l.stateDir);
        const routing = m ? routingOf(m) : "-";
        ctx.io.stdout(`${l.name}\t${routing}\t${l.etcdEndpoint ?? "-"}\t${l.stateDir}\n`);
      }
    });

  registerLabGateway(lab, ctx);

  registerLabFirewall(lab, ctx);
};

/** `egw lab gateway upstream NS/POD down|up`: a replica's upstream fault, for failover tests. */
const registerLabGateway = (lab: Command, ctx: CliContext): void => {
  const gw = lab.command("gateway").description("faults of gateway replicas, for failover tests");
  gw.command("upstream")
    .description(
      "cut (down) or restore (up) a replica's path to the external hosts; its tunnel keeps working, so " +
        "clients still reach it while its probes and their connections fail (needs no datastore)",
    )
    .argument("<replica>", "NAMESPACE/POD of a gateway replica, e.g. egress/shared-0")
    .argument("<state>", "down | up")
    .option("--name <lab>", "lab name")
    .option("--state-dir <dir>", "state directory")
    .action(async (replica: string, stateArg: string, opts: LabFlags) => {
      const ref = parseReplicaRef(replica);
      if (!ref.ok) throw new CliError(ref.error, EXIT_USAGE);
      const state = parseUpstreamState(stateArg);
      if (!state.ok) throw new CliError(state.error, EXIT_USAGE);
      const m = runningLab(ctx, opts);
      const { namespace, pod } = ref.value;
      // The runtime records a process per running replica, so the manifest answers "is this a
      // replica of this lab" without the datastore.
      if (m.processes[gatewayComponent(namespace, pod)] === undefined) {
        const known = Object.keys(m.processes)
          .filter((c) => c.startsWith(GATEWAY_COMPONENT_PREFIX))
          .map((c) => c.slice(GATEWAY_COMPONENT_PREFIX.length).replace(".", "/"));
        throw new CliError(
          `${namespace}/${pod} is not a running gateway replica of lab "${m.name}"; ` +
            `replicas: ${known.length > 0 ? known.join(", ") : "none"}`,
        );
      }
      const netns = podNetns(m.name, namespace, pod);
      if (!netnsExists(netns))
        throw new CliError(`replica ${namespace}/${pod} has no network namespace ${netns}`);
      const r = await setUpstream(netns, state.value);
      if (!r.ok) throw new CliError(`replica ${namespace}/${pod}: ${r.error}`);
      ctx.io.stdout(
        state.value === "down"
          ? `${namespace}/${pod}: upstream down (nft table inet ${UPSTREAM_FAULT_TABLE} in ${netns} drops traffic to and from the external hosts)\n`
          : `${namespace}/${pod}: upstream up\n`,
      );
    });
};

export const register = (program: Command, ctx: CliContext): void => {
  registerUpDown(program, ctx);
  registerExec(program, ctx);
  registerStatusLogs(program, ctx);
  registerLabGroup(program, ctx);
};
