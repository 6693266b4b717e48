// `egw cordon/uncordon/drain node`, in-process against the in-memory datastore; the controller's
// part (replacing the replicas) is played by the test.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { ANN_GATEWAY_OWNER, ANN_GATEWAY_TERMINATING } from "../api/well-known.js";
import { MemoryStore } from "../datastore/memory.js";
import { ok } from "../util/result.js";
import { parseDuration, replicasOnNode } from "./commands/drain.js";
import type { CliIO } from "./context.js";
import { run } from "./main.js";

const node = (name: string): Resource => ({ apiVersion: "v1", kind: "Node", metadata: { name } });
const replica = (name: string, nodeName: string, annotations: Record<string, string> = {}): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "egress", annotations: { [ANN_GATEWAY_OWNER]: "egress/gw", ...annotations } },
  spec: { nodeName },
});

const runner = (store: MemoryStore) => async (args: string[]) => {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readStdin: () => Promise.resolve(""),
    env: { EGW_CONFIG: "/nonexistent/egw-config.yaml" },
    now: () => new Date(),
  };
  const code = await run(args, io, () => Promise.resolve(ok(store.client())));
  return { code, stdout, stderr };
};

describe("egw cordon / uncordon / drain node", () => {
  it("cordon and uncordon set and clear spec.unschedulable, saying so as kubectl does", async () => {
    const store = new MemoryStore();
    const ds = store.client();
    await ds.create(node("node-2"));
    const egw = runner(store);
    assert.deepEqual(await egw(["cordon", "node", "node-2"]), {
      code: 0,
      stdout: "node/node-2 cordoned\n",
      stderr: "",
    });
    const got = await ds.get({ kind: "Node", name: "node-2" });
    assert.equal(got.ok && (got.value.spec as { unschedulable?: boolean }).unschedulable, true);
    assert.equal((await egw(["cordon", "node", "node-2"])).stdout, "node/node-2 already cordoned\n");
    assert.equal((await egw(["uncordon", "node", "node-2"])).stdout, "node/node-2 uncordoned\n");
    assert.equal((await egw(["uncordon", "node", "node-2"])).stdout, "node/node-2 already uncordoned\n");
    const missing = await egw(["cordon", "node", "node-9"]);
    assert.deepEqual([missing.code, missing.stderr], [1, 'error: node "node-9" not found\n']);
    assert.equal((await egw(["cordon", "pod", "x"])).code, 2);
  });

  it("drain waits until the node's replicas are gone, reporting each", async () => {
    const store = new MemoryStore();
    const ds = store.client();
    await ds.create(node("node-2"));
    await ds.create(replica("gw-1", "node-2"));
    await ds.create(replica("gw-0", "node-1"));
    const egw = runner(store);
    const draining = egw(["drain", "node", "node-2"]);
    // The controller: a replacement elsewhere, the old replica drains, then goes.
    await new Promise((r) => setTimeout(r, 300));
    const pod = await ds.get({ kind: "Pod", namespace: "egress", name: "gw-1" });
    assert.ok(pod.ok);
    await ds.update({
      ...pod.value,
      metadata: {
        ...pod.value.metadata,
        annotations: { ...pod.value.metadata.annotations, [ANN_GATEWAY_TERMINATING]: "2030-01-01T00:00:08Z" },
      },
    });
    await new Promise((r) => setTimeout(r, 700));
    await ds.delete({ kind: "Pod", namespace: "egress", name: "gw-1" });
    const out = await draining;
    assert.deepEqual(out, {
      code: 0,
      stdout: "node/node-2 cordoned\nevicting pod egress/gw-1\npod/gw-1 evicted\nnode/node-2 drained\n",
      stderr: "",
    });
  });

  it("drain gives up after --timeout, naming what it waited for; the node stays cordoned", async () => {
    const store = new MemoryStore();
    const ds = store.client();
    await ds.create(node("node-2"));
    await ds.create(replica("gw-1", "node-2", { [ANN_GATEWAY_TERMINATING]: "2030-01-01T00:00:08Z" }));
    const out = await runner(store)(["drain", "node", "node-2", "--timeout", "1s"]);
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      /unable to drain node "node-2": timed out after 1s waiting for egress\/gw-1 \(draining until 2030-01-01T00:00:08Z\)/,
    );
    const bad = await runner(store)(["drain", "node", "node-2", "--timeout", "soon"]);
    assert.equal(bad.code, 2);
  });

  it("durations and replicas on a node", () => {
    assert.deepEqual(["0", "90s", "2m", "1h30m", "500ms", "5", "-1s"].map(parseDuration), [
      0,
      90_000,
      120_000,
      5_400_000,
      500,
      undefined,
      undefined,
    ]);
    assert.deepEqual(
      replicasOnNode([replica("b", "n"), replica("a", "n"), replica("c", "m"), { ...node("x") }], "n").map(
        (r) => r.key,
      ),
      ["egress/a", "egress/b"],
    );
  });
});
