// A lab's state directory (manifest, logs, etcd data, firewall lists) and the registry that lets
// later commands find a lab by name. The manifest is written as the lab is built, so `egw down`
// can clean up after a crashed or half-built `egw up`.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "../util/result.js";

export const DEFAULT_STATE_BASE = "/var/lib/egw/labs";
export const DEFAULT_RUN_DIR = "/run/egw/labs";
export const MANIFEST_FILE = "lab.json";

export type Env = Record<string, string | undefined>;

/**
 * The processes every lab runs; each logs to logs/<component>.log. Other components (agents,
 * controller) can be added to a lab with startLabProcess under any other name.
 */
export const COMPONENTS = ["etcd", "etcd-proxy", "external", "firewall", "runtime"] as const;
export type Component = string;

/** The lab's components: the core ones, then any others it has recorded. */
export const componentsOf = (m: LabManifest | undefined): string[] => [
  ...COMPONENTS,
  ...Object.keys(m?.processes ?? {})
    .filter((c) => !(COMPONENTS as readonly string[]).includes(c))
    .sort(),
];

export type LabRouting = "bgp" | "static";

/** The lab's routing mode (labs recorded before the field existed used static routes). */
export const routingOf = (m: Pick<LabManifest, "routing">): LabRouting => m.routing ?? "static";

export interface ProcessRecord {
  pid: number;
  /** The namespace it runs in; absent for root-namespace processes. */
  netns?: string;
  startedAt: string;
}

export interface LabManifest {
  name: string;
  nodes: number;
  stateDir: string;
  phase: "building" | "ready";
  createdAt: string;
  /** What the CLI and the runtime use, e.g. http://127.0.0.1:40123 (the etcd proxy). */
  etcdEndpoint?: string;
  /** How the agents judge gateway replicas (`egw up --liveness`); absent: bfd. */
  liveness?: "bfd" | "poll";
  /**
   * How the router reaches egress IPs: `bgp` (its BIRD learns them from the nodes) or `static`
   * (the runtime writes a route per replica, `egw up --no-bgp`); absent: static (labs built before BGP).
   */
  routing?: LabRouting;
  processes: Record<Component, ProcessRecord>;
}

export const labPaths = (stateDir: string) => ({
  manifest: join(stateDir, MANIFEST_FILE),
  logs: join(stateDir, "logs"),
  log: (component: string): string => join(stateDir, "logs", `${component}.log`),
  etcdData: join(stateDir, "etcd-data"),
  /** etcd names its unix socket "<host>:<port>" relative to its working directory (the state dir). */
  etcdSocketUrl: "unix://etcd.sock:2379",
  etcdSocket: join(stateDir, "etcd.sock:2379"),
  proxyPort: join(stateDir, "etcd-proxy.port"),
  /** Hand-added allow lists and the feeds the firewall polls (firewall-store.ts). */
  firewallLists: join(stateDir, "firewall.json"),
  firewallLog: join(stateDir, "firewall.jsonl"),
  ulogdConf: join(stateDir, "ulogd.conf"),
});

const writeJsonAtomic = (path: string, value: unknown): void => {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
};

export const readManifest = (stateDir: string): LabManifest | undefined => {
  try {
    const m = JSON.parse(readFileSync(labPaths(stateDir).manifest, "utf8")) as LabManifest;
    return typeof m === "object" && m !== null && typeof m.name === "string"
      ? { ...m, processes: m.processes ?? {} }
      : undefined;
  } catch {
    return undefined;
  }
};

export const writeManifest = (m: LabManifest): Result<void, string> => {
  try {
    writeJsonAtomic(labPaths(m.stateDir).manifest, m);
    return ok(undefined);
  } catch (e) {
    return err(`cannot write ${labPaths(m.stateDir).manifest}: ${(e as Error).message}`);
  }
};

/**
 * Read-modify-write of the manifest on disk, for writers other than `egw up` (the runtime records
 * the gateway processes it starts). Fails if there is no manifest (the lab is going away).
 */
export const updateManifest = (
  stateDir: string,
  change: (m: LabManifest) => void,
): Result<LabManifest, string> => {
  const m = readManifest(stateDir);
  if (!m) return err(`no lab manifest in ${stateDir}`);
  change(m);
  const w = writeManifest(m);
  return w.ok ? ok(m) : w;
};

/** Prepares an empty or existing-lab state dir; refuses a non-empty directory that is not a lab. */
export const prepareStateDir = (stateDir: string): Result<void, string> => {
  try {
    mkdirSync(stateDir, { recursive: true });
    const entries = readdirSync(stateDir);
    if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
      return err(
        `state dir ${stateDir} is not empty and holds no egw lab; give an empty or new directory with --state-dir`,
      );
    }
    mkdirSync(labPaths(stateDir).logs, { recursive: true });
    return ok(undefined);
  } catch (e) {
    return err(`cannot create state dir ${stateDir}: ${(e as Error).message}`);
  }
};

/** Removes the state dir, but only if it is a lab's (holds a manifest) or is empty. */
export const removeStateDir = (stateDir: string): Result<void, string> => {
  let entries: string[];
  try {
    entries = readdirSync(stateDir);
  } catch {
    return ok(undefined);
  }
  if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
    return err(`state dir ${stateDir} holds no lab manifest; not removing it`);
  }
  try {
    rmSync(stateDir, { recursive: true, force: true });
    return ok(undefined);
  } catch (e) {
    return err(`cannot remove ${stateDir}: ${(e as Error).message}`);
  }
};

// --- registry: /run/egw/labs/<name>.json → where the lab's state lives ---

export interface RegistryEntry {
  name: string;
  stateDir: string;
  etcdEndpoint?: string;
}

export const runDir = (env: Env): string => env.EGW_RUN_DIR || DEFAULT_RUN_DIR;
const registryFile = (env: Env, name: string): string => join(runDir(env), `${name}.json`);

export const registerLab = (env: Env, entry: RegistryEntry): Result<void, string> => {
  try {
    mkdirSync(runDir(env), { recursive: true });
    writeJsonAtomic(registryFile(env, entry.name), entry);
    return ok(undefined);
  } catch (e) {
    return err(`cannot write ${registryFile(env, entry.name)}: ${(e as Error).message}`);
  }
};

export const unregisterLab = (env: Env, name: string): void => {
  rmSync(registryFile(env, name), { force: true });
};

export const lookupLab = (env: Env, name: string): RegistryEntry | undefined => {
  try {
    const e = JSON.parse(readFileSync(registryFile(env, name), "utf8")) as RegistryEntry;
    return typeof e.stateDir === "string" ? e : undefined;
  } catch {
    return undefined;
  }
};

export const listLabs = (env: Env): RegistryEntry[] => {
  let files: string[];
  try {
    files = readdirSync(runDir(env)).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  return files
    .map((f) => lookupLab(env, f.slice(0, -".json".length)))
    .filter((e): e is RegistryEntry => e !== undefined);
};

/** Where lab `name` keeps its state: --state-dir > registry > $EGW_STATE_DIR/<name> > /var/lib/egw/labs/<name>. */
export const resolveStateDir = (env: Env, name: string, flag?: string): string =>
  flag ?? lookupLab(env, name)?.stateDir ?? join(env.EGW_STATE_DIR || DEFAULT_STATE_BASE, name);

/**
 * Which lab a command means without --name: $EGW_LAB, else the running lab the CLI config points
 * at (same etcd endpoint), else the only running lab, else "egw".
 */
export const resolveLabName = (
  env: Env,
  flag: string | undefined,
  configEndpoints: readonly string[] | undefined,
  fallback: string,
): string => {
  if (flag) return flag;
  if (env.EGW_LAB) return env.EGW_LAB;
  const labs = listLabs(env);
  const byEndpoint = labs.find(
    (l) => l.etcdEndpoint !== undefined && (configEndpoints ?? []).includes(l.etcdEndpoint),
  );
  if (byEndpoint) return byEndpoint.name;
  if (labs.length === 1 && labs[0]) return labs[0].name;
  return fallback;
};
