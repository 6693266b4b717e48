// One lab for one end-to-end test file, driven through the egw CLI: its own state dir, CLI config
// and registry in a temp dir, and the polls the scenarios share (pods running, gateways ready,
// the source IP the external hosts see). Bring it up in before(), down() in after().
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { egwOk, eventually, randomSuffix, runEgw } from "./lab-cli.js";

export const WHOAMI = "http://198.18.10.10/";
export const WHOAMI_B = "http://198.18.30.10/";
export const DB = "telnet://198.18.20.10:5432";
/** Underlay IP of node i: 172.30.0.(10+i). */
export const nodeIP = (nodeName: string | undefined): string =>
  /^node-(\d+)$/.test(nodeName ?? "") ? `172.30.0.${10 + Number(nodeName?.slice(5))}` : "";

export interface PodJson {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string }[];
  };
}
export interface GatewayJson {
  status?: {
    replicas?: { name: string; node?: string; egressIP?: string; ready: boolean }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface LabSession {
  lab: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** `egw args`, failing the test unless it exits 0; returns stdout. */
  egw: (...args: string[]) => Promise<string>;
  /** `egw apply -f -` with `yaml` on stdin. */
  apply: (yaml: string) => Promise<string>;
  up: (nodes: number) => Promise<string>;
  /** `egw down` and the temp dir removed; safe after a failed or missing up. */
  down: () => Promise<void>;
  /** What whoami (or db) answers from inside a pod; undefined when the connection fails. */
  sourceSeen: (ns: string, pod: string, url: string) => Promise<string | undefined>;
  /** `count` new connections from one pod, in one shell; the answers in order ("" = failed). */
  manyConnections: (ns: string, pod: string, url: string, count: number) => Promise<string[]>;
  getPod: (ns: string, name: string) => Promise<PodJson | undefined>;
  runningPod: (ns: string, name: string) => Promise<PodJson>;
  /** Egress IPs of a gateway once `replicas` replicas are ready and their pods report Ready. */
  readyGateway: (ns: string, name: string, replicas: number) => Promise<string[]>;
  /** Waits until the pod's answer from `url` is one of `expected` (agents and routes converge). */
  leavesAs: (ns: string, pod: string, expected: readonly string[], url?: string) => Promise<string>;
}

/** A session for a new lab named `<prefix><random>` (lab names are at most 12 characters). */
export const labSession = (prefix: string): LabSession => {
  const tmp = mkdtempSync(join(tmpdir(), `egw-e2e-${prefix}-`));
  const lab = `${prefix}${randomSuffix()}`;
  const stateDir = join(tmp, "state");
  const env = {
    ...process.env,
    EGW_CONFIG: join(tmp, "config.yaml"),
    EGW_RUN_DIR: join(tmp, "run"),
    EGW_LAB: lab,
  };
  const egw = (...args: string[]): Promise<string> => egwOk(env, args);

  const sourceSeen = async (ns: string, pod: string, url: string): Promise<string | undefined> => {
    const r = await runEgw(env, ["exec", "-n", ns, pod, "--", "curl", "-s", "-m", "3", url]);
    return r.code === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : undefined;
  };

  const getPod = async (ns: string, name: string): Promise<PodJson | undefined> => {
    const r = await runEgw(env, ["get", "pod", "-n", ns, name, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as PodJson) : undefined;
  };

  return {
    lab,
    stateDir,
    env,
    egw,
    apply: (yaml) => egwOk(env, ["apply", "-f", "-"], yaml),
    up: async (nodes) => {
      const out = await egw("up", "--nodes", String(nodes), "--name", lab, "--state-dir", stateDir);
      assert.match(out, new RegExp(`lab "${lab}" is up: ${nodes} node\\(s\\)`));
      return out;
    },
    down: async () => {
      // EGW_E2E_KEEP_LOGS=<dir>: the lab's daemon logs outlive it (egw down removes the state dir).
      const keep = process.env.EGW_E2E_KEEP_LOGS;
      if (keep && existsSync(join(stateDir, "logs")))
        cpSync(join(stateDir, "logs"), join(keep, lab), { recursive: true });
      await runEgw(env, ["down", "--name", lab, "--state-dir", stateDir]);
      rmSync(tmp, { recursive: true, force: true });
    },
    sourceSeen,
    manyConnections: async (ns, pod, url, count) => {
      const script = `for i in $(seq ${count}); do r=$(curl -s -m 3 ${url}); echo "$r"; done`;
      const out = await egw("exec", "-n", ns, pod, "--", "sh", "-c", script);
      return out
        .split("\n")
        .map((l) => l.trim())
        .slice(0, count);
    },
    getPod,
    runningPod: (ns, name) =>
      eventually(`pod ${ns}/${name} running`, async () => {
        const p = await getPod(ns, name);
        return p?.status?.phase === "Running" && p.status.podIP ? p : undefined;
      }),
    readyGateway: async (ns, name, replicas) => {
      let last = "";
      return eventually(
        `EgressGateway ${ns}/${name} with ${replicas} ready replica(s)`,
        async () => {
          const gw = JSON.parse(await egw("get", "egw", "-n", ns, name, "-o", "json")) as GatewayJson;
          last = JSON.stringify(gw.status);
          const ready = (gw.status?.replicas ?? []).filter((r) => r.ready && r.egressIP);
          if (ready.length !== replicas) return undefined;
          for (const r of ready) {
            const pod = await getPod(ns, r.name);
            if (pod?.status?.conditions?.find((c) => c.type === "Ready")?.status !== "True") return undefined;
          }
          return ready.map((r) => r.egressIP ?? "").sort();
        },
        { describeLast: () => last },
      );
    },
    leavesAs: (ns, pod, expected, url = WHOAMI) => {
      let last: string | undefined;
      return eventually(
        `${ns}/${pod} to reach ${url} from one of ${expected.join(", ")}`,
        async () => {
          last = await sourceSeen(ns, pod, url);
          return last !== undefined && expected.includes(last) ? last : undefined;
        },
        { describeLast: () => `last answer: ${last ?? "(connection failed)"}` },
      );
    },
  };
};
