// A FirewallFeed's credentials from the Secret its spec.auth names (pure): a bearer token under the
// referenced key, or basic auth from the `username` and `password` keys (Kubernetes' basic-auth
// Secret type). Secrets live in egw's namespace (SECRET_NAMESPACE) and are read by the api's
// secretValue. A missing Secret or key is an error: the server answers 503, so a firewall keeps
// its last copy instead of being told it is denied.
import { secretValue } from "../api/routing.js";
import type { Secret } from "../api/schemas/core.js";
import type { Resource } from "../api/meta.js";
import { SECRET_NAMESPACE } from "../api/well-known.js";
import type { Credentials } from "./auth.js";
import type { FeedAuthRef } from "./feed-entries.js";

export const SECRET_KIND = "Secret";
export const FEED_SECRET_NAMESPACE = SECRET_NAMESPACE;

export const credentialsOf = (
  auth: FeedAuthRef,
  secrets: readonly Resource[],
): Credentials | { error: string } => {
  const all = secrets as readonly Secret[];
  if (auth.kind === "bearer") {
    const token = secretValue(all, { name: auth.secret.name, key: auth.secret.key });
    if (!token.ok) return { error: `spec.auth.bearerTokenSecretRef: ${token.error}` };
    if (token.value.trim() === "")
      return {
        error: `spec.auth.bearerTokenSecretRef: the token in Secret ${SECRET_NAMESPACE}/${auth.secret.name} is empty`,
      };
    return { kind: "bearer", tokens: [token.value.trim()] };
  }
  const username = secretValue(all, { name: auth.secret.name, key: "username" });
  if (!username.ok) return { error: `spec.auth.basic.secretRef: ${username.error}` };
  const password = secretValue(all, { name: auth.secret.name, key: "password" });
  if (!password.ok) return { error: `spec.auth.basic.secretRef: ${password.error}` };
  return { kind: "basic", users: [{ username: username.value, password: password.value }] };
};
