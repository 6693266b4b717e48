// What every command gets: I/O, configuration resolution and a lazily opened datastore.
import type { Command } from "commander";
import type { Datastore, DatastoreError } from "../datastore/types.js";
import type { Result } from "../util/result.js";
import {
  readConfig,
  defaultConfigPath,
  resolveDatastore,
  resolveNamespace,
  type DatastoreSelection,
  type EgwConfig,
  type Env,
} from "./config.js";
import { CliError } from "./exit.js";
import type { CounterSource } from "./policy-view.js";

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  env: Env;
  now(): Date;
}

export type DatastoreOpener = (
  sel: DatastoreSelection & { timeoutMs: number },
) => Promise<Result<Datastore, DatastoreError>>;

/**
 * Reads the egress-policy rule counters of the cluster `sel` points at (each node keeps its own),
 * or says why they cannot be read from here. A port: the CLI does not know where nodes run.
 */
export type PolicyCounterReader = (sel: DatastoreSelection, env: Env) => Promise<CounterSource>;

/** What the CLI reaches beyond the datastore, wired once by the composition root (main.ts). */
export interface CliPorts {
  policyCounters?: PolicyCounterReader;
}

const NO_COUNTERS: CounterSource = {
  kind: "unavailable",
  why: "kept by each node's nft ruleset (table inet egw); not available from here (read them on the nodes)",
};

/** How long one datastore call may take before the CLI reports the datastore unreachable. */
export const DATASTORE_TIMEOUT_MS = 3000;

export interface CliContext {
  io: CliIO;
  /** Where the config file is: --config > EGW_CONFIG > ~/.config/egw/config.yaml. */
  configPath(): string;
  /** The config file's settings; a missing file = {}. */
  config(): EgwConfig;
  /** The datastore the flag/env/config select (flag > env > config > default). */
  datastoreSelection(): DatastoreSelection;
  /** Opens the selected datastore once; run() closes it after the command. */
  datastore(): Promise<Datastore>;
  /** The namespace for namespaced kinds: -n flag > EGW_NAMESPACE > config file > "default". */
  namespace(flag?: string): string;
  /** Turns a datastore error into the user-facing message (unreachable datastore explained). */
  describeDatastoreError(e: DatastoreError): string;
  /** The rule counters of the compiled egress policy, from the counter port. */
  policyCounters(): Promise<CounterSource>;
  /** Closes the datastore if it was opened. */
  close(): Promise<void>;
}

/** Loaded on first use: the etcd client (gRPC, protobuf) is slow to load and validate, crds and version do without it. */
const defaultOpener: DatastoreOpener = async (sel) => {
  const { openDatastore } = await import("../datastore/connect.js");
  return openDatastore({ type: sel.type, etcdEndpoints: sel.etcdEndpoints, timeoutMs: sel.timeoutMs });
};

/** `program` is read lazily: its global options are only known once parsing reached an action. */
export const createContext = (
  program: Command,
  io: CliIO,
  opener: DatastoreOpener = defaultOpener,
  ports: CliPorts = {},
): CliContext => {
  let config: EgwConfig | undefined;
  let store: Datastore | undefined;

  const ctx: CliContext = {
    io,
    configPath() {
      return program.opts<{ config?: string }>().config ?? defaultConfigPath(io.env);
    },
    config() {
      if (config === undefined) {
        const r = readConfig(ctx.configPath());
        if (!r.ok) throw new CliError(r.error);
        config = r.value;
      }
      return config;
    },
    datastoreSelection() {
      const flag = program.opts<{ datastore?: string }>().datastore;
      const r = resolveDatastore({ flag, env: io.env, file: ctx.config() });
      if (!r.ok) throw new CliError(r.error);
      return r.value;
    },
    async datastore() {
      if (store) return store;
      const sel = ctx.datastoreSelection();
      const opened = await opener({ ...sel, timeoutMs: DATASTORE_TIMEOUT_MS });
      // Opening does not connect (etcd is lazy): errors here are configuration problems, said as is.
      if (!opened.ok) throw new DatastoreUnavailable(opened.error.message);
      store = opened.value;
      return store;
    },
    namespace(flag) {
      return resolveNamespace(flag, io.env, ctx.config());
    },
    describeDatastoreError(e) {
      if (e.code !== "Unavailable") return e.message;
      const sel = ctx.datastoreSelection();
      const where =
        sel.type === "etcd" ? `etcd at ${sel.etcdEndpoints.join(",")}` : "the Kubernetes API server";
      const reason = e.message.includes(sel.etcdEndpoints[0] ?? "\0") ? e.message : `${where}: ${e.message}`;
      return (
        `datastore unavailable: ${reason}\n` +
        `  start it (egw up) or point egw at a running one with --datastore, EGW_ETCD_ENDPOINTS or ${ctx.configPath()}`
      );
    },
    async policyCounters() {
      const read = ports.policyCounters;
      return read === undefined ? NO_COUNTERS : read(ctx.datastoreSelection(), io.env);
    },
    async close() {
      const s = store;
      store = undefined;
      if (s) await s.close();
    },
  };
  return ctx;
};

/** The datastore did not answer: no point trying further objects. */
export class DatastoreUnavailable extends CliError {}

/** Unwraps a datastore result or stops the command with a clear error. */
export const orFail = <T>(ctx: CliContext, r: Result<T, DatastoreError>, what?: string): T => {
  if (r.ok) return r.value;
  const msg = ctx.describeDatastoreError(r.error);
  if (r.error.code === "Unavailable") throw new DatastoreUnavailable(msg);
  throw new CliError(what ? `${what}: ${msg}` : msg);
};
