import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Resource } from "../api/meta.js";
import { cell, formatAge, renderDescription, renderResources, renderTable } from "./output.js";

const now = new Date("2025-01-02T12:00:00Z");
const pool = (name: string, cidr: string): Resource => ({
  apiVersion: "egw.dev/v1",
  kind: "IPPool",
  metadata: { name, resourceVersion: "7", creationTimestamp: "2025-01-02T11:55:00Z" },
  spec: { cidr, blockSize: 31, allowedUses: ["EgressGateway"], natOutgoing: false },
});
const gw: Resource = {
  apiVersion: "egw.dev/v1",
  kind: "EgressGateway",
  metadata: { name: "gw", namespace: "payments", labels: { team: "pay", tier: "gold" } },
  spec: { replicas: 2, ipPools: [{ name: "a" }, { cidr: "10.10.0.0/24" }] },
  status: { replicas: [{ name: "gw-0", node: "n1", egressIP: "10.10.0.1", ready: true }] },
};

describe("renderTable", () => {
  it("aligns columns with three spaces and no trailing blanks", () => {
    const out = renderTable(
      ["NAME", "CIDR", "AGE"],
      [
        ["a", "10.0.0.0/24", "5m"],
        ["longer-name", "10.1.0.0/16", ""],
      ],
    );
    assert.equal(
      out,
      "NAME          CIDR          AGE\na             10.0.0.0/24   5m\nlonger-name   10.1.0.0/16\n",
    );
  });
});

describe("cells and ages", () => {
  it("formats lists, maps and absent values", () => {
    assert.equal(cell(undefined), "<none>");
    assert.equal(cell([]), "<none>");
    assert.equal(cell(["a", "b"]), "a,b");
    assert.equal(cell({ a: "1", b: "2" }), "a=1,b=2");
    assert.equal(cell([{ name: "a" }, { cidr: "10.0.0.0/24" }]), "a,10.0.0.0/24");
    assert.equal(cell(false), "false");
  });

  it("formats ages like kubectl", () => {
    assert.equal(formatAge("2025-01-02T11:59:30Z", now), "30s");
    assert.equal(formatAge("2025-01-02T11:00:00Z", now), "60m");
    assert.equal(formatAge("2025-01-01T00:00:00Z", now), "36h");
    assert.equal(formatAge("2024-12-01T12:00:00Z", now), "32d");
    assert.equal(formatAge(undefined, now), "<none>");
    assert.equal(formatAge("not a date", now), "<none>");
  });
});

describe("renderResources", () => {
  it("prints key spec fields per kind, more with wide", () => {
    const table = renderResources([pool("a", "10.10.0.0/24")], {
      format: "table",
      kind: "IPPool",
      allNamespaces: false,
      single: false,
      now,
    });
    assert.deepEqual(table.split("\n")[0]!.split(/\s+/), ["NAME", "CIDR", "BLOCKSIZE", "ALLOWEDUSES", "AGE"]);
    assert.match(table.split("\n")[1]!, /^a\s+10\.10\.0\.0\/24\s+31\s+EgressGateway\s+5m$/);
    const wide = renderResources([pool("a", "10.10.0.0/24")], {
      format: "wide",
      kind: "IPPool",
      allNamespaces: false,
      single: false,
      now,
    });
    assert.match(wide.split("\n")[0]!, /NATOUTGOING/);
    assert.match(wide.split("\n")[1]!, /false/);
  });

  it("adds a NAMESPACE column for -A", () => {
    const out = renderResources([gw], {
      format: "table",
      kind: "EgressGateway",
      allNamespaces: true,
      single: false,
      now,
    });
    const [header, row] = out.split("\n");
    assert.match(header!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+EGRESS-IPS\s+NODES\s+IPPOOLS\s+AGE$/);
    assert.match(row!, /^payments\s+gw\s+1\/2\s+<none>\s+10\.10\.0\.1\s+n1\s+a,10\.10\.0\.0\/24\s+<none>$/);
  });

  it("shows an EgressGateway's replicas, egress IPs, nodes and state (wide: each replica)", () => {
    const two: Resource = {
      ...gw,
      status: {
        replicas: [
          { name: "gw-0", node: "n1", egressIP: "10.10.0.1", ready: true },
          { name: "gw-1", node: "n1", egressIP: "10.10.0.2", ready: false },
        ],
        conditions: [
          { type: "Ready", status: "False", reason: "ReplicasNotReady" },
          { type: "Degraded", status: "False", reason: "AsExpected" },
        ],
      },
    };
    const opts = { kind: "EgressGateway", allNamespaces: false, single: false, now };
    const [, row] = renderResources([two], { ...opts, format: "table" }).split("\n");
    assert.match(row!, /^gw\s+1\/2\s+ReplicasNotReady\s+10\.10\.0\.1,10\.10\.0\.2\s+n1\s+/);
    const [wideHeader, wideRow] = renderResources([two], { ...opts, format: "wide" }).split("\n");
    assert.match(wideHeader!, /IPPOOLS\s+REPLICAS\s+TEMPLATE-LABELS/);
    assert.match(wideRow!, /gw-0:n1:10\.10\.0\.1:ready,gw-1:n1:10\.10\.0\.2:not-ready/);

    const missingPool: Resource = {
      ...gw,
      spec: { ipPools: [{ name: "nope" }] },
      status: {
        replicas: [],
        conditions: [
          { type: "Ready", status: "False", reason: "ReplicasMissing" },
          { type: "Degraded", status: "True", reason: "PoolInvalid", message: 'IPPool "nope" not found' },
        ],
      },
    };
    const [, bad] = renderResources([missingPool], { ...opts, format: "table" }).split("\n");
    assert.match(bad!, /^gw\s+0\/1\s+PoolInvalid\s+<none>\s+<none>\s+nope\s+/);
  });

  it("prints one object as itself and several as a List, in YAML and JSON", () => {
    const single = parse(
      renderResources([gw], {
        format: "yaml",
        kind: "EgressGateway",
        allNamespaces: false,
        single: true,
        now,
      }),
    ) as Resource;
    assert.deepEqual(single, gw);
    const list = JSON.parse(
      renderResources([pool("a", "10.0.0.0/24"), pool("b", "10.1.0.0/24")], {
        format: "json",
        kind: "IPPool",
        allNamespaces: false,
        single: false,
        now,
      }),
    ) as { kind: string; items: Resource[] };
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((i) => i.metadata.name),
      ["a", "b"],
    );
    const empty = JSON.parse(
      renderResources([], { format: "json", kind: "IPPool", allNamespaces: false, single: false, now }),
    ) as { items: unknown[] };
    assert.deepEqual(empty.items, []);
  });
});

describe("renderDescription", () => {
  it("shows metadata, labels, spec and status", () => {
    const out = renderDescription(gw, now);
    assert.match(out, /^Name:\s+gw$/m);
    assert.match(out, /^Namespace:\s+payments$/m);
    assert.match(out, /^Labels:\s+team=pay\n\s+tier=gold$/m);
    assert.match(out, /^Annotations:\s+<none>$/m);
    assert.match(out, /^Spec:\n {2}replicas: 2$/m);
    assert.match(out, /^Status:\n {2}replicas:\n {4}- name: gw-0\n {6}node: n1$/m);
  });
});
