// CustomResourceDefinitions (apiextensions.k8s.io/v1) generated from the kind schemas, made
// structural: every node typed, no $ref/const/custom keys, unions as int-or-string or enums.
import { EGW_API_VERSION, KINDS, kindInfo, type KindInfo } from "./kinds.js";
import { SCHEMAS } from "./schemas/all.js";

export type JSONSchemaProps = Record<string, unknown>;

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[] };
    scope: "Namespaced" | "Cluster";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources?: { status: Record<string, never> };
    }[];
  };
}

const [GROUP, VERSION] = EGW_API_VERSION.split("/") as [string, string];

/** JSONSchemaProps keys Kubernetes accepts that our schemas use; everything else is dropped. */
const KEPT_KEYS = new Set([
  "type",
  "description",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "pattern",
  "format",
  "required",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
]);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** Converts one TypeBox/JSON Schema node into a structural schema node. */
export function toStructural(schema: unknown): JSONSchemaProps {
  if (!isNode(schema)) return { "x-kubernetes-preserve-unknown-fields": true };
  // Object.entries skips TypeBox's symbol keys.
  const out: Node = {};
  for (const [k, v] of Object.entries(schema)) if (KEPT_KEYS.has(k)) out[k] = v;
  // Kubernetes forbids uniqueItems (quadratic); a set-typed list says the same.
  if (schema.uniqueItems === true) out["x-kubernetes-list-type"] = "set";
  if ("const" in schema) {
    // Only apiVersion/kind use const; Kubernetes has no const and these are plain strings there.
    out.type = typeof schema.const === "number" ? "integer" : "string";
  }
  if (Array.isArray(schema.anyOf)) {
    const types = new Set(schema.anyOf.map((b) => (isNode(b) ? b.type : undefined)));
    if (types.has("integer") && types.has("string") && types.size === 2)
      out["x-kubernetes-int-or-string"] = true;
    else out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  if (isNode(schema.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, toStructural(v)]),
    );
  }
  if (schema.items !== undefined) out.items = toStructural(schema.items);
  if (isNode(schema.additionalProperties))
    out.additionalProperties = toStructural(schema.additionalProperties);
  return out;
}

/** The CRD of an egw.dev kind; undefined for core and internal kinds. */
export function crdFor(kind: string): CustomResourceDefinition | undefined {
  const info = kindInfo(kind);
  const schema = SCHEMAS[kind];
  if (!info || !schema || info.apiVersion !== EGW_API_VERSION || info.internal) return undefined;
  const openAPIV3Schema = toStructural(schema);
  const props = openAPIV3Schema.properties as Record<string, JSONSchemaProps>;
  // Kubernetes validates metadata itself and allows a root schema to restrict only name/generateName.
  props.metadata = { type: "object" };
  const hasStatus = "status" in props;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${info.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: namesOf(info),
      scope: info.namespaced ? "Namespaced" : "Cluster",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          ...(hasStatus ? { subresources: { status: {} } } : {}),
        },
      ],
    },
  };
}

function namesOf(info: KindInfo): CustomResourceDefinition["spec"]["names"] {
  return {
    kind: info.kind,
    listKind: `${info.kind}List`,
    plural: info.plural,
    singular: info.kind.toLowerCase(),
    ...(info.shortNames.length > 0 ? { shortNames: [...info.shortNames] } : {}),
  };
}

/** CRDs of every user-facing egw.dev kind, in kinds.ts order. */
export function allCrds(): CustomResourceDefinition[] {
  return KINDS.map((k) => crdFor(k.kind)).filter((c): c is CustomResourceDefinition => c !== undefined);
}
