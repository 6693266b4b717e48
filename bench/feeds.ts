// `npm run bench -- feeds`: the feeds server at 1,000 gateways (2 replicas each, 2,000 egress IPs in
// 10 pools, 100 namespaces, 50 FirewallFeeds). Measures the recomputation of every address group
// (the pure part, after any change), and requests/s over HTTP on loopback from one process (one
// core: server and client share it) for a plain GET of a 200-entry pool feed vs a conditional GET
// that gets 304 — in interleaved rounds (medians), side by side in one run, as a ratio. `measureFeeds` is exported for
// `bench routing`, which prints it in its own table.
import { request, Agent } from "node:http";
import { performance } from "node:perf_hooks";
import type { Resource } from "../src/api/meta.js";
import { ANN_GATEWAY_EGRESS_IP, ANN_GATEWAY_OWNER, LABEL_NAMESPACE_NAME } from "../src/api/well-known.js";
import { FeedCatalog } from "../src/feeds/catalog.js";
import { addressGroups, type FeedInputs } from "../src/feeds/feed-entries.js";
import { handleFeedRequest } from "../src/feeds/handler.js";
import { startFeedServer } from "../src/feeds/server.js";
import { median, printTable } from "./report.js";

/** A cluster with `gateways` EgressGateways of `replicas` replicas each (pure). */
export const syntheticFeedInputs = (gateways: number, replicas = 2): FeedInputs => {
  const pools = Array.from({ length: 10 }, (_, i) => ({
    apiVersion: "egw.dev/v1",
    kind: "IPPool",
    metadata: { name: `pool-${i}` },
    spec: { cidr: `10.${100 + i}.0.0/16`, allowedUses: ["EgressGateway"] },
  }));
  const namespaces = Array.from({ length: 100 }, (_, i) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: `ns-${i}`, labels: { [LABEL_NAMESPACE_NAME]: `ns-${i}`, tier: i % 2 ? "pci" : "dev" } },
  }));
  const gws: Resource[] = [];
  const pods: Resource[] = [];
  for (let g = 0; g < gateways; g++) {
    const namespace = `ns-${g % 100}`;
    gws.push({
      apiVersion: "egw.dev/v1",
      kind: "EgressGateway",
      metadata: { name: `gw-${g}`, namespace, labels: { team: `team-${g % 50}` } },
      spec: { replicas },
    });
    for (let r = 0; r < replicas; r++) {
      const n = g * replicas + r;
      pods.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: `gw-${g}-${r}`,
          namespace,
          creationTimestamp: "2026-11-28T12:00:00Z",
          annotations: {
            [ANN_GATEWAY_OWNER]: `${namespace}/gw-${g}`,
            [ANN_GATEWAY_EGRESS_IP]: `10.${100 + (n % 10)}.${Math.floor(n / 10 / 250)}.${(Math.floor(n / 10) % 250) + 1}`,
          },
        },
        spec: { nodeName: `node-${n % 20}` },
      });
    }
  }
  const firewallFeeds = Array.from({ length: 50 }, (_, i) => ({
    apiVersion: "egw.dev/v1",
    kind: "FirewallFeed",
    metadata: { name: `team-${i}` },
    spec: { selector: `team == 'team-${i}'`, namespaceSelector: "tier == 'pci'" },
  }));
  return { pools, gateways: gws, namespaces, pods, firewallFeeds };
};

export interface FeedMeasurement {
  gateways: number;
  groups: number;
  /** Median ms to recompute every group. */
  recomputeMs: number;
  /** Requests/s of a plain GET (200) and of a conditional GET (304). */
  plainPerSecond: number;
  notModifiedPerSecond: number;
}

const rate = async (
  url: string,
  headers: Record<string, string>,
  durationMs: number,
  expect: number,
): Promise<number> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let done = 0;
  const until = performance.now() + durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(url, { agent, headers }, (res) => {
        if (res.statusCode !== expect) reject(new Error(`${url}: ${res.statusCode}, expected ${expect}`));
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      await one();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return done / seconds;
};

/** Recompute and HTTP throughput at `gateways` gateways. */
const ROUNDS = 6;

export const measureFeeds = async (gateways = 1000, durationMs = 6000): Promise<FeedMeasurement> => {
  const inputs = syntheticFeedInputs(gateways);
  const times: number[] = [];
  let groups = addressGroups(inputs);
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    groups = addressGroups(inputs);
    times.push(performance.now() - t0);
  }
  const catalog = new FeedCatalog();
  catalog.update(groups, "2026-11-28T12:00:00.000Z");
  const server = await startFeedServer({
    host: "127.0.0.1",
    port: 0,
    handle: (req) =>
      handleFeedRequest(req, {
        availability: { ok: true },
        catalog,
        credentials: () => ({ kind: "none" }),
        serverCredentials: { kind: "none" },
        metricsText: () => "",
      }),
  });
  if (!server.ok) throw new Error(server.error);
  try {
    const url = `${server.value.baseUrl}/feeds/pool/pool-0.txt`;
    const etag = catalog.served("pool/pool-0", "paloalto")?.etag ?? "";
    await rate(url, {}, 300, 200); // warm up
    // Short interleaved rounds: load from other work on the machine hits both modes alike.
    const plain: number[] = [];
    const notModified: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await rate(url, {}, durationMs / ROUNDS, 200));
      notModified.push(await rate(url, { "if-none-match": etag }, durationMs / ROUNDS, 304));
    }
    const plainPerSecond = median(plain);
    const notModifiedPerSecond = median(notModified);
    return {
      gateways,
      groups: groups.length,
      recomputeMs: median(times),
      plainPerSecond,
      notModifiedPerSecond,
    };
  } finally {
    await server.value.close();
  }
};

export const benchFeeds = async (): Promise<void> => {
  const m = await measureFeeds(1000);
  printTable([
    [
      "gateways",
      "address groups",
      "recompute all (median ms)",
      "GET 200 req/s",
      "GET 304 req/s",
      "304 / 200",
    ],
    [
      String(m.gateways),
      String(m.groups),
      m.recomputeMs.toFixed(1),
      m.plainPerSecond.toFixed(0),
      m.notModifiedPerSecond.toFixed(0),
      (m.notModifiedPerSecond / m.plainPerSecond).toFixed(2),
    ],
  ]);
};
