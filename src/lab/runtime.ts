// The lab's kubelet + CNI: watches Pods and Namespaces, and makes the kernel match them and the
// Pods' status match the kernel. Level-triggered: every change (coalesced) and a periodic resync
// run one reconcile over the whole lab, so a restart adopts what exists. One pass: restart dead
// agents and nodes' BIRDs (agent-supervision.ts), decide and carry out the pod actions (pod-actions.ts,
// pod-wiring.ts), then serve the gateway replica pods (gateway-supervision.ts). Nodes cut off the
// network (partition.ts) are left alone until they are restored.
import { periodic, systemClock, type Clock, type Periodic } from "../daemon/clock.js";
import { Coalescer } from "../daemon/coalescer.js";
import type { Datastore, WatchHandle } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { superviseAgents, type AgentSupervision } from "./agent-supervision.js";
import { superviseGateways, type GatewaySupervision } from "./gateway-supervision.js";
import { listNetns } from "./netns.js";
import { frozenBy, NOTHING_FROZEN, type CutNodes } from "./partition.js";
import { podActions, podView } from "./pod-actions.js";
import { PodWiring } from "./pod-wiring.js";
import { superviseRouterBird, type RouterBirdSupervision } from "./router-supervision.js";
import type { LabTopology } from "./topology.js";

export interface RuntimeOptions {
  store: Datastore;
  topology: LabTopology;
  log: (line: string) => void;
  resyncMs?: number;
  gateways?: GatewaySupervision;
  agents?: AgentSupervision;
  /** The nodes' BIRDs, restarted like the agents (node-bird.ts). */
  nodeBirds?: AgentSupervision;
  /** The router's BIRD in a BGP lab, restarted likewise (router-supervision.ts). */
  routerBird?: RouterBirdSupervision;
  /** The nodes `egw lab node cut` took off the network (partition.ts): left alone until restored. */
  cutNodes?: () => CutNodes;
  clock?: Clock;
}

export class LabRuntime {
  private readonly watches: WatchHandle[] = [];
  private readonly clock: Clock;
  private readonly coalescer: Coalescer;
  private readonly pods: PodWiring;
  private resync: Periodic | undefined;
  private stopped = false;

  constructor(private readonly opts: RuntimeOptions) {
    this.clock = opts.clock ?? systemClock();
    this.pods = new PodWiring(opts.store, opts.log);
    this.coalescer = new Coalescer(
      this.clock,
      0,
      async () => {
        if (this.stopped) return;
        const r = await this.reconcile();
        if (!r.ok) this.opts.log(`reconcile failed (will retry): ${r.error}`);
      },
      (e) =>
        this.opts.log(
          `reconcile failed unexpectedly (will retry): ${e instanceof Error ? e.message : String(e)}`,
        ),
    );
  }

  /** Reconciles once, then follows changes until stop(). */
  async start(): Promise<Result<void, string>> {
    const first = await this.reconcile();
    if (!first.ok) return first;
    for (const kind of ["Pod", "Namespace"]) {
      this.watches.push(this.opts.store.watch({ kind }, () => this.coalescer.trigger()));
    }
    this.resync?.stop();
    this.resync = periodic(this.clock, this.opts.resyncMs ?? 5000, () => this.coalescer.trigger());
    return ok(undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resync?.stop();
    await Promise.all(this.watches.map((w) => w.stop()));
    await this.coalescer.stop();
  }

  /** One pass: read the datastore and the kernel, decide, act. */
  async reconcile(): Promise<Result<void, string>> {
    const { store, topology, log } = this.opts;
    // First, so neither a busy pass nor an unreachable datastore delays a dead agent's restart.
    const agents = this.opts.agents ? superviseAgents(this.opts.agents, topology, log) : ok(undefined);
    const birds = this.opts.nodeBirds ? superviseAgents(this.opts.nodeBirds, topology, log) : ok(undefined);
    if (!birds.ok) log(`cannot restart a node's BIRD (will retry): ${birds.error}`);
    const router = this.opts.routerBird ? superviseRouterBird(this.opts.routerBird, log) : ok(undefined);
    if (!router.ok) log(`cannot restart the router's BIRD (will retry): ${router.error}`);
    const frozen = this.opts.cutNodes ? frozenBy(topology.lab, this.opts.cutNodes()) : NOTHING_FROZEN;
    const pods = await store.list("Pod");
    if (!pods.ok) return err(`cannot list pods: ${pods.error.message}`);
    const namespaces = await store.list("Namespace");
    if (!namespaces.ok) return err(`cannot list namespaces: ${namespaces.error.message}`);
    const actions = podActions({
      lab: topology.lab,
      nodes: topology.nodes,
      pods: pods.value.items.map(podView),
      namespaces: new Set(namespaces.value.items.map((n) => n.metadata.name)),
      existingNetns: listNetns(),
      frozen,
    });
    for (const a of actions) await this.pods.apply(a);
    if (!this.opts.gateways) return agents;
    // Pods just wired have their status now: read again so their gateways start in this pass.
    const current = actions.length === 0 ? pods : await store.list("Pod");
    if (!current.ok) return err(`cannot list pods: ${current.error.message}`);
    const gateways = await superviseGateways(current.value.items, this.opts.gateways, topology, log, frozen);
    if (!agents.ok && !gateways.ok) return err(`${agents.error}; ${gateways.error}`);
    return agents.ok ? gateways : agents;
  }
}
