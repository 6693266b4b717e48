// Who may fetch a feed (pure): the Authorization header against what the feed requires — bearer
// tokens, or basic user/password pairs, or nothing. Comparisons take the same time whatever the
// guess (hashes compared with timingSafeEqual), so a token cannot be found byte by byte.
import { createHash, timingSafeEqual } from "node:crypto";

export type Credentials =
  | { kind: "none" }
  | { kind: "bearer"; tokens: readonly string[] }
  | { kind: "basic"; users: readonly { username: string; password: string }[] };

export type AuthOutcome = { ok: true } | { ok: false; challenge: string; message: string };

export const REALM = "egw-feeds";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** Checks an Authorization header value against `required`. */
export const authorize = (header: string | undefined, required: Credentials): AuthOutcome => {
  if (required.kind === "none") return { ok: true };
  const challenge = required.kind === "bearer" ? `Bearer realm="${REALM}"` : `Basic realm="${REALM}"`;
  const deny = (message: string): AuthOutcome => ({ ok: false, challenge, message });
  if (header === undefined || header.trim() === "") return deny("credentials required");
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? "" : header.slice(space + 1).trim();
  if (required.kind === "bearer") {
    if (scheme !== "bearer") return deny("use a bearer token (Authorization: Bearer …)");
    // Every token is compared, so the time does not tell which one was close.
    let hit = false;
    for (const t of required.tokens) hit = sameSecret(value, t) || hit;
    return hit ? { ok: true } : deny("wrong token");
  }
  if (scheme !== "basic") return deny("use basic authentication (Authorization: Basic …)");
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return deny("malformed basic credentials");
  const [user, pass] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  let hit = false;
  for (const u of required.users) hit = (sameSecret(user, u.username) && sameSecret(pass, u.password)) || hit;
  return hit ? { ok: true } : deny("wrong user name or password");
};
