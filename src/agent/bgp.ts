// The agent's BGP speaker: keeps the node's BIRD (a process of its own, so an agent restart does
// not drop sessions) running the config that announces this node's egress IPs. It mirrors the
// BGP resources (BGPConfiguration, BGPPeer, Secrets in egw-system), decides with bgp-announce.ts
// from them and the pods and pools in the agent's ClusterIndex (already watched), renders
// (routing/bird-config.ts) and applies (routing/bird-control.ts: check → swap → configure, the
// last good file kept on any failure). Passes are coalesced and run beside the dataplane loop,
// never inside it; a periodic pass retries a failed apply and reads BIRD's state into Node
// status.bgp (bgp-status.ts) and the metrics. It never restarts BIRD.
import type { Resource } from "../api/meta.js";
import type { NodeBgpStatus, Secret } from "../api/schemas/core.js";
import type { BGPConfiguration, BGPPeer } from "../api/schemas/routing.js";
import type { ClusterIndex } from "../calc/snapshot.js";
import { periodic, retryUntilOk, Sleeper, type Clock, type Periodic } from "../daemon/clock.js";
import { Coalescer } from "../daemon/coalescer.js";
import type { Metrics } from "../daemon/metrics.js";
import { ResourceMirror } from "../daemon/mirror.js";
import type { Datastore } from "../datastore/types.js";
import { renderNodeBirdConfig } from "../routing/bird-config.js";
import { applyConfig, readState, type BirdControlError, type BirdState } from "../routing/bird-control.js";
import type { Logger } from "../util/log.js";
import type { Result } from "../util/result.js";
import { SECRET_NAMESPACE } from "../api/well-known.js";
import { nodeBgpIntent, type BgpPeerIntent, type NodeBgpIntent } from "./bgp-announce.js";
import { nodeBgpStatus } from "./bgp-status.js";
import { NodeStatusFieldPublisher } from "./node-status-field.js";

/** How the speaker reaches BIRD (bird-control.ts; a fake in tests). */
export interface BirdPort {
  apply(text: string): Promise<Result<void, BirdControlError>>;
  read(): Promise<Result<BirdState, BirdControlError>>;
}

export const birdPort = (bird: { socket: string; configPath: string }): BirdPort => ({
  apply: (text) => applyConfig({ socket: bird.socket, configPath: bird.configPath }, text),
  read: () => readState({ socket: bird.socket }),
});

export interface BgpSpeakerOptions {
  store: Datastore;
  node: string;
  /** The agent's index: this node, its IP and its pods. */
  index: ClusterIndex;
  bird: BirdPort;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Status read and retry interval; default 5000 ms. */
  intervalMs?: number;
  /** Changes within this window make one pass; default 100 ms. */
  debounceMs?: number;
  /** Write Node status.bgp; default true. */
  publishStatus?: boolean;
}

/** The speaker's series (registered on the agent's Metrics). */
export const registerBgpMetrics = (m: Metrics): Metrics =>
  m
    .gauge(
      "egw_agent_bgp_peer_state",
      "BGP session with each peer: 1 for its current state (label state: Established, Active, Idle, …), 0 for states it left",
    )
    .gauge("egw_agent_bgp_announced", "Egress IP prefixes this node announces over BGP")
    .gauge("egw_agent_bgp_config_applied", "1 if BIRD runs the last rendered config, 0 if it was refused");

const errorText = (e: BirdControlError): string => `${e.step}: ${e.message}`;

export class BgpSpeaker {
  private readonly mirror: ResourceMirror;
  private readonly coalescer: Coalescer;
  private readonly sleeper: Sleeper;
  private readonly publisher: NodeStatusFieldPublisher<NodeBgpStatus> | undefined;
  private readonly configurations = new Map<string, BGPConfiguration>();
  private readonly peers = new Map<string, BGPPeer>();
  private readonly secrets = new Map<string, Secret>();
  private synced = false;
  private tick: Periodic | undefined;
  private stopped = false;
  /** The config text BIRD runs (last accepted) and what it says. */
  private appliedText: string | undefined;
  private applied: NodeBgpIntent | undefined;
  private applyError: string | undefined;
  private loggedError: string | undefined;
  /** Peers that have a metric series (so a removed peer's series can be zeroed). */
  private readonly metricPeers = new Map<string, string>();

  constructor(private readonly o: BgpSpeakerOptions) {
    this.sleeper = new Sleeper(o.clock);
    this.coalescer = new Coalescer(
      o.clock,
      o.debounceMs ?? 100,
      () => this.pass(),
      (e) => o.log.error("BGP pass failed", { error: String(e) }),
    );
    if (o.publishStatus !== false)
      this.publisher = new NodeStatusFieldPublisher("bgp", {
        store: o.store,
        node: o.node,
        clock: o.clock,
        log: o.log,
      });
    this.mirror = new ResourceMirror(
      o.store,
      [{ kind: "BGPConfiguration" }, { kind: "BGPPeer" }, { kind: "Secret", namespace: SECRET_NAMESPACE }],
      {
        upsert: (kind, obj) => this.record(kind, obj, true),
        remove: (kind, obj) => this.record(kind, obj, false),
        changed: () => this.trigger(),
        skipped: (kind, problem) => o.log.warn("skipping malformed object", { kind, problem }),
      },
    );
  }

  /** Lists and watches the BGP resources (retrying), then keeps BIRD in step. */
  async start(): Promise<void> {
    await retryUntilOk(() => this.mirror.start(), {
      sleeper: this.sleeper,
      firstMs: 1000,
      maxMs: this.o.intervalMs ?? 5000,
      stopped: () => this.stopped,
      onError: (error, retryInMs) =>
        this.o.log.error("cannot load BGP resources; retrying", { error, retryInMs }),
    });
    if (this.stopped) return;
    this.synced = true;
    this.o.log.info("BGP speaker started", {
      peers: this.peers.size,
      configurations: this.configurations.size,
    });
    this.trigger();
    this.tick = periodic(this.o.clock, this.o.intervalMs ?? 5000, () => this.trigger());
  }

  /** Something this node announces may have changed (pods, nodes): recompute soon. */
  trigger(): void {
    if (this.synced) this.coalescer.trigger();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    this.tick?.stop();
    await this.mirror.stop();
    await this.coalescer.stop();
    await this.publisher?.stop();
  }

  /** Keeps the mirrored BGP resources. */
  private record(kind: string, obj: Resource, present: boolean): void {
    const name = obj.metadata.name;
    switch (kind) {
      case "BGPConfiguration":
        if (present) this.configurations.set(name, obj as unknown as BGPConfiguration);
        else this.configurations.delete(name);
        return;
      case "BGPPeer":
        if (present) this.peers.set(name, obj as unknown as BGPPeer);
        else this.peers.delete(name);
        return;
      case "Secret":
        if (present) this.secrets.set(name, obj as unknown as Secret);
        else this.secrets.delete(name);
        return;
    }
  }

  /** One pass: decide, render, apply if changed, read BIRD, publish. */
  private async pass(): Promise<void> {
    const ix = this.o.index;
    const intent = nodeBgpIntent(
      {
        configurations: [...this.configurations.values()],
        peers: [...this.peers.values()],
        secrets: [...this.secrets.values()],
        pools: ix.allIPPools(),
      },
      { node: ix.node(this.o.node), nodeIP: ix.nodeIP(this.o.node), pods: ix.podsOnNode(this.o.node) },
    );
    if (intent.config !== undefined) {
      const text = renderNodeBirdConfig(intent.config);
      if (!text.ok) this.failed(`render: ${text.error.join("; ")}`);
      else if (text.value === this.appliedText) this.succeeded(intent, text.value, false);
      else {
        const r = await this.o.bird.apply(text.value);
        if (r.ok) this.succeeded(intent, text.value, true);
        else this.failed(errorText(r.error));
      }
    }
    const state = await this.o.bird.read();
    this.publish(intent, state);
  }

  private succeeded(intent: NodeBgpIntent, text: string, changed: boolean): void {
    if (changed)
      this.o.log.info("BIRD reconfigured", {
        peers: intent.peers.map((p) => p.name),
        announced: intent.announced,
      });
    if (this.applyError !== undefined && changed) this.o.log.info("BIRD accepted the config again");
    this.appliedText = text;
    this.applied = intent;
    this.applyError = undefined;
    this.loggedError = undefined;
  }

  private failed(error: string): void {
    this.applyError = error;
    if (error !== this.loggedError)
      this.o.log.warn(
        "BIRD config not applied; the last good one stays, retrying on the next change or resync",
        {
          error,
        },
      );
    this.loggedError = error;
  }

  private publish(intent: NodeBgpIntent, state: Result<BirdState, BirdControlError>): void {
    const bird = state.ok ? state : { ok: false as const, error: errorText(state.error) };
    if (!intent.enabled && this.applyError === undefined) {
      this.publisher?.offer(undefined);
    } else {
      const status = nodeBgpStatus({
        applied: this.applied,
        applyError: this.applyError,
        problems: intent.problems,
        bird,
      });
      this.publisher?.offer(status);
      this.setPeerMetrics(status.peers ?? []);
    }
    const m = this.o.metrics;
    m.set("egw_agent_bgp_announced", this.applied?.announced.length ?? 0);
    m.set("egw_agent_bgp_config_applied", this.applyError === undefined ? 1 : 0);
    if (!intent.enabled) this.setPeerMetrics([]);
  }

  private setPeerMetrics(peers: readonly { name: string; state: string }[]): void {
    const m = this.o.metrics;
    const now = new Map(peers.map((p) => [p.name, p.state]));
    for (const [name, state] of this.metricPeers)
      if (now.get(name) !== state) m.set("egw_agent_bgp_peer_state", 0, { peer: name, state });
    for (const [name, state] of now) m.set("egw_agent_bgp_peer_state", 1, { peer: name, state });
    this.metricPeers.clear();
    for (const [k, v] of now) this.metricPeers.set(k, v);
  }

  /** For tests and diagnostics: the peers and prefixes of the config BIRD runs. */
  appliedIntent(): { peers: readonly BgpPeerIntent[]; announced: readonly string[] } | undefined {
    return this.applied;
  }
}
