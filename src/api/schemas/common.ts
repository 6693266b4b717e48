// Schema building blocks shared by every kind. Custom keys: `expected` (what is valid, for error
// messages) is read by the validator and dropped from CRDs.
import { Type, type Static, type TObject, type TProperties } from "@sinclair/typebox";

/** A string restricted to a fixed set: `{type: string, enum}` (clearer errors and CRDs than unions). */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
) => Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });

/** A free-form string-to-string map (labels, annotations, nodeSelector). */
export const StringMap = (description?: string) =>
  Type.Unsafe<Record<string, string>>({
    type: "object",
    additionalProperties: { type: "string" },
    expected: "a map of string keys to string values",
    ...(description ? { description } : {}),
  });

/** An object whose contents egw does not interpret (e.g. a Pod's containers). */
export const LooseObject = (description?: string) =>
  Type.Unsafe<Record<string, unknown>>({
    type: "object",
    "x-kubernetes-preserve-unknown-fields": true,
    ...(description ? { description } : {}),
  });

export const INT32_MAX = 2147483647;

export const Int32 = (options: { minimum?: number; maximum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: options.minimum ?? 0, maximum: options.maximum ?? INT32_MAX, ...options });

/** An object that rejects unknown fields. */
export const Strict = <T extends TProperties>(properties: T, description?: string): TObject<T> =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

export const ObjectMetaSchema = Strict({
  name: Type.String({ description: "DNS-1123 subdomain (a DNS-1123 label for namespaces)" }),
  namespace: Type.Optional(Type.String({ description: "required for namespaced kinds, absent otherwise" })),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  resourceVersion: Type.Optional(Type.String({ description: "set by the datastore" })),
  uid: Type.Optional(Type.String()),
  creationTimestamp: Type.Optional(Type.String()),
});

/** The Kubernetes envelope fields of one kind; spread into the kind's schema with spec and status. */
export const header = <V extends string, K extends string>(apiVersion: V, kind: K) => ({
  apiVersion: Type.Literal(apiVersion),
  kind: Type.Literal(kind),
  metadata: ObjectMetaSchema,
});

/** A status condition as Kubernetes writes them (EgressGateway Ready/Degraded, Pod Ready, Node EgwAgentReady). */
export const ConditionSchema = Strict({
  type: Type.String(),
  status: StringEnum(["True", "False", "Unknown"]),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Type.String()),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
});

export type Condition = Static<typeof ConditionSchema>;
