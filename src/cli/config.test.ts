import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultConfigPath,
  parseConfig,
  readConfig,
  resolveDatastore,
  resolveNamespace,
  writeConfig,
} from "./config.js";

describe("resolveDatastore", () => {
  const file = { datastoreType: "kubernetes" as const, etcdEndpoints: ["http://10.0.0.1:2379"] };

  it("defaults to a local etcd", () => {
    assert.deepEqual(resolveDatastore({ env: {}, file: {} }), {
      ok: true,
      value: { type: "etcd", etcdEndpoints: ["http://127.0.0.1:2379"] },
    });
  });

  it("prefers flag over env over config file", () => {
    const fromFile = resolveDatastore({ env: {}, file });
    assert.ok(fromFile.ok);
    assert.deepEqual(fromFile.value, { type: "kubernetes", etcdEndpoints: ["http://10.0.0.1:2379"] });
    const fromEnv = resolveDatastore({
      env: { EGW_DATASTORE_TYPE: "etcd", EGW_ETCD_ENDPOINTS: "http://127.0.0.1:1, 127.0.0.1:2" },
      file,
    });
    assert.ok(fromEnv.ok);
    assert.deepEqual(fromEnv.value, {
      type: "etcd",
      etcdEndpoints: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
    });
    const fromFlag = resolveDatastore({ flag: "kubernetes", env: { EGW_DATASTORE_TYPE: "etcd" }, file: {} });
    assert.ok(fromFlag.ok);
    assert.equal(fromFlag.value.type, "kubernetes");
  });

  it("rejects bad types and endpoints with the source named", () => {
    const badType = resolveDatastore({ env: { EGW_DATASTORE_TYPE: "consul" }, file: {} });
    assert.ok(!badType.ok);
    assert.match(badType.error, /EGW_DATASTORE_TYPE "consul" is not one of etcd, kubernetes/);
    const badEp = resolveDatastore({ env: { EGW_ETCD_ENDPOINTS: "ftp://x:1" }, file: {} });
    assert.ok(!badEp.ok);
    assert.match(badEp.error, /EGW_ETCD_ENDPOINTS: .*must use http/);
  });
});

describe("config file", () => {
  it("round-trips through writeConfig/readConfig; a missing file is empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "egw-cli-config-"));
    try {
      const path = join(dir, "sub", "config.yaml");
      assert.deepEqual(readConfig(path), { ok: true, value: {} });
      const cfg = {
        datastoreType: "etcd" as const,
        etcdEndpoints: ["http://172.30.0.1:2379"],
        namespace: "shop",
      };
      assert.deepEqual(writeConfig(cfg, path), { ok: true, value: path });
      assert.deepEqual(readConfig(path), { ok: true, value: cfg });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects unknown fields and bad values", () => {
    const unknown = parseConfig("datastore: etcd\n", "c.yaml");
    assert.ok(!unknown.ok);
    assert.match(
      unknown.error,
      /unknown field "datastore" \(valid: datastoreType, etcdEndpoints, namespace\)/,
    );
    const badList = parseConfig("etcdEndpoints: http://x\n", "c.yaml");
    assert.ok(!badList.ok);
    assert.match(badList.error, /etcdEndpoints must be a list/);
    const bad = parseConfig("datastoreType: [\n", "c.yaml");
    assert.ok(!bad.ok);
  });

  it("locates the file through EGW_CONFIG or HOME", () => {
    assert.equal(defaultConfigPath({ EGW_CONFIG: "/x/c.yaml" }), "/x/c.yaml");
    assert.equal(defaultConfigPath({ HOME: "/home/u" }), "/home/u/.config/egw/config.yaml");
  });

  it("resolves the namespace: flag > env > file > default", () => {
    assert.equal(resolveNamespace("a", { EGW_NAMESPACE: "b" }, { namespace: "c" }), "a");
    assert.equal(resolveNamespace(undefined, { EGW_NAMESPACE: "b" }, { namespace: "c" }), "b");
    assert.equal(resolveNamespace(undefined, {}, { namespace: "c" }), "c");
    assert.equal(resolveNamespace(undefined, {}, {}), "default");
  });
});
