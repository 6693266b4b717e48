// Test helper: a throw-away single-member etcd on free loopback ports in a fresh temp dir.
// Used by the datastore contract tests and by any other module's tests that need a real etcd.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEnd, runProcess, startProcess, succeeded, type ChildHandle } from "../../util/process.js";
import { sleep } from "../../util/wait.js";

export interface EtcdServerOptions {
  /** etcd binary; default /usr/bin/etcd. */
  binary?: string;
  /** How long to wait for the member to become healthy; default 20 s. */
  startTimeoutMs?: number;
}

export interface EtcdServer {
  /** Client URLs, e.g. ["http://127.0.0.1:41234"]. */
  endpoints: string[];
  dataDir: string;
  /** Kills the member and removes its data dir. Idempotent. */
  stop(): Promise<void>;
  /** Kills the member but keeps its data and ports (for outage tests); see up(). */
  down(): Promise<void>;
  /** Starts the member again on the same ports and data after down(). */
  up(): Promise<void>;
  /** down() then up(): clients see the connection drop and come back. */
  restart(): Promise<void>;
  /** Current store revision. */
  revision(): Promise<number>;
  /** Compacts (physically) the history up to `revision` (default: the current revision). */
  compact(revision?: number): Promise<number>;
}

const ETCDCTL = "/usr/bin/etcdctl";

/** Live members, killed if the test process exits without stopping them. */
const live = new Set<{ kill(): void }>();
let exitHooksInstalled = false;

const installExitHooks = (): void => {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = (): void => {
    for (const m of live) m.kill();
  };
  process.once("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
};

/** A port the kernel just handed out on 127.0.0.1 (free now; racy but good enough for tests). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });

const isHealthy = async (clientUrl: string): Promise<boolean> => {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  }
};

export const startEtcd = async (opts: EtcdServerOptions = {}): Promise<EtcdServer> => {
  const binary = opts.binary ?? "/usr/bin/etcd";
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const dataDir = mkdtempSync(join(tmpdir(), "egw-etcd-"));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = `egw-test-${clientPort}`;
  const args = [
    `--name=${name}`,
    `--data-dir=${join(dataDir, "member")}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    "--initial-cluster-state=new",
    "--log-level=error",
  ];

  let child: ChildHandle | undefined;
  let stderrTail = "";
  // Registered until stop(): on an unexpected exit, kill the member and remove its data.
  const handle = {
    kill: () => {
      child?.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  live.add(handle);
  installExitHooks();

  const launch = async (): Promise<void> => {
    stderrTail = "";
    const proc = startProcess([binary, ...args]);
    child = proc;
    let exited: string | undefined;
    void proc.ended.then((end) => {
      exited =
        end.kind === "NotStarted"
          ? `failed to start: ${end.message}`
          : `exited (${describeEnd(end) || "exit code 0"})`;
    });
    proc.child.stdout.resume();
    proc.child.stderr.on("data", (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-2000);
    });
    const deadline = Date.now() + startTimeoutMs;
    while (!(await isHealthy(clientUrl))) {
      if (exited !== undefined || Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(
          `etcd on ${clientUrl} did not become healthy (${exited ?? "timeout"}): ${stderrTail.trim()}`,
        );
      }
      await sleep(50);
    }
  };

  const down = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || !proc.running()) return;
    proc.kill("SIGKILL");
    await proc.ended;
  };

  const etcdctl = async (...cmd: string[]): Promise<string> => {
    const r = await runProcess([ETCDCTL, `--endpoints=${clientUrl}`, ...cmd], {
      env: { ...process.env, ETCDCTL_API: "3" },
    });
    if (!succeeded(r)) throw new Error(`etcdctl ${cmd.join(" ")}: ${r.stderr.trim() || describeEnd(r)}`);
    return r.stdout;
  };

  const revision = async (): Promise<number> => {
    const out = JSON.parse(await etcdctl("endpoint", "status", "-w", "json")) as {
      Status: { header: { revision: number } };
    }[];
    const rev = out[0]?.Status.header.revision;
    if (rev === undefined)
      throw new Error(`etcdctl endpoint status gave no revision: ${JSON.stringify(out)}`);
    return rev;
  };

  try {
    await launch();
  } catch (e) {
    live.delete(handle);
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }

  let stopped = false;
  return {
    endpoints: [clientUrl],
    dataDir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await down();
      live.delete(handle);
      rmSync(dataDir, { recursive: true, force: true });
    },
    down,
    up: launch,
    restart: async () => {
      await down();
      await launch();
    },
    revision,
    compact: async (rev) => {
      const target = rev ?? (await revision());
      await etcdctl("compaction", "--physical", String(target));
      return target;
    },
  };
};
