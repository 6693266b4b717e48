import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { nextFence, podSeen, type FenceState } from "./fence.js";

const OPEN: FenceState = { kind: "open" };
const present = { kind: "present", uid: "u1", retired: false } as const;

const pod = (uid: string, annotations: Record<string, string> = {}): Resource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "gw-0", namespace: "egress", uid, annotations },
});

describe("nextFence", () => {
  it("fences only after more than fenceAfter without a successful read", () => {
    const at = (nowMs: number): FenceState =>
      nextFence(OPEN, { nowMs, fenceAfterMs: 5000, lastOkAtMs: 1000, pod: present });
    assert.equal(at(6000).kind, "open");
    const fenced = at(6001);
    assert.equal(fenced.kind === "fenced" && fenced.reason, "DatastoreUnreachable");
  });

  it("lifts only with a fresh read of the same, unretired pod", () => {
    const fenced = nextFence(OPEN, { nowMs: 10_000, fenceAfterMs: 5000, lastOkAtMs: 0, pod: present });
    assert.equal(
      nextFence(fenced, { nowMs: 10_000, fenceAfterMs: 5000, lastOkAtMs: 9000, pod: present }).kind,
      "open",
    );
    const retired = nextFence(fenced, {
      nowMs: 10_000,
      fenceAfterMs: 5000,
      lastOkAtMs: 9000,
      pod: { ...present, retired: true },
    });
    assert.equal(retired.kind === "fenced" && retired.reason, "PodRetired");
  });

  it("gone is final", () => {
    const gone = nextFence(OPEN, { nowMs: 0, fenceAfterMs: 5000, lastOkAtMs: 0, pod: { kind: "gone" } });
    assert.equal(gone.kind, "gone");
    assert.equal(nextFence(gone, { nowMs: 1, fenceAfterMs: 5000, lastOkAtMs: 1, pod: present }), gone);
  });
});

describe("podSeen", () => {
  it("absent before the pod was first seen is not gone; another uid is", () => {
    assert.equal(podSeen(undefined, undefined), undefined);
    assert.deepEqual(podSeen(undefined, "u1"), { kind: "gone" });
    assert.deepEqual(podSeen(pod("u2"), "u1"), { kind: "gone" });
    assert.deepEqual(podSeen(pod("u1", { "egw.dev/terminating": "x" }), "u1"), {
      kind: "present",
      uid: "u1",
      retired: true,
    });
  });
});
