// Kind names as the CLI shows and accepts them: resolution with helpful errors, kubectl-style object names.
import { KINDS, lookupKind, type KindInfo } from "../api/kinds.js";
import type { ObjectRef } from "../api/meta.js";
import { err, ok, type Result } from "../util/result.js";

/** Kinds users may name on the command line (internal kinds are hidden). */
export const userKinds = (): KindInfo[] => KINDS.filter((k) => !k.internal);

/** `ippool (ippools, ipp)`, … — the list an unknown-kind error offers. */
export const validKindsText = (): string =>
  userKinds()
    .map((k) => `${k.kind.toLowerCase()} (${[k.plural, ...k.shortNames].join(", ")})`)
    .join(", ");

/** Resolves a singular, plural or short name in any case; internal kinds count as unknown. */
export const resolveKindName = (name: string): Result<KindInfo, string> => {
  const info = lookupKind(name);
  if (!info || info.internal) return err(`unknown kind "${name}"; valid kinds: ${validKindsText()}`);
  return ok(info);
};

/** `egw.dev` for `egw.dev/v1`, "" for core `v1`. */
export const apiGroup = (apiVersion: string): string => {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
};

/** `egressgateway.egw.dev/payments/gw`, `ippool.egw.dev/pool-a`, `pod/shop/web-1`, `namespace/shop`. */
export const qualifiedName = (ref: ObjectRef, apiVersion?: string): string => {
  const group = apiGroup(apiVersion ?? KINDS.find((k) => k.kind === ref.kind)?.apiVersion ?? "");
  const type = group ? `${ref.kind.toLowerCase()}.${group}` : ref.kind.toLowerCase();
  return ref.namespace ? `${type}/${ref.namespace}/${ref.name}` : `${type}/${ref.name}`;
};

/** `egressgateway "x" not found in namespace "y"` (kubectl's wording). */
export const notFoundText = (ref: ObjectRef): string =>
  `${ref.kind.toLowerCase()} "${ref.name}" not found` +
  (ref.namespace ? ` in namespace "${ref.namespace}"` : "");
