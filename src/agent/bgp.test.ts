// The agent's BGP speaker over the memory datastore, a fake clock and a fake BIRD: it applies the
// rendered config when what the node announces changes (and only then), keeps the last good
// config when BIRD refuses one and says so on the Node, publishes the sessions BIRD reports, and
// sets its metrics.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import type { NodeBgpStatus } from "../api/schemas/core.js";
import type { PodInput } from "../calc/inputs.js";
import { ClusterIndex } from "../calc/snapshot.js";
import { Metrics } from "../daemon/metrics.js";
import { FakeClock } from "../daemon/testing/fake-clock.js";
import { gatewayPod, ipPool, node } from "../daemon/testing/objects.js";
import { createMemoryDatastore } from "../datastore/memory.js";
import type { Datastore } from "../datastore/types.js";
import { peerProtocolName } from "../routing/bird-config.js";
import type { BirdControlError, BirdState } from "../routing/bird-control.js";
import { memoryLogger } from "../util/log.js";
import { err, ok, type Result } from "../util/result.js";
import { BgpSpeaker, registerBgpMetrics, type BirdPort } from "./bgp.js";
import { nodeBgpStatus } from "./bgp-status.js";

class FakeBird implements BirdPort {
  applied: string[] = [];
  refuse: string | undefined;
  established = true;
  async apply(text: string): Promise<Result<void, BirdControlError>> {
    if (this.refuse !== undefined) return err({ step: "check", message: this.refuse });
    this.applied.push(text);
    return ok(undefined);
  }
  async read(): Promise<Result<BirdState, BirdControlError>> {
    const last = this.applied.at(-1) ?? "";
    const routes = (last.match(/route \S+ blackhole/g) ?? []).length;
    return ok({
      protocols: [
        {
          name: peerProtocolName("lab-router"),
          proto: "BGP",
          table: "---",
          state: this.established ? "up" : "start",
          since: "2026-11-28T12:00:00+0000",
          info: this.established ? "Established" : "Active        Error: BFD session down",
          bgp: { state: this.established ? "Established" : "Active" },
          ...(this.established ? { routes: { imported: 0, exported: routes, preferred: 0 } } : {}),
        },
      ],
      bfd: [
        {
          protocol: "egw_bfd",
          ip: "172.30.0.1",
          interface: "---",
          state: this.established ? "Up" : "Down",
          since: "",
        },
      ],
    });
  }
  lastRoutes(): string[] {
    return [...(this.applied.at(-1) ?? "").matchAll(/route (\S+) blackhole/g)].map((m) => m[1] ?? "");
  }
}

const must = async (store: Datastore, obj: Resource): Promise<void> => {
  const r = await store.create(obj);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
};

const replica = (ready: boolean): PodInput =>
  ({
    ...gatewayPod({
      namespace: "team",
      name: "gw-1",
      node: "node-1",
      ip: "10.10.0.7",
      gateway: "gw",
      egressIP: "10.10.0.7",
    }),
    status: {
      phase: "Running",
      podIP: "10.10.0.7",
      conditions: [
        { type: "Ready", status: ready ? "True" : "False", reason: ready ? "Ready" : "ProbeFailed" },
      ],
    },
  }) as PodInput;

const setup = async () => {
  const store = createMemoryDatastore();
  const clock = new FakeClock();
  await must(store, node("node-1", "172.30.0.11"));
  await must(store, {
    apiVersion: "egw.dev/v1",
    kind: "BGPConfiguration",
    metadata: { name: "default" },
    spec: {},
  } as Resource);
  await must(store, {
    apiVersion: "egw.dev/v1",
    kind: "BGPPeer",
    metadata: { name: "lab-router" },
    spec: { peerIP: "172.30.0.1", asNumber: 64513 },
  } as Resource);
  const index = new ClusterIndex();
  index.upsertNode(node("node-1", "172.30.0.11") as never);
  index.upsertPod(replica(true));
  index.upsertIPPool(ipPool("egress", "10.10.0.0/24", ["EgressGateway"]) as never);
  const bird = new FakeBird();
  const metrics = registerBgpMetrics(new Metrics());
  const speaker = new BgpSpeaker({
    store,
    node: "node-1",
    index,
    bird,
    clock,
    log: memoryLogger(),
    metrics,
    intervalMs: 5000,
  });
  await speaker.start();
  await clock.advance(1500);
  const status = async (): Promise<NodeBgpStatus | undefined> => {
    const n = await store.get({ kind: "Node", name: "node-1" });
    assert.ok(n.ok);
    return (n.value as unknown as { status?: { bgp?: NodeBgpStatus } }).status?.bgp;
  };
  return { store, clock, index, bird, metrics, speaker, status };
};

describe("BgpSpeaker", () => {
  it("applies the node's config and publishes the sessions on the Node", async () => {
    const { bird, speaker, status, metrics } = await setup();
    assert.equal(bird.applied.length, 1);
    assert.deepEqual(bird.lastRoutes(), ["10.10.0.7/32"]);
    assert.match(bird.applied[0]!, /neighbor 172\.30\.0\.1 as 64513;/);
    assert.deepEqual(await status(), {
      configApplied: true,
      announced: ["10.10.0.7/32"],
      peers: [
        {
          name: "lab-router",
          peerIP: "172.30.0.1",
          state: "Established",
          since: "2026-11-28T12:00:00Z",
          bfd: "Up",
          prefixesAnnounced: 1,
        },
      ],
    });
    assert.equal(metrics.get("egw_agent_bgp_announced"), 1);
    assert.equal(metrics.get("egw_agent_bgp_peer_state", { peer: "lab-router", state: "Established" }), 1);
    await speaker.stop();
  });

  it("withdraws a replica that stops being ready, and does not re-apply an unchanged config", async () => {
    const { bird, speaker, index, clock, status } = await setup();
    await clock.advance(20_000); // periodic passes: nothing changed
    assert.equal(bird.applied.length, 1);
    index.upsertPod(replica(false));
    speaker.trigger();
    await clock.advance(1500);
    assert.equal(bird.applied.length, 2);
    assert.deepEqual(bird.lastRoutes(), []);
    assert.deepEqual((await status())?.announced, []);
    await speaker.stop();
  });

  it("keeps the last good config when BIRD refuses one, says so on the Node, and recovers", async () => {
    const { bird, speaker, index, clock, status, metrics } = await setup();
    bird.refuse = "config:12:3 syntax error";
    index.upsertPod(replica(false));
    speaker.trigger();
    await clock.advance(1500);
    const s = await status();
    assert.equal(s?.configApplied, false);
    assert.equal(s?.error, "check: config:12:3 syntax error");
    assert.deepEqual(s?.announced, ["10.10.0.7/32"], "what BIRD still runs");
    assert.equal(metrics.get("egw_agent_bgp_config_applied"), 0);
    bird.refuse = undefined;
    await clock.advance(6000); // the periodic pass retries
    const t = await status();
    assert.equal(t?.configApplied, true);
    assert.equal(t?.error, undefined);
    assert.deepEqual(t?.announced, []);
    await speaker.stop();
  });

  it("reports a session that went down with BIRD's reason", async () => {
    const { bird, speaker, clock, status, metrics } = await setup();
    bird.established = false;
    await clock.advance(6000);
    const p = (await status())?.peers?.[0];
    assert.equal(p?.state, "Active");
    assert.equal(p?.bfd, "Down");
    assert.equal(p?.info, "Error: BFD session down");
    assert.equal(p?.prefixesAnnounced, undefined);
    assert.equal(metrics.get("egw_agent_bgp_peer_state", { peer: "lab-router", state: "Established" }), 0);
    assert.equal(metrics.get("egw_agent_bgp_peer_state", { peer: "lab-router", state: "Active" }), 1);
    await speaker.stop();
  });

  it("removes status.bgp when BGP is turned off, with a config that has no peers", async () => {
    const { bird, speaker, store, clock, status } = await setup();
    const del = await store.delete({ kind: "BGPConfiguration", name: "default" });
    assert.ok(del.ok);
    await clock.advance(1500);
    assert.doesNotMatch(bird.applied.at(-1) ?? "", /protocol bgp/);
    assert.equal(await status(), undefined);
    await speaker.stop();
  });
});

describe("nodeBgpStatus", () => {
  it("says BIRD is not reachable, per peer", () => {
    const s = nodeBgpStatus({
      applied: { peers: [{ name: "r", ip: "172.30.0.1", bfd: false }], announced: [] },
      applyError: "configure: Unable to connect to server control socket",
      problems: ["BGPPeer x: spec.nodeSelector: bad; peer left out"],
      bird: { ok: false, error: "read: no socket" },
    });
    assert.equal(s.configApplied, false);
    assert.equal(
      s.error,
      "configure: Unable to connect to server control socket; BGPPeer x: spec.nodeSelector: bad; peer left out",
    );
    assert.deepEqual(s.peers, [
      {
        name: "r",
        peerIP: "172.30.0.1",
        state: "Down",
        bfd: "Off",
        info: "BIRD not reachable: read: no socket",
      },
    ]);
  });
});
