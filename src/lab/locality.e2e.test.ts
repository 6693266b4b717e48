// End to end (root): gateway locality in one 4-node lab with two zones (`egw up --zones 2`:
// node-1 and node-3 in zone-a, node-2 and node-4 in zone-b), with examples/locality.yaml. Each
// claim is checked by the egress IPs whoami sees: replicas spread over the zones, PreferNodeLocal
// (a pod uses the replica on its node), maxNextHops 1 (one replica per pod, pods spread) and
// PreferSameZone (the replicas of the pod's zone, the other zone's once its own are gone).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { egwOk, eventually, repoRoot, runEgw } from "./testing/lab-cli.js";
import { labSession, WHOAMI, type GatewayJson } from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;

const ZONE_OF: Record<string, string> = {
  "node-1": "zone-a",
  "node-2": "zone-b",
  "node-3": "zone-a",
  "node-4": "zone-b",
};

/** New connections per batch: enough that a second egress IP would show up (the hash is per connection). */
const BATCH = 16;

describe("gateway locality in the lab (root)", { skip: !isRoot && "needs root", timeout: 900_000 }, () => {
  const session = labSession("z");
  const { lab, stateDir, env, egw, manyConnections, readyGateway, leavesAs, runningPod } = session;

  /** The replicas of locality/nearby with node and egress IP, once `count` are ready. */
  const replicas = async (count: number): Promise<{ name: string; node: string; ip: string }[]> => {
    await readyGateway("locality", "nearby", count);
    const gw = JSON.parse(await egw("get", "egw", "-n", "locality", "nearby", "-o", "json")) as GatewayJson;
    return (gw.status?.replicas ?? [])
      .filter((r) => r.ready)
      .map((r) => ({ name: r.name, node: r.node ?? "", ip: r.egressIP ?? "" }));
  };

  /** A batch of new connections from one pod: every answer (a failed connection fails the test). */
  const batch = async (ns: string, pod: string): Promise<string[]> => {
    const seen = await manyConnections(ns, pod, WHOAMI, BATCH);
    assert.ok(
      seen.every((s) => s !== ""),
      `${ns}/${pod}: a connection failed: ${seen.join(" ")}`,
    );
    return seen;
  };

  before(async () => {
    const out = await egw("up", "--nodes", "4", "--zones", "2", "--name", lab, "--state-dir", stateDir);
    assert.match(out, new RegExp(`lab "${lab}" is up: 4 node\\(s\\)`));
    await egw("apply", "-f", join(repoRoot, "examples", "locality.yaml"));
  });

  after(async () => {
    await session.down();
  });

  it("egw up --zones 2 labels the nodes round robin and the controller spreads replicas over both zones", async () => {
    const nodes = JSON.parse(await egw("get", "nodes", "-o", "json")) as {
      items: { metadata: { name: string; labels?: Record<string, string> } }[];
    };
    assert.deepEqual(
      Object.fromEntries(
        nodes.items.map((n) => [n.metadata.name, n.metadata.labels?.["topology.kubernetes.io/zone"]]),
      ),
      ZONE_OF,
    );
    const placed = await replicas(4);
    assert.deepEqual(placed.map((r) => r.node).sort(), ["node-1", "node-2", "node-3", "node-4"]);
  });

  it("PreferNodeLocal: a pod on a node with a replica uses that replica on every connection", async () => {
    const placed = await replicas(4);
    for (const pod of ["client-1", "client-3"]) {
      const node = (await runningPod("near", pod)).spec?.nodeName ?? "";
      const local = placed.find((r) => r.node === node);
      assert.ok(local, `no replica on ${node}: ${JSON.stringify(placed)}`);
      await leavesAs("near", pod, [local.ip]);
      const seen = await batch("near", pod);
      assert.deepEqual(new Set(seen), new Set([local.ip]), `near/${pod} on ${node}: ${seen.join(" ")}`);
    }
    const described = await egw("describe", "pod", "-n", "near", "client-1");
    assert.match(described, /gatewayPreference PreferNodeLocal: all 1 candidate on the pod's node used/);
  });

  it("maxNextHops 1: each pod uses exactly one egress IP across a batch, and the pods spread over the replicas", async () => {
    const ips = (await replicas(4)).map((r) => r.ip);
    const used = new Map<string, string>();
    for (let i = 1; i <= 6; i++) {
      const pod = `hop-${i}`;
      await runningPod("hops", pod);
      await leavesAs("hops", pod, ips);
      const seen = await batch("hops", pod);
      const distinct = [...new Set(seen)];
      assert.equal(distinct.length, 1, `hops/${pod} used ${distinct.join(", ")}`);
      assert.ok(ips.includes(distinct[0] ?? ""), `hops/${pod} left with ${distinct[0]}, not a replica's IP`);
      used.set(pod, distinct[0] ?? "");
    }
    assert.ok(new Set(used.values()).size >= 2, `all six pods use one replica: ${JSON.stringify([...used])}`);
    assert.match(
      await egw("describe", "pod", "-n", "hops", "hop-1"),
      /maxNextHops 1, gatewayPreference None: 1 of 4 candidates picked for this pod/,
    );
  });

  it("PreferSameZone: pods use their zone's replicas; once zone-a's are gone, zone-a's pods use zone-b's", async () => {
    const placed = await replicas(4);
    const inZone = (zone: string): string[] =>
      placed.filter((r) => ZONE_OF[r.node] === zone).map((r) => r.ip);
    const zoneA = inZone("zone-a");
    const zoneB = inZone("zone-b");
    assert.equal(zoneA.length, 2);
    assert.equal(zoneB.length, 2);
    for (const [pod, expected] of [
      ["in-a", zoneA], // the namespace annotation
      ["by-policy", zoneA], // the EgressGatewayPolicy rule
      ["in-b", zoneB],
    ] as const) {
      await runningPod("zoned", pod);
      await leavesAs("zoned", pod, expected);
      const seen = await batch("zoned", pod);
      assert.deepEqual(
        seen.filter((s) => !expected.includes(s)),
        [],
        `zoned/${pod} left through another zone: ${seen.join(" ")}`,
      );
      assert.deepEqual(
        new Set(seen),
        new Set(expected),
        `zoned/${pod} used only ${[...new Set(seen)].join(", ")}`,
      );
    }
    assert.match(
      await egw("describe", "pod", "-n", "zoned", "in-a"),
      /gatewayPreference PreferSameZone: all 2 candidates in zone zone-a used/,
    );

    // Zone-a's replicas go away: the gateway may only run in zone-b now.
    await egwOk(
      env,
      ["apply", "-f", "-"],
      [
        "apiVersion: egw.dev/v1",
        "kind: EgressGateway",
        "metadata: {name: nearby, namespace: locality}",
        "spec:",
        "  replicas: 4",
        "  ipPools: [{name: locality}]",
        "  template:",
        "    spec:",
        "      terminationGracePeriodSeconds: 2",
        "      nodeSelector: {topology.kubernetes.io/zone: zone-b}",
        "",
      ].join("\n"),
    );
    const moved = await eventually("every replica of nearby to run in zone-b", async () => {
      const now = await replicas(4);
      const gw = JSON.parse(await egw("get", "egw", "-n", "locality", "nearby", "-o", "json")) as GatewayJson;
      const all = gw.status?.replicas ?? [];
      return all.length === 4 && now.length === 4 && now.every((r) => ZONE_OF[r.node] === "zone-b")
        ? now
        : undefined;
    });
    const nowB = moved.map((r) => r.ip);
    for (const pod of ["in-a", "by-policy", "in-b"]) {
      await leavesAs("zoned", pod, nowB);
      const seen = await batch("zoned", pod);
      assert.deepEqual(
        seen.filter((s) => !nowB.includes(s)),
        [],
        `zoned/${pod} did not move to zone-b's replicas: ${seen.join(" ")}`,
      );
    }
    assert.match(
      await egw("describe", "pod", "-n", "zoned", "in-a"),
      /gatewayPreference PreferSameZone \(no candidate in zone zone-a\): all 4 candidates used/,
    );
  });

  it("get -o wide and describe egressgateway show each replica's upstream state and the clients' view", async () => {
    const wide = await egw("get", "egressgateways", "-n", "locality", "-o", "wide");
    const [header, row] = wide.split("\n");
    assert.match(header ?? "", /REPLICAS\s+LIVENESS\s+UPSTREAM\s+DRAIN/);
    assert.match(row ?? "", /nearby-\d+ Ready; nearby-\d+ Ready; nearby-\d+ Ready; nearby-\d+ Ready/);
    const described = await egw("describe", "egressgateway", "-n", "locality", "nearby");
    assert.match(described, /\nReplicas:\n {2}nearby-\d+ on node-[24] \(zone-b\): egress IP 10\.10\.5\.\d+/);
    assert.match(described, /Upstream: {2}Ready since /);
  });

  it("a bad gatewayPreference annotation is rejected by egw apply", async () => {
    const r = await runEgw(
      env,
      ["apply", "-f", "-"],
      [
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: typo",
        "  namespace: zoned",
        "  annotations: {egress.egw.dev/gatewayPreference: SameZone}",
        "spec: {nodeName: node-1}",
        "",
      ].join("\n"),
    );
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /egress\.egw\.dev\/gatewayPreference.*"SameZone" is not valid: use None, PreferNodeLocal or PreferSameZone/,
    );
  });
});
