import assert from "node:assert/strict";
import { test } from "node:test";
import { authorize } from "./auth.js";
import { credentialsOf } from "./secrets.js";

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

test("bearer: the right token passes, anything else is refused with a Bearer challenge", () => {
  const req = { kind: "bearer" as const, tokens: ["s3cret", "other"] };
  assert.deepEqual(authorize("Bearer s3cret", req), { ok: true });
  assert.deepEqual(authorize("bearer other", req), { ok: true });
  for (const h of [undefined, "", "Bearer nope", "Basic czNjcmV0", "s3cret"]) {
    const r = authorize(h, req);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.challenge, /^Bearer realm="egw-feeds"/);
  }
});

test("basic: user and password must both match", () => {
  const req = { kind: "basic" as const, users: [{ username: "fw", password: "pa:ss" }] };
  assert.deepEqual(authorize(basic("fw", "pa:ss"), req), { ok: true });
  assert.equal(authorize(basic("fw", "pass"), req).ok, false);
  assert.equal(authorize(basic("other", "pa:ss"), req).ok, false);
  assert.equal(authorize("Bearer pa:ss", req).ok, false);
  assert.equal(authorize("Basic !!!", req).ok, false);
});

test("none: everything passes", () => {
  assert.deepEqual(authorize(undefined, { kind: "none" }), { ok: true });
});

test("credentials from a Secret: data (base64) or stringData; missing Secret or key is an error naming it", () => {
  const secret = (name: string, data: Record<string, string>, plain = false) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "egw-system" },
    ...(plain
      ? { stringData: data }
      : {
          data: Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
          ),
        }),
  });
  const secrets = [secret("tok", { token: "abc\n" }), secret("fw", { username: "fw", password: "pw" }, true)];
  assert.deepEqual(credentialsOf({ kind: "bearer", secret: { name: "tok", key: "token" } }, secrets), {
    kind: "bearer",
    tokens: ["abc"],
  });
  assert.deepEqual(credentialsOf({ kind: "basic", secret: { name: "fw" } }, secrets), {
    kind: "basic",
    users: [{ username: "fw", password: "pw" }],
  });
  assert.deepEqual(credentialsOf({ kind: "bearer", secret: { name: "tok", key: "nope" } }, secrets), {
    error: 'spec.auth.bearerTokenSecretRef: Secret egw-system/tok has no key "nope" (keys: token)',
  });
  assert.deepEqual(credentialsOf({ kind: "basic", secret: { name: "gone" } }, secrets), {
    error: "spec.auth.basic.secretRef: Secret egw-system/gone does not exist",
  });
});
