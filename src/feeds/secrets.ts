// A FirewallFeed's credentials from the Secret its spec.auth names (pure): a bearer token under the
// referenced key, or basic auth from the `username` and `password` keys (Kubernetes' basic-auth
// Secret type). A FirewallFeed is cluster-scoped, so its Secret lives in egw's own namespace unless
// the reference names one. Values come from `data` (base64) or `stringData`. A missing Secret or
// key is an error (the server answers 503: a firewall keeps its last copy, it is not told "denied").
import type { Resource } from "../api/meta.js";
import type { Credentials } from "./auth.js";
import type { FeedAuthRef } from "./feed-entries.js";

export const SECRET_KIND = "Secret";
/** Where a FirewallFeed's Secret is looked up when its reference names no namespace. */
export const FEED_SECRET_NAMESPACE = "egw-system"; // as api/schemas/routing.ts documents for spec.auth

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The value of `key` in a Secret, or undefined. */
export const secretValue = (secret: Resource, key: string): string | undefined => {
  const s = secret as Resource & { data?: unknown; stringData?: unknown };
  if (isObject(s.stringData) && typeof s.stringData[key] === "string") return s.stringData[key];
  if (isObject(s.data) && typeof s.data[key] === "string")
    return Buffer.from(s.data[key], "base64").toString("utf8");
  return undefined;
};

export const credentialsOf = (
  auth: FeedAuthRef,
  secrets: readonly Resource[],
): Credentials | { error: string } => {
  const namespace = auth.secret.namespace ?? FEED_SECRET_NAMESPACE;
  const where = `Secret ${namespace}/${auth.secret.name}`;
  const secret = secrets.find(
    (s) => s.metadata.name === auth.secret.name && s.metadata.namespace === namespace,
  );
  if (secret === undefined) return { error: `${where} (the feed's spec.auth) does not exist` };
  if (auth.kind === "bearer") {
    const token = secretValue(secret, auth.secret.key);
    if (token === undefined || token === "") return { error: `${where} has no key "${auth.secret.key}"` };
    return { kind: "bearer", tokens: [token.trim()] };
  }
  const username = secretValue(secret, "username");
  const password = secretValue(secret, "password");
  if (username === undefined || password === undefined)
    return { error: `${where} needs the keys "username" and "password" for basic auth` };
  return { kind: "basic", users: [{ username, password }] };
};
