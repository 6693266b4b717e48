// End to end (root): egress access policy in a 2-node lab with real connections — default deny
// with one Allow, tiers and Pass, destination selectors that follow pods, anti-spoofing, unknown
// interfaces, `egw explain` against reality and the rule counters of `egw describe`.
// Allowed vs denied is told by how a TCP connect ends: accepted or refused (RST) means the packet
// left the node; egw's Deny drops, so a denied connect gets no answer (timeout).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { infraNetns, nodeNetns, podNetns } from "./names.js";
import { netnsExists } from "./netns.js";
import { eventually, randomSuffix, runCmd, runEgw } from "./testing/lab-cli.js";
import { labSession, nodeIP, WHOAMI } from "./testing/lab-session.js";
import {
  addPortCounters,
  addUnknownEndpoint,
  deleteTable,
  portCounter,
  probeTcp,
  removeNetns,
  ruleCounter,
  sendUdp,
  type Reach,
} from "./testing/policy-helpers.js";

const isRoot = process.getuid?.() === 0;

const WHOAMI_IP = "198.18.10.10";
const DB_IP = "198.18.20.10";
const WHOAMI_B_IP = "198.18.30.10";
const SHOP_POOL = "10.10.7.0/29";

/** Pods, namespaces and the shop gateway; policies are applied by the scenarios. */
const BASE = `
apiVersion: egw.dev/v1
kind: IPPool
metadata: {name: shop-egress}
spec: {cidr: ${SHOP_POOL}, allowedUses: [EgressGateway], nodeSelector: "!all()"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations: {egress.egw.dev/selector: "egw.dev/gateway == 'shop'"}
---
apiVersion: egw.dev/v1
kind: EgressGateway
metadata: {name: shop, namespace: shop}
spec: {replicas: 1, ipPools: [{name: shop-egress}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {nodeName: node-1}
---
apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: default}
spec: {nodeName: node-1}
---
apiVersion: v1
kind: Namespace
metadata: {name: tiers}
---
apiVersion: v1
kind: Pod
metadata: {name: t1, namespace: tiers}
spec: {nodeName: node-2}
---
apiVersion: v1
kind: Namespace
metadata: {name: clients}
---
apiVersion: v1
kind: Pod
metadata: {name: c1, namespace: clients}
spec: {nodeName: node-1}
---
apiVersion: v1
kind: Namespace
metadata: {name: backend}
---
apiVersion: v1
kind: Pod
metadata: {name: b1, namespace: backend, labels: {role: backend}}
spec: {nodeName: node-2}
---
apiVersion: v1
kind: Pod
metadata: {name: unlabelled, namespace: backend}
spec: {nodeName: node-2}
`;

const SHOP_POLICY = `
apiVersion: egw.dev/v1
kind: GlobalNetworkPolicy
metadata: {name: shop-egress}
spec:
  namespaceSelector: "kubernetes.io/metadata.name == 'shop'"
  selector: all()
  egress:
    - {action: Allow, protocol: TCP, destination: {nets: ["${WHOAMI_IP}/32"], ports: [80]}}
    - {action: Deny}
`;

const tiersYaml = (securityOrder: number, appOrder: number): string => `
apiVersion: egw.dev/v1
kind: Tier
metadata: {name: security}
spec: {order: ${securityOrder}}
---
apiVersion: egw.dev/v1
kind: Tier
metadata: {name: app}
spec: {order: ${appOrder}}
`;

const TIER_POLICIES = `
apiVersion: egw.dev/v1
kind: GlobalNetworkPolicy
metadata: {name: security-pass}
spec:
  tier: security
  namespaceSelector: "kubernetes.io/metadata.name == 'tiers'"
  egress:
    - {action: Pass, destination: {nets: ["${WHOAMI_B_IP}/32"]}}
    - {action: Allow, protocol: TCP, destination: {nets: ["${WHOAMI_IP}/32"], ports: [80]}}
---
apiVersion: egw.dev/v1
kind: GlobalNetworkPolicy
metadata: {name: app-deny}
spec:
  tier: app
  namespaceSelector: "kubernetes.io/metadata.name == 'tiers'"
  egress:
    - {action: Deny, destination: {nets: ["${WHOAMI_B_IP}/32"]}}
    - {action: Deny, destination: {nets: ["${WHOAMI_IP}/32"]}}
`;

const BACKEND_POLICY = `
apiVersion: egw.dev/v1
kind: NetworkPolicy
metadata: {name: to-backend, namespace: clients}
spec:
  selector: all()
  egress:
    - action: Allow
      protocol: TCP
      destination:
        selector: "role == 'backend'"
        namespaceSelector: "kubernetes.io/metadata.name == 'backend'"
`;

const allowedReach = (r: Reach | undefined): boolean => r === "open" || r === "refused";

interface ExplainJson {
  verdict: {
    verdict: "Allow" | "Deny";
    decision: { kind: string; ref?: { tier: string; policy: string; rule: number } };
    passed: { tier: string; policy?: string; rule: number | "default" }[];
  };
}

describe(
  "egress access policy in the lab (root)",
  { skip: !isRoot && "needs root", timeout: 900_000 },
  () => {
    const session = labSession("p");
    const { lab, env, egw, apply, runningPod, readyGateway, leavesAs } = session;
    const rtr = infraNetns(lab, "rtr");
    const counterTable = `egwt_${lab.replace(/-/g, "_")}`;
    const unknownNs = `egwt-${lab}-unknown`;
    const podNs = (ns: string, pod: string): string => podNetns(lab, ns, pod);
    const ips: Record<string, string> = {};
    let shopEgressIP = "";

    const explain = async (ns: string, pod: string, to: string): Promise<ExplainJson> => {
      const out = await egw("explain", "-n", ns, pod, "--to", to, "-o", "json");
      return JSON.parse(out) as ExplainJson;
    };
    /** Waits until `target` from the pod ends as `want` (agents converge after a change). */
    const reachEventually = (
      ns: string,
      pod: string,
      target: string,
      want: (r: Reach) => boolean,
      what: string,
    ) => {
      let last: Reach | undefined;
      return eventually(
        `${ns}/${pod} → ${target}: ${what}`,
        async () => {
          last = (await probeTcp(podNs(ns, pod), [target]))[target];
          return last !== undefined && want(last) ? last : undefined;
        },
        { describeLast: () => `last: ${last ?? "-"}` },
      );
    };
    const denied = (r: Reach): boolean => r === "timeout";

    before(async () => {
      await session.up(2);
      await apply(BASE);
      for (const [ns, pod] of [
        ["shop", "web"],
        ["default", "plain"],
        ["tiers", "t1"],
        ["clients", "c1"],
        ["backend", "b1"],
        ["backend", "unlabelled"],
      ] as const)
        ips[`${ns}/${pod}`] = (await runningPod(ns, pod)).status?.podIP ?? "";
      shopEgressIP = (await readyGateway("shop", "shop", 1))[0] ?? "";
      await egw("lab", "firewall", "allow", "--host", "db", SHOP_POOL, "172.30.0.0/24");
      await leavesAs("shop", "web", [shopEgressIP]);
      await addPortCounters(rtr, counterTable, [40001, 40002]);
    });

    after(async () => {
      await removeNetns(unknownNs);
      await deleteTable(rtr, counterTable);
      await session.down();
    });

    it("egw status shows every node's agent Ready (EgwAgentReady on its Node)", async () => {
      const status = await eventually("both agents to report Ready", async () => {
        const s = await egw("status");
        return /node-1\s.*\sReady$/m.test(s) && /node-2\s.*\sReady$/m.test(s) ? s : undefined;
      });
      assert.doesNotMatch(status, /not ready/);
      const node = JSON.parse(await egw("get", "node", "node-1", "-o", "json")) as {
        status?: { conditions?: { type: string; status: string; reason?: string }[] };
      };
      const c = node.status?.conditions?.find((x) => x.type === "EgwAgentReady");
      assert.equal(c?.status, "True");
      assert.equal(c?.reason, "Programmed");
    });

    it("default deny for namespace shop with one Allow to whoami:80: whoami yes, db no (firewall open), other namespaces unaffected", async () => {
      const db = `${DB_IP}:5432`;
      // Before the policy the firewall admits shop's egress IP: db answers.
      assert.equal((await probeTcp(podNs("shop", "web"), [db]))[db], "open");
      await apply(SHOP_POLICY);
      await reachEventually("shop", "web", db, denied, "denied by the policy");
      // whoami answers, and sees the shop gateway's egress IP: policy runs before steering.
      assert.equal(await session.sourceSeen("shop", "web", WHOAMI), shopEgressIP);
      const web = await probeTcp(podNs("shop", "web"), [
        `${WHOAMI_IP}:80`,
        db,
        `${WHOAMI_B_IP}:80`,
        `${WHOAMI_IP}:81`,
      ]);
      assert.deepEqual(web, {
        [`${WHOAMI_IP}:80`]: "open",
        [db]: "timeout",
        [`${WHOAMI_B_IP}:80`]: "timeout",
        [`${WHOAMI_IP}:81`]: "timeout",
      });
      // A pod of another namespace, on the same node: nothing changed.
      const plain = await probeTcp(podNs("default", "plain"), [
        `${WHOAMI_IP}:80`,
        db,
        `${WHOAMI_B_IP}:80`,
        `${WHOAMI_IP}:81`,
      ]);
      assert.deepEqual(plain, {
        [`${WHOAMI_IP}:80`]: "open",
        [db]: "open",
        [`${WHOAMI_B_IP}:80`]: "open",
        [`${WHOAMI_IP}:81`]: "refused",
      });
      assert.equal(await session.sourceSeen("default", "plain", WHOAMI), nodeIP("node-1"));
      const x = await explain("shop", "web", db);
      assert.equal(x.verdict.verdict, "Deny");
      assert.deepEqual(x.verdict.decision.ref, {
        tier: "default",
        policy: "gnp:shop-egress",
        rule: 1,
        action: "Deny",
      });
    });

    it("a Deny increments the rule's counter shown by egw describe globalnetworkpolicy", async () => {
      const ruleRow = async (rule: number): Promise<{ packets: number; bytes: number }> => {
        const d = await egw("describe", "globalnetworkpolicy", "shop-egress");
        const m = new RegExp(`^\\s+${rule}\\s+(?:Allow|Deny)\\s+(\\d+)\\s+(\\d+)\\s`, "m").exec(d);
        assert.ok(m, `no counters for rule ${rule} in:\n${d}`);
        assert.match(d, /summed over lab "[^"]+" nodes node-1, node-2/);
        return { packets: Number(m[1]), bytes: Number(m[2]) };
      };
      const before = await ruleRow(1);
      assert.ok(before.packets > 0, "the earlier denied connections were counted");
      assert.ok((await ruleRow(0)).packets > 0, "the Allow rule counted whoami connections");
      await probeTcp(podNs("shop", "web"), [`${DB_IP}:5432`, `${DB_IP}:5433`, `${WHOAMI_B_IP}:80`], 2);
      const after = await ruleRow(1);
      assert.ok(after.packets >= before.packets + 3, `${JSON.stringify(before)} → ${JSON.stringify(after)}`);
      assert.ok(after.bytes > before.bytes);
    });

    it("Pass: tier security passes whoami-b to tier app, which denies it; reversing the tier order changes the verdict for whoami", async () => {
      const b = `${WHOAMI_B_IP}:80`;
      const a = `${WHOAMI_IP}:80`;
      await apply(tiersYaml(100, 200) + "---\n" + TIER_POLICIES);
      await reachEventually("tiers", "t1", b, denied, "passed by security, denied by app");
      await reachEventually("tiers", "t1", a, (r) => r === "open", "allowed by security");
      const xb = await explain("tiers", "t1", b);
      assert.equal(xb.verdict.verdict, "Deny");
      assert.deepEqual(
        xb.verdict.passed.map((p) => [p.tier, p.policy, p.rule]),
        [["security", "gnp:security-pass", 0]],
      );
      assert.deepEqual(xb.verdict.decision.ref, {
        tier: "app",
        policy: "gnp:app-deny",
        rule: 0,
        action: "Deny",
      });
      assert.equal((await explain("tiers", "t1", a)).verdict.decision.ref?.tier, "security");

      // app before security: app's Deny of whoami now decides first.
      await apply(tiersYaml(300, 50));
      await reachEventually("tiers", "t1", a, denied, "denied by app, now first");
      assert.equal((await probeTcp(podNs("tiers", "t1"), [b]))[b], "timeout");
      const xa = await explain("tiers", "t1", a);
      assert.equal(xa.verdict.verdict, "Deny");
      assert.deepEqual(xa.verdict.decision.ref, {
        tier: "app",
        policy: "gnp:app-deny",
        rule: 1,
        action: "Deny",
      });
      assert.deepEqual(
        (await explain("tiers", "t1", b)).verdict.passed,
        [],
        "app decides before security can pass",
      );
    });

    it("a destination selector follows pods: a new matching pod is reachable without touching the policy, a deleted one's IP stops matching", async () => {
      const b1 = `${ips["backend/b1"]}:8080`;
      const unlabelled = `${ips["backend/unlabelled"]}:8080`;
      await apply(BACKEND_POLICY);
      await reachEventually("clients", "c1", unlabelled, denied, "a backend pod without the label is denied");
      assert.equal(
        (await probeTcp(podNs("clients", "c1"), [b1]))[b1],
        "refused",
        "b1 is allowed (nothing listens)",
      );

      await apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b2, namespace: backend, labels: {role: backend}}\nspec: {nodeName: node-2}\n",
      );
      const b2IP = (await runningPod("backend", "b2")).status?.podIP ?? "";
      const b2 = `${b2IP}:8080`;
      await reachEventually("clients", "c1", b2, allowedReach, "the new backend pod is reachable");
      assert.equal((await explain("clients", "c1", b2)).verdict.verdict, "Allow");

      // b2 goes; a pod that does not match takes its IP (the lowest free one of node-2's block).
      await egw("delete", "pod", "-n", "backend", "b2");
      await eventually("b2 and its network namespace to be gone", async () =>
        (await runEgw(env, ["get", "pod", "-n", "backend", "b2"])).code !== 0 &&
        !netnsExists(podNs("backend", "b2"))
          ? true
          : undefined,
      );
      await apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: reuse, namespace: default}\nspec: {nodeName: node-2}\n",
      );
      const reuseIP = (await runningPod("default", "reuse")).status?.podIP ?? "";
      const reuse = `${reuseIP}:8080`;
      assert.equal(reuseIP, b2IP, "the new pod took the deleted pod's IP");
      await reachEventually("clients", "c1", reuse, denied, "the deleted pod's IP no longer matches");
      assert.equal((await explain("clients", "c1", reuse)).verdict.verdict, "Deny");
      assert.equal((await probeTcp(podNs("clients", "c1"), [b1]))[b1], "refused", "b1 still allowed");
    });

    it("spoofing: packets from pod A with pod B's (or any other) source never reach the outside, and A's node counts the drops", async () => {
      const ns = podNs("default", "plain");
      const port = 40001;
      const node1 = nodeNetns(lab, 1);
      const spoofed = async (): Promise<number> =>
        ruleCounter(node1, "inet", "egw", "egw_from_workload", "spoofed source");
      // Control: A's own source gets through and is counted at the router.
      const own = ips["default/plain"] ?? "";
      await sendUdp(ns, own, WHOAMI_IP, port, 3);
      const base = await eventually("the router to count A's own datagrams", async () => {
        const n = await portCounter(rtr, counterTable, port);
        return n >= 3 ? n : undefined;
      });
      const dropsBefore = await spoofed();
      const others = [ips["tiers/t1"] ?? "", "10.244.1.200", "203.0.113.9"];
      for (const ip of others) {
        const r = await runCmd("ip", ["-n", ns, "addr", "add", `${ip}/32`, "dev", "eth0"]);
        assert.equal(r.code, 0, r.stderr);
      }
      try {
        for (const ip of others) await sendUdp(ns, ip, WHOAMI_IP, port, 5);
        // Then A's own again: once these arrived, the spoofed ones (sent before) would have too.
        await sendUdp(ns, own, WHOAMI_IP, port, 2);
        const seen = await eventually("the router to count the later own datagrams", async () => {
          const n = await portCounter(rtr, counterTable, port);
          return n >= base + 2 ? n : undefined;
        });
        assert.equal(seen, base + 2, "only A's own datagrams reached the router");
        const drops = (await spoofed()) - dropsBefore;
        assert.ok(drops >= 15, `node-1 counted ${drops} spoofed packets, expected at least 15`);
      } finally {
        for (const ip of others) await runCmd("ip", ["-n", ns, "addr", "del", `${ip}/32`, "dev", "eth0"]);
      }
    });

    it("unknown endpoint: a workload interface the agent does not know passes nothing out", async () => {
      const node1 = nodeNetns(lab, 1);
      const port = 40002;
      const unknownIP = "10.244.1.240";
      await addUnknownEndpoint(node1, unknownNs, `ewx${randomSuffix()}`, unknownIP);
      const unknownDrops = (): Promise<number> =>
        ruleCounter(node1, "inet", "egw", "egw_from_workload", "unknown workload interface");
      const dropsBefore = await unknownDrops();
      const base = await portCounter(rtr, counterTable, port);
      await sendUdp(unknownNs, unknownIP, WHOAMI_IP, port, 5);
      const tcp = await probeTcp(unknownNs, [`${WHOAMI_IP}:80`], 2);
      // The node drops it silently (no RST), so the connect gets no answer.
      assert.equal(tcp[`${WHOAMI_IP}:80`], "timeout");
      // Control after the fact: a known pod's datagrams to the same port arrive and are counted.
      await sendUdp(podNs("default", "plain"), ips["default/plain"] ?? "", WHOAMI_IP, port, 2);
      const seen = await eventually("the router to count the known pod's datagrams", async () => {
        const n = await portCounter(rtr, counterTable, port);
        return n >= base + 2 ? n : undefined;
      });
      assert.equal(seen, base + 2, "nothing from the unknown interface reached the router");
      const drops = (await unknownDrops()) - dropsBefore;
      assert.ok(
        drops >= 5,
        `node-1 counted ${drops} packets from the unknown interface, expected at least 5`,
      );
    });

    it("egw explain agrees with real connections on 24 (pod, destination) cases", async () => {
      const pods = [
        ["shop", "web"],
        ["default", "plain"],
        ["tiers", "t1"],
        ["clients", "c1"],
      ] as const;
      const targets = [
        `${WHOAMI_IP}:80`,
        `${WHOAMI_IP}:81`,
        `${DB_IP}:5432`,
        `${DB_IP}:5433`,
        `${WHOAMI_B_IP}:80`,
        `${ips["backend/b1"]}:8080`,
      ];
      const rows: string[] = [];
      const mismatches: string[] = [];
      let allows = 0;
      let denies = 0;
      for (const [ns, pod] of pods) {
        const [real, explained] = await Promise.all([
          probeTcp(podNs(ns, pod), targets),
          Promise.all(targets.map((t) => explain(ns, pod, t))),
        ]);
        targets.forEach((t, i) => {
          const verdict = explained[i]?.verdict.verdict;
          const reach = real[t];
          const agrees = verdict === "Allow" ? allowedReach(reach) : reach === "timeout";
          if (verdict === "Allow") allows++;
          else denies++;
          const row = `${ns}/${pod} → ${t}: explain ${verdict ?? "?"}, real ${reach ?? "?"}`;
          rows.push(row);
          if (!agrees) mismatches.push(row);
        });
      }
      assert.equal(rows.length, 24);
      assert.deepEqual(mismatches, [], `explain disagrees with reality:\n${rows.join("\n")}`);
      assert.ok(allows >= 5 && denies >= 5, `too one-sided to prove anything:\n${rows.join("\n")}`);
    });
  },
);
