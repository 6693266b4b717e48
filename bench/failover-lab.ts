// One lab of the failover benchmark, driven through the egw CLI: a gateway whose replicas run on
// the "gateway nodes" only (a node label and the template's nodeSelector), a client pod on the
// last node, the faults a round injects and undoes, and the way back to the initial state
// (every replica ready, one per gateway node, none draining) between rounds.
import { openDatastore } from "../src/datastore/connect.js";
import { readModifyWrite } from "../src/datastore/read-modify-write.js";
import type { Datastore } from "../src/datastore/types.js";
import { ANN_GATEWAY_OWNER, ANN_GATEWAY_TERMINATING } from "../src/api/well-known.js";
import { podNetns } from "../src/lab/names.js";
import { readManifest } from "../src/lab/state.js";
import { runEgw } from "../src/lab/testing/lab-cli.js";
import {
  labSession,
  type GatewayJson,
  type LabSession,
  type PodJson,
} from "../src/lab/testing/lab-session.js";
import { sleep } from "../src/util/wait.js";

export type Liveness = "bfd" | "poll";
export type Scenario = "node-cut" | "pod-delete" | "upstream" | "drain";

export const NAMESPACE = "failover";
export const GATEWAY = "failover";
export const CLIENT = "client";
export const NODE_LABEL = "egw.dev/failover-bench";
/** Drain time of the benchmark's gateway: streams on a draining replica end halfway through it. */
export const GRACE_SECONDS = 6;
/** Upstream probes of the benchmark's gateway (short, so an upstream failure shows quickly). */
export const PROBE = { ip: "198.18.10.10", intervalMs: 200, timeoutMs: 600 } as const;

export interface Replica {
  name: string;
  node: string;
  egressIP: string;
}

/** What the CLI of this build can do: later parts of the failover work add these commands. */
export interface LabFeatures {
  /** `egw up --liveness bfd|poll` */
  liveness: boolean;
  /** `egw lab node cut|restore NAME` */
  nodeCut: boolean;
}

export const detectFeatures = async (): Promise<LabFeatures> => {
  const up = await runEgw(process.env, ["up", "--help"]);
  const node = await runEgw(process.env, ["lab", "node", "--help"]);
  return {
    liveness: up.code === 0 && up.stdout.includes("--liveness"),
    nodeCut: node.code === 0 && node.stdout.includes("cut"),
  };
};

export const gatewayYaml = (replicas: number): string =>
  [
    "apiVersion: egw.dev/v1",
    "kind: IPPool",
    `metadata: {name: ${GATEWAY}}`,
    'spec: {cidr: 10.10.5.0/28, allowedUses: [EgressGateway], nodeSelector: "!all()"}',
    "---",
    "apiVersion: v1",
    "kind: Namespace",
    "metadata:",
    `  name: ${NAMESPACE}`,
    `  annotations: {egress.egw.dev/selector: "egw.dev/gateway == '${GATEWAY}'"}`,
    "---",
    "apiVersion: egw.dev/v1",
    "kind: EgressGateway",
    `metadata: {name: ${GATEWAY}, namespace: ${NAMESPACE}}`,
    "spec:",
    `  replicas: ${replicas}`,
    `  ipPools: [{name: ${GATEWAY}}]`,
    "  template:",
    "    spec:",
    `      nodeSelector: {${NODE_LABEL}: gateway}`,
    `      terminationGracePeriodSeconds: ${GRACE_SECONDS}`,
    "  failureDetection:",
    `    icmpProbe: {ips: ["${PROBE.ip}"], intervalMs: ${PROBE.intervalMs}, timeoutMs: ${PROBE.timeoutMs}}`,
    "",
  ].join("\n");

const clientYaml = (node: string): string =>
  [
    "apiVersion: v1",
    "kind: Pod",
    `metadata: {name: ${CLIENT}, namespace: ${NAMESPACE}}`,
    `spec: {nodeName: ${node}}`,
    "",
  ].join("\n");

const ordinal = (name: string): number => Number(/-(\d+)$/.exec(name)?.[1] ?? -1);

export class FailoverLab {
  readonly session: LabSession;
  readonly gatewayNodes: string[];
  readonly clientNode: string;
  /** Faults in place, undone by restore() even when a round fails half-way. */
  private cut = new Set<string>();
  private upstreamDown = new Set<string>();
  private scaledDown = false;

  constructor(
    readonly liveness: Liveness,
    readonly replicas: number,
    private readonly features: LabFeatures,
  ) {
    this.session = labSession(liveness === "bfd" ? "fob" : "fop");
    this.gatewayNodes = Array.from({ length: replicas }, (_, i) => `node-${i + 1}`);
    this.clientNode = `node-${replicas + 1}`;
  }

  get name(): string {
    return this.session.lab;
  }

  get clientNetns(): string {
    return podNetns(this.session.lab, NAMESPACE, CLIENT);
  }

  async up(): Promise<void> {
    const s = this.session;
    const args = ["up", "--nodes", String(this.replicas + 1), "--name", s.lab, "--state-dir", s.stateDir];
    if (this.features.liveness) args.push("--liveness", this.liveness);
    await s.egw(...args);
    await this.labelGatewayNodes();
    await s.apply(gatewayYaml(this.replicas));
    await s.apply(clientYaml(this.clientNode));
    await s.runningPod(NAMESPACE, CLIENT);
  }

  async down(): Promise<void> {
    await this.session.down();
  }

  private async withStore<T>(fn: (store: Datastore) => Promise<T>): Promise<T> {
    const endpoint = readManifest(this.session.stateDir)?.etcdEndpoint;
    const store = openDatastore({ type: "etcd", etcdEndpoints: [endpoint ?? ""], timeoutMs: 5000 });
    if (!store.ok) throw new Error(`lab ${this.name}: ${store.error.message}`);
    try {
      return await fn(store.value);
    } finally {
      await store.value.close();
    }
  }

  /** Labels the gateway nodes (read-modify-write, so what agents wrote into Node status stays). */
  private async labelGatewayNodes(): Promise<void> {
    await this.withStore(async (store) => {
      for (const name of this.gatewayNodes) {
        const r = await readModifyWrite(store, { kind: "Node", name }, (node) => ({
          ...node,
          metadata: { ...node.metadata, labels: { ...node.metadata.labels, [NODE_LABEL]: "gateway" } },
        }));
        if (!r.ok || r.value.kind === "absent")
          throw new Error(
            `lab ${this.name}: cannot label Node ${name}: ${r.ok ? "it does not exist" : r.error.message}`,
          );
      }
    });
  }

  private async gatewayPods(): Promise<PodJson[]> {
    const out = await this.session.egw("get", "pods", "-n", NAMESPACE, "-o", "json");
    return (JSON.parse(out) as { items: PodJson[] }).items.filter(
      (p) => p.metadata.annotations?.[ANN_GATEWAY_OWNER] === `${NAMESPACE}/${GATEWAY}`,
    );
  }

  /**
   * Waits for the initial state: `replicas` ready replicas, one on each gateway node, their pods
   * Ready, none draining. A node that got two replicas (one replaced a replica of a cut node)
   * gives one up, so the controller places it on the free node again.
   */
  async initialState(timeoutMs = 240_000): Promise<Replica[]> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    let lastDelete = 0;
    for (;;) {
      const gw = JSON.parse(
        await this.session.egw("get", "egw", "-n", NAMESPACE, GATEWAY, "-o", "json"),
      ) as GatewayJson;
      const pods = await this.gatewayPods();
      const ready = (gw.status?.replicas ?? []).filter((r) => r.ready && r.egressIP && r.node);
      const podReady = (p: PodJson): boolean =>
        p.status?.phase === "Running" &&
        p.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
      const nodes = new Set(ready.map((r) => r.node));
      last = `pods ${pods.map((p) => `${p.metadata.name}@${p.spec?.nodeName ?? "?"}`).join(",")}; ready ${ready
        .map((r) => `${r.name}@${r.node ?? "?"}`)
        .join(",")}`;
      if (
        pods.length === this.replicas &&
        pods.every((p) => podReady(p) && p.metadata.annotations?.[ANN_GATEWAY_TERMINATING] === undefined) &&
        ready.length === this.replicas &&
        nodes.size === this.replicas &&
        this.gatewayNodes.every((n) => nodes.has(n))
      )
        return ready.map((r) => ({ name: r.name, node: r.node ?? "", egressIP: r.egressIP ?? "" }));
      // Two replicas on one node while another gateway node has none: move one (not while a
      // drain or a replacement is still settling).
      const byNode = new Map<string, PodJson[]>();
      for (const p of pods)
        byNode.set(p.spec?.nodeName ?? "", [...(byNode.get(p.spec?.nodeName ?? "") ?? []), p]);
      const crowded = [...byNode.values()].find((ps) => ps.length > 1);
      const settled =
        pods.length === this.replicas &&
        pods.every((p) => p.metadata.annotations?.[ANN_GATEWAY_TERMINATING] === undefined);
      if (crowded && settled && Date.now() - lastDelete > 20_000) {
        const move = [...crowded].sort((a, b) => ordinal(b.metadata.name) - ordinal(a.metadata.name))[0];
        if (move) {
          await this.session.egw("delete", "pod", "-n", NAMESPACE, move.metadata.name);
          lastDelete = Date.now();
        }
      }
      if (Date.now() > deadline)
        throw new Error(`lab ${this.name}: no initial state after ${timeoutMs} ms: ${last}`);
      await sleep(500);
    }
  }

  /** The replica a drain takes: a scale-down retires the highest index. */
  drainVictim(replicas: readonly Replica[]): Replica | undefined {
    return [...replicas].sort((a, b) => ordinal(b.name) - ordinal(a.name))[0];
  }

  supports(s: Scenario): boolean {
    return s !== "node-cut" || this.features.nodeCut;
  }

  /** Injects the fault; resolves when the command that does it has returned. */
  async fault(s: Scenario, victim: Replica): Promise<void> {
    const egw = this.session.egw;
    switch (s) {
      case "node-cut":
        this.cut.add(victim.node);
        await egw("lab", "node", "cut", victim.node);
        return;
      case "pod-delete":
        await egw("delete", "pod", "-n", NAMESPACE, victim.name);
        return;
      case "upstream":
        this.upstreamDown.add(victim.name);
        await egw("lab", "gateway", "upstream", `${NAMESPACE}/${victim.name}`, "down");
        return;
      case "drain":
        this.scaledDown = true;
        await this.session.apply(gatewayYaml(this.replicas - 1));
        return;
    }
  }

  /** The replica the drain actually retired, once the controller marked it (undefined if none in time). */
  async draining(timeoutMs = 10_000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const p = (await this.gatewayPods()).find((x) => x.metadata.annotations?.[ANN_GATEWAY_TERMINATING]);
      if (p) return p.metadata.name;
      await sleep(100);
    }
    return undefined;
  }

  /** Undoes every fault still in place. */
  async restore(): Promise<void> {
    for (const node of this.cut) await this.session.egw("lab", "node", "restore", node);
    this.cut.clear();
    for (const pod of this.upstreamDown) {
      // The replica may be gone (replaced meanwhile); then there is nothing to undo.
      await runEgw(this.session.env, ["lab", "gateway", "upstream", `${NAMESPACE}/${pod}`, "up"]);
    }
    this.upstreamDown.clear();
    if (this.scaledDown) await this.session.apply(gatewayYaml(this.replicas));
    this.scaledDown = false;
  }
}
