// A gateway replica's dataplane, reconciled like the node's: read → diff → apply, idempotent,
// and limited to what egw owns in the replica's netns (its VXLAN device and the routes through
// it, its nft table, the egress address it added, the liveness rules and table of egw's band).
import { err, ok, type Result } from "../util/result.js";
import { GATEWAY_NFT_TABLE, VXLAN_DEVICE, withDefaults, type DataplaneOptions } from "./config.js";
import { diffPeers, diffRouting, emptyChanges, mergeChanges, type Changes } from "./diff.js";
import {
  deleteNftTable,
  ensureSysctls,
  ensureVxlan,
  loadNft,
  nftMatches,
  readBandRouting,
  readDeviceRoutes,
  readNft,
  readPeers,
  runBatch,
} from "./kernel.js";
import type { ObservedRoute } from "./model.js";
import type { ReconcileReport } from "./node-dataplane.js";
import { parseJson } from "./parse.js";
import { renderGateway, type GatewayReplicaPlan, type GatewayRender } from "./render-gateway.js";
import type { Runner } from "./runner.js";

type Json = Record<string, unknown>;

/** Return routes: `<pod cidr> via <node underlay ip> dev egw.vxlan onlink` in the main table. */
export function diffGatewayRoutes(want: GatewayRender["routes"], have: readonly ObservedRoute[]): Changes {
  const c = emptyChanges();
  const haveByDst = new Map(have.map((r) => [r.dst, r]));
  const wantDst = new Set(want.map((r) => r.dst));
  for (const r of want)
    if (haveByDst.get(r.dst)?.gateway !== r.via)
      c.ipAdd.push(`route replace ${r.dst} via ${r.via} dev ${VXLAN_DEVICE} onlink`);
  for (const r of have) if (!wantDst.has(r.dst)) c.ipRemove.push(`route del ${r.dst} dev ${VXLAN_DEVICE}`);
  return c;
}

interface ObservedAddress {
  ip: string;
  prefix: number;
  label?: string;
}

/** The egress /32 on the uplink; other /32s carrying egw's label are stale egress IPs. */
export function diffEgressAddress(want: GatewayRender["address"], have: readonly ObservedAddress[]): Changes {
  const c = emptyChanges();
  if (!have.some((a) => a.ip === want.ip && a.prefix === 32))
    c.ipAdd.push(`addr add ${want.ip}/32 dev ${want.dev}${want.label ? ` label ${want.label}` : ""}`);
  if (want.label !== undefined)
    for (const a of have)
      if (a.label === want.label && a.ip !== want.ip)
        c.ipRemove.push(`addr del ${a.ip}/${a.prefix} dev ${want.dev}`);
  return c;
}

async function readAddresses(runner: Runner, dev: string): Promise<Result<ObservedAddress[], string>> {
  const r = await runner.run(["ip", "-4", "-json", "addr", "show", "dev", dev]);
  if (r.code !== 0) return err(`ip addr show dev ${dev} (${runner.where}) failed: ${r.stderr.trim()}`);
  const links = parseJson(r.stdout);
  if (!Array.isArray(links)) return ok([]);
  return ok(
    (links as Json[]).flatMap((l) =>
      (Array.isArray(l.addr_info) ? (l.addr_info as Json[]) : []).flatMap((a) =>
        typeof a.local === "string" && typeof a.prefixlen === "number"
          ? [{ ip: a.local, prefix: a.prefixlen, label: typeof a.label === "string" ? a.label : undefined }]
          : [],
      ),
    ),
  );
}

export class GatewayDataplane {
  private readonly options: DataplaneOptions;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly runner: Runner,
    options: Partial<DataplaneOptions> = {},
  ) {
    this.options = withDefaults(options);
  }

  reconcile(plan: GatewayReplicaPlan): Promise<Result<ReconcileReport, string>> {
    const run = this.queue.then(() => this.reconcileNow(plan));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reconcileNow(plan: GatewayReplicaPlan): Promise<Result<ReconcileReport, string>> {
    const rendered = renderGateway(plan, this.options);
    if (!rendered.ok) return err(`gateway ${plan.replica}: invalid plan: ${rendered.error.join("; ")}`);
    const r = rendered.value;
    const actions: string[] = [];
    const link = await ensureVxlan(this.runner, r.link);
    if (!link.ok) return link;
    actions.push(...link.value.map((l) => `ip ${l}`));
    const sysctls = await ensureSysctls(this.runner, r.sysctls);
    if (!sysctls.ok) return sysctls;
    actions.push(...sysctls.value);

    const peers = await readPeers(this.runner, VXLAN_DEVICE);
    if (!peers.ok) return peers;
    const routes = await readDeviceRoutes(this.runner, VXLAN_DEVICE);
    if (!routes.ok) return routes;
    const addrs = await readAddresses(this.runner, r.address.dev);
    if (!addrs.ok) return addrs;
    const liveness = await this.livenessChanges(r.liveness);
    if (!liveness.ok) return liveness;
    const c = [
      diffPeers(VXLAN_DEVICE, r.peers, peers.value.neighbours, peers.value.fdb),
      diffGatewayRoutes(r.routes, routes.value),
      diffEgressAddress(r.address, addrs.value),
      liveness.value,
    ].reduce(mergeChanges);

    for (const [tool, lines] of [
      ["bridge", c.bridgeAdd],
      ["ip", c.ipAdd],
    ] as const) {
      const applied = await runBatch(this.runner, tool, lines);
      if (!applied.ok) return applied;
      actions.push(...lines.map((l) => `${tool} ${l}`));
    }
    const nft = await readNft(this.runner, GATEWAY_NFT_TABLE);
    if (!nft.ok) return nft;
    if (!nftMatches(nft.value, r.shape)) {
      const loaded = await loadNft(this.runner, r.nft);
      if (!loaded.ok) return loaded;
      actions.push(`nft -f (replace table inet ${GATEWAY_NFT_TABLE}, plan ${r.shape.hash})`);
    }
    for (const [tool, lines] of [
      ["ip", c.ipRemove],
      ["bridge", c.bridgeRemove],
    ] as const) {
      const applied = await runBatch(this.runner, tool, lines);
      if (!applied.ok) return applied;
      actions.push(...lines.map((l) => `${tool} ${l}`));
    }
    return ok({ changes: actions.length, actions });
  }

  /** The liveness rules and table against what egw's band in this netns holds. */
  private async livenessChanges(want: GatewayRender["liveness"]): Promise<Result<Changes, string>> {
    const observed = await readBandRouting(this.runner);
    if (!observed.ok) return observed;
    const { changes, problems } = diffRouting(
      {
        device: VXLAN_DEVICE,
        groups: [],
        routes: want.routes,
        rules: want.rules,
        buckets: 0,
        idleTimerSec: 0,
      },
      observed.value,
    );
    return problems.length > 0 ? err(problems.join("; ")) : ok(changes);
  }

  /**
   * Removes the gateway's table, device (and so its routes, neighbours, FDB), liveness rules and
   * egress address.
   */
  async teardown(plan: Pick<GatewayReplicaPlan, "egressIP" | "uplink">): Promise<Result<void, string>> {
    const rules = await this.livenessChanges({ rules: [], routes: [] });
    if (rules.ok) await runBatch(this.runner, "ip", rules.value.ipRemove);
    const nft = await deleteNftTable(this.runner, GATEWAY_NFT_TABLE);
    if (!nft.ok) return nft;
    await this.runner.run(["ip", "link", "del", VXLAN_DEVICE]);
    await this.runner.run(["ip", "addr", "del", `${plan.egressIP}/32`, "dev", plan.uplink]);
    return ok(undefined);
  }
}
