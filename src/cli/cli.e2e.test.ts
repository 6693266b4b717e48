// End to end: the built `bin/egw` as a child process against a real, throw-away etcd.
// Needs `npm run build` (or `npx tsc -p .`) first; `npm test` does that.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { Resource } from "../api/meta.js";
import { startEtcd, type EtcdServer } from "../datastore/testing/etcd-server.js";
import { packageRoot } from "./version.js";

const root = packageRoot();
if (root === undefined) throw new Error("cannot find egw's package.json above the test file");
const BIN = join(root, "bin", "egw");

// Unique names, so a failed run never collides with leftovers or other tests.
const id = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const ns = `shop-${id}`;
const pool = `pool-${id}`;
const gnp = `allow-db-${id}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let etcd: EtcdServer | undefined;
let dir = "";

const egw = (args: string[], opts: { input?: string; endpoints?: string } = {}): Run => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    EGW_ETCD_ENDPOINTS: opts.endpoints ?? etcd?.endpoints.join(","),
    EGW_CONFIG: join(dir, "no-such-config.yaml"),
    EGW_DATASTORE_TYPE: undefined,
    EGW_NAMESPACE: undefined,
  };
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env,
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Runs egw and insists on exit 0, showing stderr otherwise. */
const ok = (args: string[], input?: string): string => {
  const r = egw(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `egw ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
};

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const manifest = (replicas: number): string => `# the shop's egress setup
apiVersion: egw.dev/v1
kind: IPPool
metadata:
  name: ${pool}
spec:
  cidr: 10.10.7.0/24
  allowedUses: [EgressGateway]
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
  annotations:
    egress.egw.dev/selector: "egw.dev/gateway == 'gw'"
---
apiVersion: egw.dev/v1
kind: EgressGateway
metadata:
  name: gw
  namespace: ${ns}
spec:
  replicas: ${replicas}
  ipPools:
    - name: ${pool}
---
apiVersion: egw.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: ${gnp}
spec:
  selector: "app == 'web'"
  types: [Egress]
  egress:
    - action: Allow
      protocol: TCP
      destination:
        nets: [198.18.0.10/32]
        ports: [5432]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: ${ns}
  labels: {app: web}
spec:
  nodeName: node-1
`;

const expectedLines = (verbs: [string, string, string, string, string]): string =>
  [
    `ippool.egw.dev/${pool} ${verbs[0]}`,
    `namespace/${ns} ${verbs[1]}`,
    `egressgateway.egw.dev/${ns}/gw ${verbs[2]}`,
    `globalnetworkpolicy.egw.dev/${gnp} ${verbs[3]}`,
    `pod/${ns}/web-1 ${verbs[4]}`,
  ].join("\n") + "\n";

describe("egw CLI against a real etcd", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "egw-cli-e2e-"));
    etcd = await startEtcd();
  });

  after(async () => {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies a multi-document file: created, then unchanged, then configured", () => {
    const path = file("shop.yaml", manifest(2));
    assert.equal(
      ok(["apply", "-f", path]),
      expectedLines(["created", "created", "created", "created", "created"]),
    );
    assert.equal(
      ok(["apply", "-f", path]),
      expectedLines(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]),
    );
    const changed = file("shop-3.yaml", manifest(3));
    assert.equal(
      ok(["apply", "-f", changed]),
      expectedLines(["unchanged", "unchanged", "configured", "unchanged", "unchanged"]),
    );
  });

  it("gets tables, wide tables, YAML and JSON with defaults visible", () => {
    const table = ok(["get", "egressgateways", "-n", ns]).split("\n");
    assert.match(table[0]!, /^NAME\s+READY\s+STATUS\s+EGRESS-IPS\s+NODES\s+IPPOOLS\s+AGE$/);
    // No controller runs here: no status, so no state, IPs or nodes yet.
    assert.match(table[1]!, new RegExp(`^gw\\s+0/3\\s+<none>\\s+<none>\\s+<none>\\s+${pool}\\s+\\d+s$`));

    const all = ok(["get", "EGW", "-A"]);
    assert.match(all, new RegExp(`^NAMESPACE\\s+NAME.*\\n${ns}\\s+gw\\s`, "m"));

    const wide = ok(["get", "ippool", pool, "-o", "wide"]).split("\n");
    assert.match(
      wide[0]!,
      /^NAME\s+CIDR\s+BLOCKSIZE\s+ALLOWEDUSES\s+NATOUTGOING\s+DISABLEBGPEXPORT\s+NODESELECTOR\s+AGE$/,
    );
    assert.match(
      wide[1]!,
      new RegExp(`^${pool}\\s+10\\.10\\.7\\.0/24\\s+26\\s+EgressGateway\\s+false\\s+false\\s+all\\(\\)\\s`),
    );

    const gw = parse(ok(["get", "egw", "gw", "-n", ns, "-o", "yaml"])) as Resource<{
      replicas: number;
      template: {
        metadata: { labels: Record<string, string> };
        spec: { terminationGracePeriodSeconds: number };
      };
    }>;
    assert.equal(gw.kind, "EgressGateway");
    assert.equal(gw.spec?.replicas, 3);
    assert.deepEqual(gw.spec?.template.metadata.labels, { "egw.dev/gateway": "gw" });
    assert.equal(gw.spec?.template.spec.terminationGracePeriodSeconds, 30);
    assert.match(gw.metadata.resourceVersion ?? "", /^\d+$/);

    const pools = JSON.parse(ok(["get", "ipp", "-o", "json"])) as { kind: string; items: Resource[] };
    assert.equal(pools.kind, "List");
    const mine = pools.items.find((p) => p.metadata.name === pool);
    assert.deepEqual(mine?.spec, {
      cidr: "10.10.7.0/24",
      allowedUses: ["EgressGateway"],
      blockSize: 26,
      natOutgoing: false,
      disableBGPExport: false,
      nodeSelector: "all()",
    });

    const namespace = JSON.parse(ok(["get", "namespace", ns, "-o", "json"])) as Resource;
    assert.equal(namespace.metadata.labels?.["kubernetes.io/metadata.name"], ns);

    const pods = ok(["get", "po", "-n", ns, "-l", "app == 'web'"]);
    assert.match(pods, /^web-1\s+<none>\s+<none>\s+node-1\s/m);
    assert.equal(ok(["get", "po", "-n", ns, "-l", "app == 'db'"]), "");
  });

  it("describes one object", () => {
    const out = ok(["describe", "egressgateway", "gw", "--namespace", ns]);
    assert.match(out, /^Name:\s+gw$/m);
    assert.match(out, new RegExp(`^Namespace:\\s+${ns}$`, "m"));
    assert.match(out, /^Spec:\n {2}replicas: 3$/m);
    assert.match(out, new RegExp(`^ {4}- name: ${pool}$`, "m"));
  });

  it("applies from stdin", () => {
    const out = ok(["apply", "-f", "-"], manifest(3));
    assert.equal(out, expectedLines(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]));
  });

  it("rejects a whole file when one document is invalid, naming kind, name and field", () => {
    const badPool = `bad-${id}`;
    const good = `good-${id}`;
    const path = file(
      "mixed.yaml",
      `apiVersion: egw.dev/v1
kind: IPPool
metadata: {name: ${good}}
spec: {cidr: 10.10.8.0/24}
---
apiVersion: v1
kind: Namespace
metadata: {name: other-${id}}
---
apiVersion: egw.dev/v1
kind: IPPool
metadata: {name: ${badPool}}
spec: {cidr: 10.0.0.0/33}
---
apiVersion: egw.dev/v1
kind: EgressGateway
metadata: {name: gw, namespace: ${ns}}
spec: {replicas: 9, ipPools: [{name: ${good}}]}
`,
    );
    const r = egw(["apply", "-f", path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      new RegExp(`^error: .*mixed\\.yaml:10: IPPool ${badPool}: spec\\.cidr: "10\\.0\\.0\\.0/33"`, "m"),
    );
    assert.match(r.stderr, /nothing applied/);
    for (const args of [
      ["get", "ippool", good],
      ["get", "ns", `other-${id}`],
      ["get", "ippool", badPool],
    ]) {
      const g = egw(args);
      assert.equal(g.code, 1, `${args.join(" ")} should not exist`);
      assert.match(g.stderr, /not found/);
    }
    // The gateway the file would have changed keeps its stored spec.
    const gw = JSON.parse(ok(["get", "egw", "gw", "-n", ns, "-o", "json"])) as Resource<{ replicas: number }>;
    assert.equal(gw.spec?.replicas, 3);
  });

  it("explains bad input: syntax errors with line, empty files, unknown kinds and fields", () => {
    const syntax = egw([
      "apply",
      "-f",
      file("syntax.yaml", "kind: IPPool\nmetadata:\n  name: x\n  labels: {a: 1\n"),
    ]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /^error: .*syntax\.yaml:5:1: invalid YAML: /m);

    const empty = egw(["apply", "-f", file("empty.yaml", "# nothing here\n")]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error: .*empty\.yaml is empty/m);

    const kind = egw(["get", "gateways"]);
    assert.equal(kind.code, 1);
    assert.match(
      kind.stderr,
      /^error: unknown kind "gateways"; valid kinds: .*egressgateway \(egressgateways, egw/m,
    );

    const field = egw([
      "validate",
      "-f",
      file(
        "field.yaml",
        `kind: IPPool\napiVersion: egw.dev/v1\nmetadata: {name: f}\nspec: {cidr: 10.1.0.0/24, colour: red}\n`,
      ),
    ]);
    assert.equal(field.code, 1);
    assert.match(field.stderr, /IPPool f: spec\.colour: unknown field/);

    const type = egw([
      "validate",
      "-f",
      file(
        "type.yaml",
        `kind: EgressGateway\napiVersion: egw.dev/v1\nmetadata: {name: g}\nspec: {replicas: two, ipPools: [{name: p}]}\n`,
      ),
    ]);
    assert.equal(type.code, 1);
    assert.match(type.stderr, /EgressGateway default\/g: spec\.replicas: "two"/);
  });

  it("validates offline", () => {
    const r = egw(["validate", "-f", file("offline.yaml", manifest(1))], { endpoints: "http://127.0.0.1:1" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "5 documents valid\n");
  });

  it("refuses an update based on a stale resourceVersion", () => {
    const current = ok(["get", "egw", "gw", "-n", ns, "-o", "yaml"]);
    const edited = file("edit.yaml", current.replace("replicas: 3", "replicas: 4"));
    const stale = file("stale.yaml", current.replace("replicas: 3", "replicas: 5"));
    assert.equal(ok(["apply", "-f", edited]), `egressgateway.egw.dev/${ns}/gw configured\n`);
    const r = egw(["apply", "-f", stale]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /EgressGateway .*\/gw: the object was modified since metadata\.resourceVersion "\d+"/,
    );
    assert.match(r.stderr, /apply again/);
  });

  it("deletes by name and by file", () => {
    assert.equal(ok(["delete", "egw", "gw", "-n", ns]), `egressgateway.egw.dev/${ns}/gw deleted\n`);
    const gone = egw(["get", "egressgateway", "gw", "-n", ns]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `error: egressgateway "gw" not found in namespace "${ns}"\n`);

    const r = egw(["delete", "-f", join(dir, "shop.yaml")]);
    assert.equal(r.code, 1, "the gateway in the file is already gone");
    assert.equal(
      r.stdout,
      [
        `ippool.egw.dev/${pool} deleted`,
        `namespace/${ns} deleted`,
        `globalnetworkpolicy.egw.dev/${gnp} deleted`,
        `pod/${ns}/web-1 deleted`,
      ]
        .map((l) => `${l}\n`)
        .join(""),
    );
    assert.match(r.stderr, /egressgateway "gw" not found/);
    const pools = JSON.parse(ok(["get", "ippools", "-o", "json"])) as { items: Resource[] };
    assert.ok(!pools.items.some((p) => p.metadata.name === pool));
  });

  it("uses exit code 2 for usage errors", () => {
    for (const args of [
      ["frobnicate"],
      ["get", "ipp", "--bogus"],
      ["get", "ipp", "-o", "xml"],
      ["apply"],
      ["get"],
    ]) {
      const r = egw(args);
      assert.equal(r.code, 2, `egw ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /error: /);
    }
  });

  it("fails clearly when the datastore is unreachable", () => {
    const r = egw(["get", "ippools"], { endpoints: "http://127.0.0.1:1" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: datastore unavailable: .*127\.0\.0\.1:1/m);
  });

  it("prints the version and the CRDs", () => {
    assert.match(ok(["version"]), /^egw \d+\.\d+\.\d+/);
    const crds = ok(["crds"])
      .split(/^---$/m)
      .map((d) => parse(d) as { kind: string; spec: { names: { kind: string } } });
    assert.ok(crds.every((c) => c.kind === "CustomResourceDefinition"));
    assert.ok(crds.some((c) => c.spec.names.kind === "EgressGateway"));
  });
  it("applies the routing kinds with defaults and checks BGP peers against the nodes", () => {
    const node = `bgp-node-${id}`;
    const router = `router-${id}`;
    const path = file(
      "routing.yaml",
      `apiVersion: v1
kind: Node
metadata: {name: ${node}, labels: {rack: r1}}
status: {addresses: [{type: InternalIP, address: 172.31.9.11}]}
---
apiVersion: egw.dev/v1
kind: BGPPeer
metadata: {name: ${router}}
spec: {peerIP: 172.31.9.1, asNumber: 64513}
---
apiVersion: egw.dev/v1
kind: FirewallFeed
metadata: {name: feed-${id}}
spec: {selector: "team == 'payments'"}
`,
    );
    ok(["apply", "-f", path]);
    const peers = ok(["get", "bgppeers", router]).split("\n");
    assert.match(peers[0]!, /^NAME\s+PEERIP\s+ASN\s+NODES\s+AGE$/);
    assert.match(peers[1]!, new RegExp(`^${router}\\s+172\\.31\\.9\\.1\\s+64513\\s+all\\(\\)\\s`));
    const peer = parse(ok(["get", "bp", router, "-o", "yaml"])) as Resource<Record<string, unknown>>;
    assert.deepEqual(peer.spec, { peerIP: "172.31.9.1", asNumber: 64513, bfd: true, holdTimeSeconds: 90 });
    assert.match(ok(["get", "ff", `feed-${id}`]), /^NAME\s+ENTRIES\s+LAST-CHANGE\s+URL\s+AGE$/m);

    // The stored BGPPeer and Nodes are read for the cross-object checks (apply stores no status,
    // so the node's address comes with the batch, as the agents' Nodes carry it in a cluster).
    const clash = egw([
      "apply",
      "-f",
      file(
        "clash.yaml",
        `apiVersion: v1
kind: Node
metadata: {name: ${node}, labels: {rack: r1}}
status: {addresses: [{type: InternalIP, address: 172.31.9.11}]}
---
apiVersion: egw.dev/v1
kind: BGPPeer
metadata: {name: rack-${id}}
spec: {peerIP: 172.31.9.1, asNumber: 65000, nodeSelector: "rack == 'r1'"}
---
apiVersion: egw.dev/v1
kind: BGPPeer
metadata: {name: self-${id}}
spec: {peerIP: 172.31.9.11, asNumber: 65000}
`,
      ),
    ]);
    assert.equal(clash.code, 1);
    assert.match(
      clash.stderr,
      new RegExp(
        `BGPPeer rack-${id}: spec\\.peerIP: .*BGPPeer ${router} has the same peerIP and both select Node ${node}`,
      ),
    );
    assert.match(clash.stderr, new RegExp(`BGPPeer self-${id}: spec\\.peerIP: .*an address of Node ${node}`));
    ok(["delete", "-f", path]);
  });
});
