// End to end (root): the lab's feeds component, fetched over HTTP from the router namespace as a
// firewall there would. Each format lists a gateway's egress IPs; a FirewallFeed's status shows in
// `egw get firewallfeeds`; a new replica's IP is in the feeds before the replica turns Ready
// (publishDelaySeconds); a scaled-down replica's IP stays listed while it drains and leaves only
// once its pod is gone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ANN_GATEWAY_USABLE_AFTER } from "../api/well-known.js";
import { infraNetns } from "./names.js";
import { eventually, runCmd } from "./testing/lab-cli.js";
import { labSession, type GatewayJson } from "./testing/lab-session.js";

const isRoot = process.getuid?.() === 0;
const FEEDS = "http://172.30.0.2:8080";
const NS = "fd";
const GRACE_SECONDS = 6;
const DELAY_SECONDS = 3;

const gatewayYaml = (replicas: number): string =>
  [
    "apiVersion: v1",
    "kind: Namespace",
    `metadata: {name: ${NS}}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    "metadata: {name: feeds-a}",
    'spec: {cidr: 10.10.6.0/29, allowedUses: [EgressGateway], nodeSelector: "!all()"}',
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: web, namespace: ${NS}, labels: {team: web}}`,
    "spec:",
    `  replicas: ${replicas}`,
    "  ipPools: [{name: feeds-a}]",
    `  template: {spec: {terminationGracePeriodSeconds: ${GRACE_SECONDS}}}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: FirewallFeed",
    "metadata: {name: web-db}",
    "spec:",
    `  selector: "team == 'web'"`,
    `  publishDelaySeconds: ${DELAY_SECONDS}`,
    "---",
  ].join("\n");

interface Fetched {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface JsonFeed {
  entries: { ip: string; pod: string; draining: boolean }[];
  empty: boolean;
}

describe("firewall feeds in the lab (root)", { skip: !isRoot && "needs root", timeout: 900_000 }, () => {
  const session = labSession("fd");
  const { lab, egw, apply, readyGateway, getPod } = session;
  const rtr = infraNetns(lab, "rtr");

  /** GET `path` from the router namespace with curl, as the lab firewall would. */
  const fetchFeed = async (path: string, headers: string[] = []): Promise<Fetched> => {
    const r = await runCmd("ip", [
      "netns",
      "exec",
      rtr,
      "curl",
      "-s",
      "-i",
      "-m",
      "5",
      ...headers.flatMap((h) => ["-H", h]),
      `${FEEDS}${path}`,
    ]);
    assert.equal(r.code, 0, `curl ${path}: ${r.stderr}`);
    const [head = "", ...rest] = r.stdout.split("\r\n\r\n");
    const [statusLine = "", ...lines] = head.split("\r\n");
    const headerMap = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    return { status: Number(statusLine.split(" ")[1]), headers: headerMap, body: rest.join("\r\n\r\n") };
  };
  const jsonFeed = async (path: string): Promise<JsonFeed> => {
    const r = await fetchFeed(path);
    assert.equal(r.status, 200, `${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as JsonFeed;
  };
  const textEntries = (body: string): string[] =>
    body
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => l.split(" ")[0] ?? "")
      .sort();
  const replicasOf = async () =>
    (JSON.parse(await egw("get", "egw", "-n", NS, "web", "-o", "json")) as GatewayJson).status?.replicas ??
    [];

  before(async () => {
    await session.up(2);
  });

  after(async () => {
    await session.down();
  });

  it("serves every format of every group kind; If-None-Match gives 304; egw get firewallfeeds shows the status", async () => {
    assert.match(await egw("status"), /feeds\s+\d+\s+running/);
    await apply(gatewayYaml(1));
    const [ip] = await readyGateway(NS, "web", 1);
    assert.ok(ip);
    const cidr = `${ip}/32`;
    for (const path of [
      "/feeds/pool/feeds-a",
      `/feeds/gateway/${NS}/web`,
      `/feeds/namespace/${NS}`,
      "/feeds/custom/web-db",
    ]) {
      const pan = await eventually(`${path} to list ${cidr}`, async () => {
        const r = await fetchFeed(`${path}.txt`);
        return r.status === 200 && textEntries(r.body).includes(cidr) ? r : undefined;
      });
      assert.deepEqual(textEntries(pan.body), [cidr]);
      assert.equal(pan.headers["content-type"], "text/plain; charset=utf-8");
      const forti = await fetchFeed(`${path}.fortigate.txt`);
      assert.deepEqual(textEntries(forti.body), [cidr]);
      assert.match(forti.body, /^# egw address group /);
      const cp = JSON.parse((await fetchFeed(`${path}.checkpoint.json`)).body) as {
        objects: { id: string; ranges: string[] }[];
      };
      assert.deepEqual(cp.objects[0]?.ranges, [ip]);
      assert.deepEqual(
        (await jsonFeed(`${path}.json`)).entries.map((e) => e.ip),
        [cidr],
      );
      const etag = pan.headers.etag ?? "";
      assert.equal((await fetchFeed(`${path}.txt`, [`If-None-Match: ${etag}`])).status, 304);
    }
    const status = await eventually("the FirewallFeed status", async () => {
      const feed = JSON.parse(await egw("get", "firewallfeeds", "web-db", "-o", "json")) as {
        status?: { url?: string; entries?: number; lastChange?: string };
      };
      return feed.status?.entries === 1 ? feed.status : undefined;
    });
    assert.equal(status.url, `${FEEDS}/feeds/custom/web-db`);
    assert.ok(Number.isFinite(Date.parse(status.lastChange ?? "")));
    assert.equal((await fetchFeed("/feeds/pool/nope")).status, 404);
  });

  it("a new replica is listed before it turns Ready (publish delay); a drained one leaves only when its pod is gone", async () => {
    const before = (await jsonFeed("/feeds/custom/web-db.json")).entries.map((e) => e.ip);
    await apply(gatewayYaml(2));
    const ips = await readyGateway(NS, "web", 2);
    const added = ips.find((ip) => !before.includes(`${ip}/32`));
    assert.ok(added, `a second IP among ${ips.join(", ")}`);
    const replica = (await replicasOf()).find((r) => r.egressIP === added);
    assert.ok(replica);
    const pod = await getPod(NS, replica.name);
    const usableAfter = pod?.metadata.annotations?.[ANN_GATEWAY_USABLE_AFTER];
    assert.ok(usableAfter, `replica ${replica.name} carries ${ANN_GATEWAY_USABLE_AFTER}`);
    const ready = (
      pod?.status?.conditions as { type: string; lastTransitionTime?: string }[] | undefined
    )?.find((c) => c.type === "Ready");
    assert.ok(
      Date.parse(ready?.lastTransitionTime ?? "") >= Date.parse(usableAfter),
      `Ready at ${ready?.lastTransitionTime}, not before ${usableAfter}`,
    );
    const listed = (await jsonFeed("/feeds/custom/web-db.json")).entries.find((e) => e.ip === `${added}/32`);
    assert.ok(listed, "the new IP is in the feed");

    // Scale down: the controller retires one replica; it drains for the grace period.
    await apply(gatewayYaml(1));
    const retired = await eventually("a draining entry", async () => {
      const e = (await jsonFeed("/feeds/custom/web-db.json")).entries.find((x) => x.draining);
      return e;
    });
    const retiredPod = retired.pod.split("/")[1] ?? "";
    assert.ok(await getPod(NS, retiredPod), "listed as draining while its pod exists");
    // Every time the entry is seen, its pod must still exist; once gone from the feed, the pod is gone.
    await eventually(
      `${retired.ip} to leave the feed`,
      async () => {
        const feed = await jsonFeed("/feeds/custom/web-db.json");
        if (feed.entries.some((e) => e.ip === retired.ip)) return undefined;
        return true;
      },
      { timeoutMs: 120_000 },
    );
    assert.equal(await getPod(NS, retiredPod), undefined, "the IP left only after its pod was gone");
    for (const path of ["/feeds/pool/feeds-a.txt", `/feeds/gateway/${NS}/web.txt`])
      assert.ok(!textEntries((await fetchFeed(path)).body).includes(retired.ip));
  });
});
