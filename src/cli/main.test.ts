// The CLI wired end to end in-process, against the in-memory datastore (the built binary against
// a real etcd is covered by cli.e2e.test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/meta.js";
import { MemoryStore } from "../datastore/memory.js";
import type { Datastore } from "../datastore/types.js";
import { ok } from "../util/result.js";
import type { CliIO, CliPorts } from "./context.js";
import { run } from "./main.js";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

const makeRunner = (client: () => Datastore, ports?: CliPorts) => {
  return async (args: string[], stdin = ""): Promise<Captured> => {
    let stdout = "";
    let stderr = "";
    const io: CliIO = {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      readStdin: () => Promise.resolve(stdin),
      env: { EGW_CONFIG: "/nonexistent/egw-config.yaml" },
      now: () => new Date(),
    };
    const code = await run(args, io, () => Promise.resolve(ok(client())), ports);
    return { code, stdout, stderr };
  };
};

const gateway = (replicas: number): string => `apiVersion: egw.dev/v1
kind: EgressGateway
metadata: {name: gw, namespace: pay}
spec: {replicas: ${replicas}, ipPools: [{name: p}]}
`;

describe("egw run()", () => {
  it("applies from stdin and reads back with defaults", async () => {
    const store = new MemoryStore();
    const egw = makeRunner(() => store.client());
    const applied = await egw(["apply", "-f", "-"], gateway(2));
    assert.deepEqual(applied, { code: 0, stdout: "egressgateway.egw.dev/pay/gw created\n", stderr: "" });
    const got = await egw(["get", "egw", "gw", "-n", "pay", "-o", "json"]);
    assert.equal(got.code, 0);
    const gw = JSON.parse(got.stdout) as Resource<{
      template: { metadata: { labels: Record<string, string> } };
    }>;
    assert.deepEqual(gw.spec?.template.metadata.labels, { "egw.dev/gateway": "gw" });
  });

  it("rejects liveness settings out of range with the field path and why, and stores nothing", async () => {
    const store = new MemoryStore();
    const egw = makeRunner(() => store.client());
    const withLiveness = (liveness: string): string =>
      gateway(2).replace(
        "ipPools: [{name: p}]",
        `ipPools: [{name: p}], failureDetection: {liveness: ${liveness}}`,
      );
    const cases: [string, RegExp[]][] = [
      [
        "{intervalMs: 20}",
        [/spec\.failureDetection\.liveness\.intervalMs/, /20 is not valid/, /below 50 ms/],
      ],
      [
        "{multiplier: 0}",
        [/spec\.failureDetection\.liveness\.multiplier/, /0 is not valid/, /missed packets/],
      ],
      ["{holdDownMs: 700000}", [/spec\.failureDetection\.liveness\.holdDownMs/, /from 0 to 600000/]],
    ];
    for (const [liveness, messages] of cases) {
      const r = await egw(["apply", "-f", "-"], withLiveness(liveness));
      assert.notEqual(r.code, 0, liveness);
      for (const m of messages) assert.match(r.stderr, m, liveness);
    }
    const listed = await store.client().list("EgressGateway");
    assert.ok(listed.ok);
    assert.equal(listed.value.items.length, 0, "nothing was stored");

    const good = await egw(
      ["apply", "-f", "-"],
      withLiveness("{intervalMs: 50, multiplier: 1, holdDownMs: 0}"),
    );
    assert.equal(good.code, 0, good.stderr);
    const got = await egw(["get", "egw", "gw", "-n", "pay", "-o", "json"]);
    const stored = JSON.parse(got.stdout) as Resource<{ failureDetection: unknown }>;
    assert.deepEqual(stored.spec?.failureDetection, {
      liveness: { intervalMs: 50, multiplier: 1, holdDownMs: 0 },
    });
  });

  it("retries when another writer changes the object between read and write", async () => {
    const store = new MemoryStore();
    const egw = makeRunner(() => store.client());
    assert.equal((await egw(["apply", "-f", "-"], gateway(1))).code, 0);
    // A client whose first update races with a real competing update of the same object.
    let raced = false;
    const racing = (): Datastore => {
      const inner = store.client();
      return Object.assign(Object.create(inner) as Datastore, {
        update: async (obj: Resource) => {
          if (!raced) {
            raced = true;
            const other = store.client();
            const current = await other.get({
              kind: obj.kind,
              namespace: obj.metadata.namespace,
              name: obj.metadata.name,
            });
            assert.ok(current.ok);
            const bumped = {
              ...current.value,
              metadata: { ...current.value.metadata, labels: { touched: "yes" } },
            };
            assert.ok((await other.update(bumped)).ok);
          }
          return inner.update(obj);
        },
      });
    };
    const r = await makeRunner(racing)(["apply", "-f", "-"], gateway(3));
    assert.deepEqual(r, { code: 0, stdout: "egressgateway.egw.dev/pay/gw configured\n", stderr: "" });
    assert.ok(raced);
    const got = JSON.parse((await egw(["get", "egw", "gw", "-n", "pay", "-o", "json"])).stdout) as Resource<{
      replicas: number;
    }>;
    assert.equal(got.spec?.replicas, 3);
  });

  it("maps outcomes to exit codes 0, 1 and 2 with errors on stderr", async () => {
    const egw = makeRunner(() => new MemoryStore().client());
    const version = await egw(["version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^egw \d/);
    const unknown = await egw(["nope"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error: unknown command 'nope'/);
    const badOutput = await egw(["get", "ipp", "-o", "xml"]);
    assert.equal(badOutput.code, 2);
    assert.match(badOutput.stderr, /error: option '-o, --output <format>' argument 'xml' is invalid/);
    const both = await egw(["get", "egw", "-A", "-n", "x"]);
    assert.equal(both.code, 2);
    const missing = await egw(["get", "ippool", "nope"]);
    assert.deepEqual(missing, { code: 1, stdout: "", stderr: 'error: ippool "nope" not found\n' });
    const badSelector = await egw(["get", "pods", "-l", "a == "]);
    assert.equal(badSelector.code, 1);
    assert.match(badSelector.stderr, /^error: -l: selector "a == ": .* at column \d+$/m);
  });

  it("reports an unreachable datastore once, without trying every object", async () => {
    const store = new MemoryStore();
    const egw = makeRunner(() => {
      const c = store.client();
      c.disconnect();
      return c;
    });
    const r = await egw(["apply", "-f", "-"], gateway(1));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: datastore unavailable: /);
    assert.equal(r.stderr.match(/^error: /gm)?.length, 1);
  });

  it("describe of a policy shows the counters of the counter port it is wired with", async () => {
    const policy = `apiVersion: egw.dev/v1
kind: GlobalNetworkPolicy
metadata: {name: web}
spec: {selector: all(), egress: [{action: Allow, protocol: TCP}, {action: Deny}]}
`;
    const asked: string[][] = [];
    const ports: CliPorts = {
      policyCounters: (sel) => {
        asked.push(sel.etcdEndpoints);
        return Promise.resolve({
          kind: "read",
          where: 'test cluster "c"',
          counters: [{ ref: "gnp:web", rule: 1, packets: 7, bytes: 420 }],
          nodes: ["n1"],
          errors: [],
        });
      },
    };
    const store = new MemoryStore();
    const egw = makeRunner(() => store.client(), ports);
    assert.equal((await egw(["apply", "-f", "-"], policy)).code, 0);
    const d = await egw(["describe", "gnp", "web"]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^\s+1\s+Deny\s+7\s+420\s+everything$/m);
    assert.match(d.stdout, /summed over test cluster "c" nodes n1/);
    assert.deepEqual(asked, [["http://127.0.0.1:2379"]]);
    const unwired = await makeRunner(() => store.client(), {})(["describe", "gnp", "web"]);
    assert.match(unwired.stdout, /Counters: kept by each node's nft ruleset/);
  });

  it("rejects namespace mismatches with an explicit -n", async () => {
    const egw = makeRunner(() => new MemoryStore().client());
    const r = await egw(["apply", "-n", "other", "-f", "-"], gateway(1));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /<stdin>:1: EgressGateway gw: metadata\.namespace "pay" does not match -n "other"/,
    );
  });
});
