// Which datastore and namespace the CLI uses: flag > environment > config file > built-in default.
// The config file is YAML (`datastoreType`, `etcdEndpoints`, `namespace`); `egw up` writes it.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { err, ok, type Result } from "../util/result.js";

export const DATASTORE_TYPES = ["etcd", "kubernetes"] as const;
export type DatastoreType = (typeof DATASTORE_TYPES)[number];
export const DEFAULT_ETCD_ENDPOINTS: readonly string[] = ["http://127.0.0.1:2379"];
export const DEFAULT_NAMESPACE = "default";

export interface EgwConfig {
  datastoreType?: DatastoreType;
  etcdEndpoints?: string[];
  /** Default namespace for namespaced kinds when no -n is given. */
  namespace?: string;
}

export interface DatastoreSelection {
  type: DatastoreType;
  etcdEndpoints: string[];
}

export type Env = Record<string, string | undefined>;

export const defaultConfigPath = (env: Env = process.env): string =>
  env.EGW_CONFIG ?? join(env.HOME ?? homedir(), ".config", "egw", "config.yaml");

const isDatastoreType = (s: unknown): s is DatastoreType =>
  typeof s === "string" && (DATASTORE_TYPES as readonly string[]).includes(s);

/** `127.0.0.1:2379` and `http://127.0.0.1:2379` both work; anything else that is not http(s) is an error. */
export const normalizeEndpoint = (raw: string): Result<string, string> => {
  const s = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return err(`etcd endpoint "${raw}" is not a URL (expected e.g. http://127.0.0.1:2379)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return err(`etcd endpoint "${raw}" must use http:// or https://`);
  return ok(withScheme.replace(/\/+$/, ""));
};

export const parseEndpointList = (list: readonly string[], origin: string): Result<string[], string> => {
  const out: string[] = [];
  for (const raw of list) {
    if (raw.trim() === "") continue;
    const n = normalizeEndpoint(raw);
    if (!n.ok) return err(`${origin}: ${n.error}`);
    out.push(n.value);
  }
  if (out.length === 0) return err(`${origin}: no etcd endpoints given`);
  return ok(out);
};

/** Checks a parsed config document; pure so it can be tested without files. */
export const parseConfig = (text: string, path: string): Result<EgwConfig, string> => {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return err(`config file ${path}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return ok({});
  if (typeof doc !== "object" || Array.isArray(doc)) return err(`config file ${path}: expected a mapping`);
  const known = new Set(["datastoreType", "etcdEndpoints", "namespace"]);
  const cfg: EgwConfig = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!known.has(key))
      return err(`config file ${path}: unknown field "${key}" (valid: ${[...known].join(", ")})`);
    if (key === "datastoreType") {
      if (!isDatastoreType(value))
        return err(
          `config file ${path}: datastoreType: ${JSON.stringify(value)} is not one of ${DATASTORE_TYPES.join(", ")}`,
        );
      cfg.datastoreType = value;
    } else if (key === "etcdEndpoints") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
        return err(`config file ${path}: etcdEndpoints must be a list of URLs`);
      const eps = parseEndpointList(value as string[], `config file ${path}: etcdEndpoints`);
      if (!eps.ok) return eps;
      cfg.etcdEndpoints = eps.value;
    } else {
      if (typeof value !== "string" || value === "")
        return err(`config file ${path}: namespace must be a non-empty string`);
      cfg.namespace = value;
    }
  }
  return ok(cfg);
};

/** Reads the config file; a missing file is an empty config, not an error. */
export const readConfig = (path: string = defaultConfigPath()): Result<EgwConfig, string> => {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return ok({});
    return err(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  return parseConfig(text, path);
};

/** Writes the config file (creating its directory); returns the path written. */
export const writeConfig = (cfg: EgwConfig, path: string = defaultConfigPath()): Result<string, string> => {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, stringify(cfg), "utf8");
    return ok(path);
  } catch (e) {
    return err(`cannot write config file ${path}: ${(e as Error).message}`);
  }
};

/** Applies the precedence flag > env > config file > default. Pure. */
export const resolveDatastore = (input: {
  flag?: string;
  env: Env;
  file: EgwConfig;
}): Result<DatastoreSelection, string> => {
  const { flag, env, file } = input;
  let type: DatastoreType;
  if (flag !== undefined) {
    if (!isDatastoreType(flag))
      return err(`--datastore "${flag}" is not one of ${DATASTORE_TYPES.join(", ")}`);
    type = flag;
  } else if (env.EGW_DATASTORE_TYPE !== undefined && env.EGW_DATASTORE_TYPE !== "") {
    if (!isDatastoreType(env.EGW_DATASTORE_TYPE))
      return err(
        `EGW_DATASTORE_TYPE "${env.EGW_DATASTORE_TYPE}" is not one of ${DATASTORE_TYPES.join(", ")}`,
      );
    type = env.EGW_DATASTORE_TYPE;
  } else {
    type = file.datastoreType ?? "etcd";
  }
  let etcdEndpoints: string[];
  if (env.EGW_ETCD_ENDPOINTS !== undefined && env.EGW_ETCD_ENDPOINTS !== "") {
    const eps = parseEndpointList(env.EGW_ETCD_ENDPOINTS.split(","), "EGW_ETCD_ENDPOINTS");
    if (!eps.ok) return eps;
    etcdEndpoints = eps.value;
  } else {
    etcdEndpoints = file.etcdEndpoints ?? [...DEFAULT_ETCD_ENDPOINTS];
  }
  return ok({ type, etcdEndpoints });
};

/** The namespace for namespaced kinds: -n > EGW_NAMESPACE > config file > "default". */
export const resolveNamespace = (flag: string | undefined, env: Env, file: EgwConfig): string =>
  flag ?? (env.EGW_NAMESPACE || undefined) ?? file.namespace ?? DEFAULT_NAMESPACE;
