import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allCrds, crdFor } from "./crd.js";
import { KINDS } from "./kinds.js";

// Tests reach into arbitrary nested fields of example objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** Walks every schema node, calling f with its JSON path. */
function walk(
  node: Record<string, unknown>,
  path: string,
  f: (n: Record<string, unknown>, path: string) => void,
): void {
  f(node, path);
  for (const [k, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>))
    walk(child, `${path}.${k}`, f);
  if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`, f);
  if (typeof node.additionalProperties === "object")
    walk(node.additionalProperties as Record<string, unknown>, `${path}{}`, f);
}

const ALLOWED_KEYS = new Set([
  "type",
  "description",
  "enum",
  "minimum",
  "maximum",
  "minItems",
  "required",
  "properties",
  "items",
  "additionalProperties",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
]);

describe("CRDs", () => {
  it("exist for every user-facing egw.dev kind only", () => {
    const expected = KINDS.filter((k) => k.apiVersion === "egw.dev/v1" && !k.internal).map((k) => k.kind);
    assert.deepEqual(
      allCrds().map((c) => c.spec.names.kind),
      expected,
    );
    for (const k of ["Pod", "Node", "Namespace", "IPAllocation", "Nope"]) assert.equal(crdFor(k), undefined);
  });

  it("have names, scope and versions as Kubernetes expects", () => {
    const crd = crdFor("EgressGateway");
    assert.ok(crd);
    assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal(crd.metadata.name, "egressgateways.egw.dev");
    assert.deepEqual(crd.spec.names, {
      kind: "EgressGateway",
      listKind: "EgressGatewayList",
      plural: "egressgateways",
      singular: "egressgateway",
      shortNames: ["egw", "egws", "eg"],
    });
    assert.equal(crd.spec.scope, "Namespaced");
    assert.equal(crdFor("IPPool")?.spec.scope, "Cluster");
    const [v] = crd.spec.versions;
    assert.ok(v && v.served && v.storage && v.name === "v1");
    assert.deepEqual(v.subresources, { status: {} });
    assert.equal(crdFor("IPPool")?.spec.versions[0]?.subresources, undefined);
  });

  for (const crd of allCrds()) {
    it(`${crd.spec.names.kind}: the schema is structural`, () => {
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
      assert.equal(JSON.stringify(root).includes("$ref"), false);
      assert.equal(JSON.stringify(root).includes("$id"), false);
      assert.equal(Object.getOwnPropertySymbols(root).length, 0);
      walk(root, "", (node, path) => {
        const typed = typeof node.type === "string" || node["x-kubernetes-int-or-string"] === true;
        assert.ok(typed, `${path} has no type: ${JSON.stringify(node)}`);
        for (const k of Object.keys(node)) assert.ok(ALLOWED_KEYS.has(k), `${path} has key ${k}`);
        // Kubernetes rejects additionalProperties beside properties; unknown fields are pruned instead.
        if ("additionalProperties" in node)
          assert.equal(node.properties, undefined, `${path} mixes properties and additionalProperties`);
        assert.notEqual(node.additionalProperties, false, `${path}`);
        assert.equal(Object.getOwnPropertySymbols(node).length, 0, `${path} keeps TypeBox symbols`);
      });
      const props = root.properties as Record<string, Record<string, unknown>>;
      assert.deepEqual(props.metadata, { type: "object" });
      assert.deepEqual(props.apiVersion, { type: "string" });
      assert.deepEqual(props.kind, { type: "string" });
    });
  }

  it("keeps free-form maps, int-or-string unions and enums", () => {
    const np = crdFor("NetworkPolicy")!.spec.versions[0]!.schema.openAPIV3Schema as Loose;
    const rule = np.properties.spec.properties.egress.items;
    assert.deepEqual(rule.properties.protocol, { "x-kubernetes-int-or-string": true });
    assert.deepEqual(rule.properties.destination.properties.ports.items, {
      "x-kubernetes-int-or-string": true,
    });
    assert.deepEqual(rule.properties.action, { type: "string", enum: ["Allow", "Deny", "Log", "Pass"] });
    assert.deepEqual(np.properties.spec.properties.types["x-kubernetes-list-type"], "set");
    const gw = crdFor("EgressGateway")!.spec.versions[0]!.schema.openAPIV3Schema as Loose;
    assert.deepEqual(
      gw.properties.spec.properties.template.properties.metadata.properties.labels.additionalProperties,
      {
        type: "string",
      },
    );
    assert.deepEqual(gw.properties.spec.required, ["ipPools"]);
  });
});
