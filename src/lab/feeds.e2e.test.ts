// End to end (root): the lab firewall follows a gateway's address-group feed, so scaling the
// gateway never needs a firewall change by hand. In a 3-node lab the db firewall polls
// `egw feeds`' list of gateway fwpay/pay (every second): scaled 1 → 3, every replica reaches db;
// a pod of another namespace (its own gateway, not in the feed) never does; scaled 3 → 1, the
// retired replicas' IPs stay in the feed while they drain, leave it once their pods are gone,
// and the firewall then refuses connections from them (a probe namespace on the router sends
// from those addresses and the firewall log shows the drop). Nothing is allowed by hand. A
// FirewallFeed covering the gateway asks for a publish delay longer than the firewall's poll
// interval, so a new replica turns Ready only after the firewall can have its IP: connections
// through it pass at once, with no wait for the firewall in the test.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ANN_GATEWAY_EGRESS_IP,
  ANN_GATEWAY_TERMINATING,
  ANN_GATEWAY_USABLE_AFTER,
} from "../api/well-known.js";
import { infraNetns, podNetns, scratchNetns } from "./names.js";
import { ECHO_SERVICE } from "./topology.js";
import { startEchoStream, type EchoStream } from "./testing/echo-stream.js";
import { eventually, runCmd } from "./testing/lab-cli.js";
import { DB, labSession, type PodJson } from "./testing/lab-session.js";
import { sleep } from "../util/wait.js";

const isRoot = process.getuid?.() === 0;
const GRACE_SECONDS = 5;
/** Longer than the firewall's 1 s poll interval (the margin is the point). */
const PUBLISH_DELAY_SECONDS = 4;
const FEED_PATH = "/feeds/gateway/fwpay/pay.txt";
const FEED_URL = `http://172.30.0.2:8080${FEED_PATH}`;

const gatewayYaml = (ns: string, name: string, cidr: string, replicas: number): string =>
  [
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    `metadata: {name: ${ns}-${name}}`,
    `spec: {cidr: ${cidr}, allowedUses: [EgressGateway], nodeSelector: "!all()"}`,
    "---",
    "apiVersion: v1",
    "kind: Namespace",
    "metadata:",
    `  name: ${ns}`,
    "  annotations:",
    `    egress.egw.dev/selector: "egw.dev/gateway == '${name}'"`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: ${name}, namespace: ${ns}, labels: {team: ${name}}}`,
    "spec:",
    `  replicas: ${replicas}`,
    `  ipPools: [{name: ${ns}-${name}}]`,
    "  template:",
    `    metadata: {labels: {egw.dev/gateway: ${name}}}`,
    `    spec: {terminationGracePeriodSeconds: ${GRACE_SECONDS}}`,
    "---",
  ].join("\n");

/** The firewall team's FirewallFeed for gateway `pay`: what it adds here is the publish delay. */
const firewallFeedYaml = [
  "apiVersion: egw.dev/v1",
  "kind: FirewallFeed",
  "metadata: {name: fwpay-db}",
  "spec:",
  `  selector: "team == 'pay'"`,
  `  publishDelaySeconds: ${PUBLISH_DELAY_SECONDS}`,
  "---",
].join("\n");

const clientYaml = (ns: string, name: string): string =>
  [
    "apiVersion: v1",
    "kind: Pod",
    `metadata: {name: ${name}, namespace: ${ns}}`,
    "spec: {nodeName: node-1}",
    "---",
  ].join("\n");

interface FirewallHostJson {
  host: string;
  allowed: string[];
  byHand: string[];
  feeds: { url: string; entries: string[]; lastFetch?: { result: string } }[];
}

interface LogEntry {
  action: "accept" | "drop";
  src: string;
}

describe(
  "lab firewall on a gateway's feed (root)",
  { skip: !isRoot && "needs root", timeout: 1_200_000 },
  () => {
    const session = labSession("ff");
    const { lab, egw, apply, runningPod, readyGateway, sourceSeen, manyConnections } = session;
    const rtr = infraNetns(lab, "rtr");
    const probe = scratchNetns(lab);
    const streams: EchoStream[] = [];

    before(async () => {
      await session.up(3);
    });

    after(async () => {
      streams.forEach((s) => s.kill());
      await runCmd("ip", ["netns", "delete", probe]);
      await session.down();
    });

    /** The feed as the router sees it: its entries (IPs), or undefined when it does not answer 200. */
    const feedEntries = async (): Promise<string[] | undefined> => {
      const r = await runCmd("ip", ["netns", "exec", rtr, "curl", "-s", "-f", "-m", "3", FEED_URL]);
      if (r.code !== 0) return undefined;
      return (
        r.stdout
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#"))
          // An entry may carry an inline comment after a space (PAN-OS EDL), e.g. the replica's pod.
          .map((l) => (l.split(/\s/, 1)[0] ?? "").replace(/\/32$/, ""))
      );
    };

    const firewallDb = async (): Promise<FirewallHostJson> => {
      const all = JSON.parse(await egw("lab", "firewall", "list", "--json")) as FirewallHostJson[];
      const db = all.find((h) => h.host === "db");
      assert.ok(db, "no db in egw lab firewall list --json");
      return db;
    };

    /** Waits until the firewall enforces exactly `ips` for db (as /32s). */
    const firewallAllows = (ips: readonly string[]) => {
      let last = "";
      const want = ips.map((ip) => `${ip}/32`).sort();
      return eventually(
        `the db firewall to allow exactly ${ips.join(", ")}`,
        async () => {
          const db = await firewallDb();
          last = JSON.stringify(db.allowed);
          return JSON.stringify([...db.allowed].sort()) === JSON.stringify(want) ? true : undefined;
        },
        { describeLast: () => last },
      );
    };

    const firewallLog = async (): Promise<LogEntry[]> =>
      (await egw("lab", "firewall", "log", "--json"))
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as LogEntry);

    const gatewayPods = async (ns: string): Promise<PodJson[]> => {
      const list = JSON.parse(await egw("get", "pods", "-n", ns, "-o", "json")) as { items: PodJson[] };
      return list.items.filter((p) => p.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] !== undefined);
    };

    let otherIP = "";

    it("a pod of another namespace never reaches db; the gateway's one replica does, through the feed", async () => {
      await apply(
        [
          firewallFeedYaml,
          gatewayYaml("fwpay", "pay", "10.10.4.0/29", 1),
          clientYaml("fwpay", "api"),
          gatewayYaml("fwshop", "shop", "10.10.5.0/29", 1),
          clientYaml("fwshop", "web"),
        ].join("\n"),
      );
      const [ip] = await readyGateway("fwpay", "pay", 1);
      otherIP = (await readyGateway("fwshop", "shop", 1))[0] ?? "";
      await runningPod("fwpay", "api");
      await runningPod("fwshop", "web");
      await session.leavesAs("fwshop", "web", [otherIP]);

      const out = await egw(
        "lab",
        "firewall",
        "allow",
        "--host",
        "db",
        "--feed",
        FEED_URL,
        "--interval",
        "1",
      );
      assert.match(out, /polls http:\/\/172\.30\.0\.2:8080\/feeds\/gateway\/fwpay\/pay\.txt every 1 s/);
      await firewallAllows([ip ?? ""]);
      assert.equal(await sourceSeen("fwpay", "api", DB), `db: hello ${ip}`);
      assert.equal(await sourceSeen("fwshop", "web", DB), undefined, "fwshop/web reached db");
      const listed = await egw("lab", "firewall", "list");
      assert.match(listed, /db\s+198\.18\.20\.10:5432\s+\(nothing by hand\)/);
      assert.match(listed, /pay\.txt\s+1s\s+\S+ \(\d+s ago\)\s+(updated \(200\)|unchanged \(304\))\s+1\b/);
    });

    it("scaled 1 → 3: the firewall follows the feed and all three replicas reach db", async () => {
      await apply(gatewayYaml("fwpay", "pay", "10.10.4.0/29", 3));
      const ips = await readyGateway("fwpay", "pay", 3);
      // The new replicas waited for the publish delay before they turned Ready.
      const usableAfter = (await gatewayPods("fwpay"))
        .filter((p) => p.metadata.name !== "pay-0")
        .map((p) => p.metadata.annotations?.[ANN_GATEWAY_USABLE_AFTER]);
      assert.equal(usableAfter.filter((a) => a !== undefined).length, 2, JSON.stringify(usableAfter));
      // No wait for the firewall: every connection passes at once, and together they use every replica.
      const seen = new Set<string>();
      await eventually(`connections from fwpay/api to db through ${ips.join(", ")}`, async () => {
        const answers = await manyConnections("fwpay", "api", DB, 15);
        for (const a of answers) {
          assert.match(a, /^db: hello 10\.10\.4\.\d+$/, `a connection to db failed: ${answers.join(" | ")}`);
          seen.add(a.slice("db: hello ".length));
        }
        return ips.every((ip) => seen.has(ip)) ? true : undefined;
      });
      assert.deepEqual(((await feedEntries()) ?? []).sort(), [...ips].sort());
      await firewallAllows(ips);
      assert.equal(await sourceSeen("fwshop", "web", DB), undefined, "fwshop/web reached db");
    });

    it("scaled 3 → 1: retired IPs leave the feed after their drain, and the firewall refuses them", async (t) => {
      const replicas = (await gatewayPods("fwpay")).map((p) => ({
        name: p.metadata.name,
        ip: p.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? "",
      }));
      // A scale-down retires the highest indexes; long-lived connections keep them draining.
      const kept = replicas.find((r) => r.name === "pay-0")?.ip ?? "";
      const retired = replicas.filter((r) => r.name !== "pay-0").map((r) => r.ip);
      assert.equal(retired.length, 2, JSON.stringify(replicas));
      const onRetired = new Set<string>();
      for (let i = 0; i < 40 && retired.some((ip) => !onRetired.has(ip)); i++) {
        const s = startEchoStream(podNetns(lab, "fwpay", "api"), ECHO_SERVICE.ip, ECHO_SERVICE.port);
        streams.push(s);
        onRetired.add(await s.connected);
      }

      // Watch the feed and the pods: an IP may leave the feed only once its pod is gone.
      const violations: string[] = [];
      const drainingInFeed = new Set<string>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const feed = await feedEntries();
          const pods = await gatewayPods("fwpay");
          if (feed !== undefined) {
            for (const p of pods) {
              const ip = p.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP] ?? "";
              // The lab marks a replica that is being retired (its drain) with this annotation.
              const terminating = p.metadata.annotations?.[ANN_GATEWAY_TERMINATING] !== undefined;
              if (!feed.includes(ip))
                violations.push(`${ip} missing from the feed while pod ${p.metadata.name} exists`);
              else if (terminating) drainingInFeed.add(ip);
            }
          }
          await sleep(200);
        }
      })();

      try {
        await apply(gatewayYaml("fwpay", "pay", "10.10.4.0/29", 1));
        await eventually(
          "the retired replicas' pods to be gone",
          async () => ((await gatewayPods("fwpay")).length === 1 ? true : undefined),
          { timeoutMs: 120_000 },
        );
        await eventually("the feed to list only the kept replica", async () =>
          JSON.stringify(await feedEntries()) === JSON.stringify([kept]) ? true : undefined,
        );
      } finally {
        watching = false;
        await watcher;
      }
      assert.deepEqual(violations, []);
      for (const ip of retired)
        if (onRetired.has(ip))
          assert.ok(drainingInFeed.has(ip), `${ip} was not seen in the feed while it drained`);
      await firewallAllows([kept]);
      assert.equal(await sourceSeen("fwpay", "api", DB), `db: hello ${kept}`);

      // A probe on the router's side sends from the retired addresses: the firewall refuses them.
      await runCmd("ip", ["netns", "add", probe]);
      const setup: [string, string[]][] = [
        ["ip", ["-n", rtr, "link", "add", "fwprobe", "type", "veth", "peer", "name", "eth0", "netns", probe]],
        ["ip", ["-n", rtr, "addr", "add", "192.168.77.1/30", "dev", "fwprobe"]],
        ["ip", ["-n", rtr, "link", "set", "fwprobe", "up"]],
        ["ip", ["-n", probe, "link", "set", "lo", "up"]],
        ["ip", ["-n", probe, "addr", "add", "192.168.77.2/30", "dev", "eth0"]],
        ["ip", ["-n", probe, "link", "set", "eth0", "up"]],
        ["ip", ["-n", probe, "route", "add", "default", "via", "192.168.77.1"]],
        ...retired.flatMap((ip): [string, string[]][] => [
          ["ip", ["-n", probe, "addr", "add", `${ip}/32`, "dev", "eth0"]],
          ["ip", ["-n", rtr, "route", "replace", `${ip}/32`, "via", "192.168.77.2"]],
        ]),
      ];
      for (const [cmd, args] of setup) {
        const r = await runCmd(cmd, args);
        assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
      }
      try {
        for (const ip of retired) {
          const r = await runCmd("ip", [
            "netns",
            "exec",
            probe,
            "curl",
            "-s",
            "-m",
            "5",
            "--interface",
            ip,
            DB,
          ]);
          assert.notEqual(r.code, 0, `db answered ${ip}: ${r.stdout}`);
          await eventually(`the firewall log to show ${ip} dropped`, async () =>
            (await firewallLog()).some((e) => e.action === "drop" && e.src === ip) ? true : undefined,
          );
        }
      } finally {
        for (const ip of retired)
          await runCmd("ip", ["-n", rtr, "route", "del", `${ip}/32`, "via", "192.168.77.2"]);
        await runCmd("ip", ["-n", rtr, "link", "del", "fwprobe"]);
        await runCmd("ip", ["netns", "delete", probe]);
      }

      // Nothing was allowed by hand, and the other namespace never got through.
      const db = await firewallDb();
      assert.deepEqual(db.byHand, []);
      assert.deepEqual(
        (await firewallLog()).filter((e) => e.action === "accept" && e.src === otherIP),
        [],
        `${otherIP} (fwshop's gateway) was accepted by the firewall`,
      );
      assert.ok((await firewallLog()).some((e) => e.action === "drop" && e.src === otherIP));
      t.diagnostic(
        `kept ${kept}; retired ${retired.join(", ")} (seen draining in the feed: ${[...drainingInFeed].join(", ") || "none"})`,
      );
      streams.forEach((s) => s.kill());
    });
  },
);
