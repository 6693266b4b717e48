// End to end (root, real network namespaces): the lab through the egw CLI, as a user runs it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isLabNetns } from "./names.js";
import { addNetns, listNetns } from "./netns.js";
import { isAlive, startDetached } from "../util/background-process.js";
import { runProcess } from "../util/process.js";
import { sleep } from "../util/wait.js";
import { readManifest } from "./state.js";
import { egwOk as ok, randomSuffix, runEgw as run } from "./testing/lab-cli.js";

const isRoot = process.getuid?.() === 0;

interface PodInfo {
  name: string;
  phase?: string;
  podIP?: string;
  nodeName?: string;
  message?: string;
}

const pods = async (env: NodeJS.ProcessEnv, namespace: string): Promise<PodInfo[]> => {
  const out = await ok(env, ["get", "pods", "-n", namespace, "-o", "json"]);
  const doc = JSON.parse(out) as { items?: unknown[] };
  const items = (doc.items ?? [doc]) as {
    metadata: { name: string };
    spec?: { nodeName?: string };
    status?: { phase?: string; podIP?: string; message?: string };
  }[];
  return items.map((p) => ({
    name: p.metadata.name,
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    ...(p.status?.podIP ? { podIP: p.status.podIP } : {}),
    ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
    ...(p.status?.message ? { message: p.status.message } : {}),
  }));
};

/** Polls until every named pod has left Pending; returns them by name. */
const settledPods = async (
  env: NodeJS.ProcessEnv,
  namespace: string,
  names: string[],
): Promise<Map<string, PodInfo>> => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await pods(env, namespace);
    const byName = new Map(list.map((p) => [p.name, p]));
    if (names.every((n) => ["Running", "Failed"].includes(byName.get(n)?.phase ?? ""))) return byName;
    if (Date.now() > deadline)
      assert.fail(`pods ${names.join(", ")} did not settle: ${JSON.stringify(list)}`);
    await sleep(300);
  }
};

const rootLinks = async (): Promise<string[]> =>
  (await runProcess(["ip", "-o", "link", "show"])).stdout
    .split("\n")
    .map((l) => l.split(":")[1]?.trim().split("@")[0] ?? "")
    .filter((n) => n !== "");

/** Processes whose command line mentions `marker` (the lab's state dir). */
const processesMentioning = (marker: string): number[] =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);

const assertGone = async (
  lab: string,
  stateDir: string,
  configPath: string,
  linksBefore: string[],
): Promise<void> => {
  assert.deepEqual(
    listNetns().filter((n) => isLabNetns(lab, n)),
    [],
    "lab namespaces left",
  );
  const links = await rootLinks();
  assert.deepEqual(
    links.filter((l) => !linksBefore.includes(l)),
    [],
    "links added to the root namespace",
  );
  assert.deepEqual(processesMentioning(stateDir), [], "lab processes left");
  assert.equal(existsSync(stateDir), false, "state dir left");
  assert.equal(existsSync(`/run/egw/labs/${lab}.json`), false, "registry entry left");
  assert.equal(existsSync(configPath), false, "CLI config left");
};

describe("lab (root, network namespaces)", { skip: !isRoot && "needs root", timeout: 300_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "egw-lab-e2e-"));
  const labA = `t${randomSuffix()}`;
  const labB = `u${randomSuffix()}`;
  const stateA = join(tmp, "state-a");
  const stateB = join(tmp, "state-b");
  const configA = join(tmp, "a", "config.yaml");
  const configB = join(tmp, "b", "config.yaml");
  const envA = { ...process.env, EGW_CONFIG: configA, EGW_LAB: "" };
  const envB = { ...process.env, EGW_CONFIG: configB, EGW_LAB: "" };
  let linksBefore: string[] = [];

  before(async () => {
    linksBefore = await rootLinks();
  });

  after(async () => {
    await run(envA, ["down", "--name", labA, "--state-dir", stateA]);
    await run(envB, ["down", "--name", labB, "--state-dir", stateB]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("runs a 3-node lab: pods across nodes, node SNAT to whoami, firewall-gated db, clean down; a second lab runs beside it", async () => {
    const upA = await ok(envA, ["up", "--nodes", "3", "--name", labA, "--state-dir", stateA]);
    assert.match(upA, new RegExp(`lab "${labA}" is up: 3 node\\(s\\)`));
    const again = await ok(envA, ["up", "--nodes", "3", "--name", labA, "--state-dir", stateA]);
    assert.match(again, /already running/);
    const upB = await ok(envB, ["up", "--nodes", "1", "--name", labB, "--state-dir", stateB]);
    assert.match(upB, new RegExp(`lab "${labB}" is up: 1 node\\(s\\)`));

    await ok(
      envA,
      ["apply", "-f", "-"],
      [
        "apiVersion: v1",
        "kind: Namespace",
        "metadata: {name: e2e, labels: {kubernetes.io/metadata.name: e2e}}",
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: client, namespace: e2e}",
        "spec: {nodeName: node-1}",
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: server, namespace: e2e}",
        "spec: {nodeName: node-3}",
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: lost, namespace: e2e}",
        "spec: {nodeName: node-9}",
        "",
      ].join("\n"),
    );
    await ok(
      envB,
      ["apply", "-f", "-"],
      "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: default}\n",
    );

    const a = await settledPods(envA, "e2e", ["client", "server", "lost"]);
    const client = a.get("client");
    const server = a.get("server");
    assert.equal(client?.phase, "Running");
    assert.equal(server?.phase, "Running");
    assert.equal(client?.podIP, "10.244.1.1");
    assert.equal(server?.podIP, "10.244.3.1");
    assert.equal(a.get("lost")?.phase, "Failed");
    assert.match(a.get("lost")?.message ?? "", /spec\.nodeName "node-9" is not a node of lab/);

    // pod to pod across nodes
    await ok(envA, ["exec", "-n", "e2e", "client", "--", "ping", "-c", "1", "-W", "2", server?.podIP ?? ""]);
    // the default path: node SNAT, so whoami sees the node IP
    assert.equal(
      (
        await ok(envA, ["exec", "-n", "e2e", "client", "--", "curl", "-s", "-m", "5", "http://198.18.10.10/"])
      ).trim(),
      "172.30.0.11",
    );
    assert.equal(
      (
        await ok(envA, ["exec", "-n", "e2e", "server", "--", "curl", "-s", "-m", "5", "http://198.18.10.10/"])
      ).trim(),
      "172.30.0.13",
    );

    // exit codes pass through; a missing pod is a clear error
    assert.equal((await run(envA, ["exec", "-n", "e2e", "client", "--", "sh", "-c", "exit 3"])).code, 3);
    const missing = await run(envA, ["exec", "-n", "e2e", "nope", "--", "true"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pod "nope" not found in namespace "e2e"/);

    // db is closed until the firewall allows the node range
    const dbArgs = [
      "exec",
      "-n",
      "e2e",
      "client",
      "--",
      "curl",
      "-s",
      "-m",
      "5",
      "telnet://198.18.20.10:5432",
    ];
    assert.notEqual((await run(envA, dbArgs)).code, 0, "db reachable before allow");
    await ok(envA, ["lab", "firewall", "allow", "--host", "db", "172.30.0.0/24"]);
    assert.match(
      await ok(envA, ["lab", "firewall", "list"]),
      /db\s+198\.18\.20\.10:5432\s+172\.30\.0\.0\/24/,
    );
    assert.equal((await ok(envA, dbArgs)).trim(), "db: hello 172.30.0.11");

    // the firewall log shows the dropped and the accepted attempt with the node's source IP
    const deadline = Date.now() + 20_000;
    let log = "";
    while (!(/DROP\s+172\.30\.0\.11:\d+ -> db/.test(log) && /ACCEPT\s+172\.30\.0\.11:\d+ -> db/.test(log))) {
      assert.ok(Date.now() < deadline, `firewall log incomplete:\n${log}`);
      await sleep(300);
      log = await ok(envA, ["lab", "firewall", "log"]);
    }

    // lab B: its own pod, same addresses, its own firewall (db still closed there)
    const b = await settledPods(envB, "default", ["solo"]);
    assert.equal(b.get("solo")?.podIP, "10.244.1.1");
    assert.equal(
      (await ok(envB, ["exec", "solo", "--", "curl", "-s", "-m", "5", "http://198.18.10.10/"])).trim(),
      "172.30.0.11",
    );
    assert.notEqual(
      (await run(envB, ["exec", "solo", "--", "curl", "-s", "-m", "5", "telnet://198.18.20.10:5432"])).code,
      0,
    );

    const status = await ok(envA, ["status"]);
    assert.match(status, /runtime\s+\d+\s+running/);
    assert.match(status, /e2e\s+client\s+Running\s+10\.244\.1\.1\s+node-1/);

    // down A leaves nothing and B untouched
    assert.match(await ok(envA, ["down", "--name", labA]), new RegExp(`lab "${labA}" removed`));
    await assertGone(labA, stateA, configA, linksBefore);
    assert.match(
      await ok(envA, ["down", "--name", labA, "--state-dir", stateA]),
      /not running; nothing to remove/,
    );
    assert.equal(
      (await ok(envB, ["exec", "solo", "--", "curl", "-s", "-m", "5", "http://198.18.10.10/"])).trim(),
      "172.30.0.11",
    );
    await ok(envB, ["status"]);

    await ok(envB, ["down"]);
    await assertGone(labB, stateB, configB, linksBefore);
  });

  it("rejects bad input with a clear error and builds nothing", async () => {
    const env = { ...process.env, EGW_CONFIG: join(tmp, "bad", "config.yaml") };
    const badName = await run(env, ["up", "--name", "Bad_Name", "--state-dir", join(tmp, "bad")]);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /lab name "Bad_Name" is not valid: use 1-12 lower-case letters/);
    const badNodes = await run(env, ["up", "--nodes", "0", "--name", "x", "--state-dir", join(tmp, "bad")]);
    assert.equal(badNodes.code, 1);
    assert.match(badNodes.stderr, /--nodes 0 is out of range/);
    assert.equal(existsSync(join(tmp, "bad")), false);
  });

  it("down cleans up after a crashed lab and after stray namespaces with processes in them", async () => {
    const lab = `c${randomSuffix()}`;
    const stateDir = join(tmp, "state-c");
    const config = join(tmp, "c", "config.yaml");
    const env = { ...process.env, EGW_CONFIG: config, EGW_LAB: "" };
    try {
      await ok(env, ["up", "--nodes", "1", "--name", lab, "--state-dir", stateDir]);
      const m = readManifest(stateDir);
      const victims = [m?.processes.runtime?.pid, m?.processes.etcd?.pid].filter(
        (p): p is number => p !== undefined,
      );
      assert.equal(victims.length, 2);
      for (const pid of victims) process.kill(pid, "SIGKILL");
      const deadline = Date.now() + 10_000;
      while (victims.some(isAlive)) {
        assert.ok(Date.now() < deadline, "killed processes did not die");
        await sleep(50);
      }
      const again = await run(env, ["up", "--nodes", "1", "--name", lab, "--state-dir", stateDir]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is not healthy \(.*etcd is not running.*\); run 'egw down --name/);
      const status = await run(env, ["status", "--name", lab]);
      assert.equal(status.code, 1);
      assert.match(status.stdout, /runtime\s+\d+\s+not running/);

      // a half-built leftover: namespaces with a process inside and no state at all
      await ok(env, ["down", "--name", lab]);
      const made = await addNetns([`egw-${lab}-n1`, `egw-${lab}-p-0123456789ab`]);
      assert.ok(made.ok);
      const stray = startDetached(["sleep", "300"], { logFile: "/dev/null", netns: `egw-${lab}-n1` });
      assert.ok(stray.ok);
      await sleep(200);
      assert.ok(isAlive(stray.value));
      assert.match(
        await ok(env, ["down", "--name", lab, "--state-dir", stateDir]),
        /removed: 2 namespaces, 1 processes/,
      );
      assert.equal(isAlive(stray.value), false);
      await assertGone(lab, stateDir, config, linksBefore);
    } finally {
      await run(env, ["down", "--name", lab, "--state-dir", stateDir]);
    }
  });
});
