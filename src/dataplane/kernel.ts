// Kernel I/O through a Runner: read-backs with `ip -json`, `bridge -json`, `nft -j`, `sysctl -n`,
// and writes batched into one `ip -batch -`, `bridge -batch -` or `nft -f -` call each.
// Every function returns errors as values naming the command and what the tool said.
import { err, ok, type Result } from "../util/result.js";
import { inRuleBand, inTableBand } from "./config.js";
import type { RoutingObserved } from "./diff.js";
import { gatewayGroupsOf, type TableGatewayGroup } from "./kernel-groups.js";
import type {
  NftShape,
  ObservedFdb,
  ObservedLink,
  ObservedNeighbour,
  ObservedNexthop,
  ObservedNft,
  ObservedRoute,
  ObservedRule,
  Sysctls,
  VxlanLink,
} from "./model.js";
import {
  parseFdb,
  parseJson,
  parseLink,
  parseNeighbours,
  parseNexthops,
  parseNft,
  parseRoutes,
  parseRules,
  parseKernelSlots,
} from "./parse.js";
import { holdsElements, kernelElements } from "./nft/json.js";
import type { Table } from "./nft/objects.js";
import type { KernelSlots } from "./slots.js";
import type { Runner } from "./runner.js";

const failure = (runner: Runner, argv: readonly string[], stderr: string): string =>
  `${argv.join(" ")} (${runner.where}) failed: ${stderr.trim() || "no error output"}`;

async function readJson(runner: Runner, argv: string[]): Promise<Result<unknown, string>> {
  const r = await runner.run(argv);
  if (r.code !== 0) return err(failure(runner, argv, r.stderr));
  const json = parseJson(r.stdout);
  return json === undefined ? err(`${argv.join(" ")} (${runner.where}) printed invalid JSON`) : ok(json);
}

/** Runs a batch (one process for all lines); an empty batch costs nothing. */
export async function runBatch(
  runner: Runner,
  tool: "ip" | "bridge",
  lines: readonly string[],
): Promise<Result<void, string>> {
  if (lines.length === 0) return ok(undefined);
  const argv = [tool, "-batch", "-"];
  const r = await runner.run(argv, lines.join("\n") + "\n");
  return r.code === 0 ? ok(undefined) : err(failure(runner, argv, r.stderr));
}

export async function readLink(
  runner: Runner,
  name: string,
): Promise<Result<ObservedLink | undefined, string>> {
  const r = await runner.run(["ip", "-json", "-d", "link", "show", "dev", name]);
  if (r.code !== 0) {
    // iproute2 says `Device "x" does not exist.`: absence is a state, not an error.
    return /does not exist/i.test(r.stderr)
      ? ok(undefined)
      : err(failure(runner, ["ip", "link", "show", name], r.stderr));
  }
  return ok(parseLink(parseJson(r.stdout)));
}

/** Creates or repairs the VXLAN device. Wrong tunnel parameters mean delete and re-create. */
export async function ensureVxlan(runner: Runner, want: VxlanLink): Promise<Result<string[], string>> {
  const have = await readLink(runner, want.name);
  if (!have.ok) return have;
  const h = have.value;
  const lines: string[] = [];
  const create = `link add ${want.name} type vxlan id ${want.vni} dstport ${want.port} local ${want.local} nolearning`;
  const set = `link set ${want.name} address ${want.mac} mtu ${want.mtu} up`;
  if (h === undefined) lines.push(create, set);
  else if (h.vni !== want.vni || h.port !== want.port || h.local !== want.local || h.learning !== false)
    lines.push(`link del ${want.name}`, create, set);
  else if (h.mac !== want.mac || h.mtu !== want.mtu || !h.up) lines.push(set);
  const applied = await runBatch(runner, "ip", lines);
  return applied.ok ? ok(lines) : applied;
}

/** Writes the sysctls whose value differs; returns what it changed. */
export async function ensureSysctls(runner: Runner, want: Sysctls): Promise<Result<string[], string>> {
  const keys = Object.keys(want);
  if (keys.length === 0) return ok([]);
  const r = await runner.run(["sysctl", "-n", ...keys]);
  const values = r.stdout.split("\n");
  const changed = keys.filter((k, i) => r.code !== 0 || values[i]?.trim() !== want[k]);
  if (changed.length === 0) return ok([]);
  const argv = ["sysctl", "-qw", ...changed.map((k) => `${k}=${want[k]}`)];
  const w = await runner.run(argv);
  return w.code === 0
    ? ok(changed.map((k) => `sysctl ${k}=${want[k]}`))
    : err(failure(runner, argv, w.stderr));
}

export async function readPeers(
  runner: Runner,
  dev: string,
): Promise<Result<{ neighbours: ObservedNeighbour[]; fdb: ObservedFdb[] }, string>> {
  const n = await readJson(runner, ["ip", "-4", "-json", "neigh", "show", "dev", dev]);
  if (!n.ok) return n;
  const f = await readJson(runner, ["bridge", "-json", "fdb", "show", "dev", dev]);
  if (!f.ok) return f;
  return ok({ neighbours: parseNeighbours(n.value), fdb: parseFdb(f.value) });
}

export async function readNexthops(runner: Runner): Promise<Result<ObservedNexthop[], string>> {
  const r = await readJson(runner, ["ip", "-json", "nexthop", "show"]);
  return r.ok ? ok(parseNexthops(r.value)) : r;
}

/** Routes of egw's tables only. */
export async function readBandRoutes(runner: Runner): Promise<Result<ObservedRoute[], string>> {
  const r = await readJson(runner, ["ip", "-4", "-json", "route", "show", "table", "all"]);
  return r.ok ? ok(parseRoutes(r.value).filter((x) => inTableBand(x.table))) : r;
}

/** Main-table routes through one device (the gateway's return routes). */
export async function readDeviceRoutes(
  runner: Runner,
  dev: string,
): Promise<Result<ObservedRoute[], string>> {
  const r = await readJson(runner, ["ip", "-4", "-json", "route", "show", "table", "main", "dev", dev]);
  return r.ok ? ok(parseRoutes(r.value, 254).map((x) => ({ ...x, dev }))) : r;
}

/** Rules at egw's priorities only. */
export async function readBandRules(runner: Runner): Promise<Result<ObservedRule[], string>> {
  const r = await readJson(runner, ["ip", "-4", "-json", "rule", "show"]);
  return r.ok ? ok(parseRules(r.value).filter((x) => inRuleBand(x.priority))) : r;
}

/**
 * `nft -j list table inet <table>` as JSON; undefined when the table does not exist (absence is a
 * state, not an error). Internal to the dataplane (not exported from index.ts).
 */
export async function readNftJson(
  runner: Runner,
  table: string,
): Promise<Result<unknown | undefined, string>> {
  const argv = ["nft", "-j", "list", "table", "inet", table];
  const r = await runner.run(argv);
  if (r.code !== 0) {
    return /No such file or directory|does not exist/i.test(r.stderr)
      ? ok(undefined)
      : err(failure(runner, argv, r.stderr));
  }
  const json = parseJson(r.stdout);
  return json === undefined ? err(`${argv.join(" ")} (${runner.where}) printed invalid JSON`) : ok(json);
}

export async function readNft(runner: Runner, table: string): Promise<Result<ObservedNft, string>> {
  const r = await readNftJson(runner, table);
  if (!r.ok) return r;
  return ok(r.value === undefined ? { exists: false, chains: {}, sets: {} } : parseNft(r.value));
}

/**
 * Workload IP → gateway-set slot and replica IP → pin slot, as the node's nft table has them
 * today (empty when egw has no table yet). A restarted node dataplane adopts them (slots.ts) so
 * sets and pins keep the slots their connections' conntrack marks name.
 */
export async function readKernelSlots(runner: Runner, table: string): Promise<Result<KernelSlots, string>> {
  const r = await readNftJson(runner, table);
  if (!r.ok) return r;
  return ok(r.value === undefined ? { workloads: new Map(), pins: new Map() } : parseKernelSlots(r.value));
}

/** Workload IP → gateway-set slot (readKernelSlots without the pins). */
export async function readWorkloadSlots(
  runner: Runner,
  table: string,
): Promise<Result<Map<string, number>, string>> {
  const r = await readKernelSlots(runner, table);
  return r.ok ? ok(r.value.workloads) : r;
}

/**
 * What egw's bands hold in this netns — every nexthop, the routes of egw's tables, the rules at
 * egw's priorities — as diffRouting takes it. The three read-backs run at once.
 */
export async function readBandRouting(runner: Runner): Promise<Result<RoutingObserved, string>> {
  const [nexthops, routes, rules] = await Promise.all([
    readNexthops(runner),
    readBandRoutes(runner),
    readBandRules(runner),
  ]);
  if (!nexthops.ok) return nexthops;
  if (!routes.ok) return routes;
  if (!rules.ok) return rules;
  return ok({ nexthops: nexthops.value, routes: routes.value, rules: rules.value });
}

/** The gateway groups egw's tables route through now (empty on a fresh node). */
export async function readGatewayGroups(runner: Runner): Promise<Result<TableGatewayGroup[], string>> {
  const routes = await readBandRoutes(runner);
  if (!routes.ok) return routes;
  const nexthops = await readNexthops(runner);
  if (!nexthops.ok) return nexthops;
  return ok(gatewayGroupsOf(routes.value, nexthops.value));
}

/** The node table as the kernel holds it: outline and counter values, and the listing itself. */
export interface ObservedNodeNft extends ObservedNft {
  /** `nft -j list table` output, for reading the elements when the outline matches. */
  json: unknown;
}

/** Reads the node table once (`nft -j list table`). */
export async function readNodeNft(runner: Runner, table: string): Promise<Result<ObservedNodeNft, string>> {
  const r = await readNftJson(runner, table);
  if (!r.ok) return r;
  if (r.value === undefined) return ok({ exists: false, chains: {}, sets: {}, json: undefined });
  return ok({ ...parseNft(r.value), json: r.value });
}

/**
 * True when the kernel holds exactly the rendered node table: the outline hash (chains and set
 * declarations), every chain's rule count, and every set's and map's elements (an element update
 * leaves the marker as it is, so the elements are compared themselves, once the rest matches).
 */
export function nodeNftMatches(have: ObservedNodeNft, want: Table, shape: NftShape): boolean {
  if (!nftMatches(have, { ...shape, sets: {} })) return false;
  const elements = kernelElements(have.json);
  return want.objects.every((o) => o.kind === "chain" || holdsElements(o, elements.get(o.name)));
}

/** True when the kernel's table is exactly the rendered one (version marker and outline). */
export function nftMatches(have: ObservedNft, want: NftShape): boolean {
  if (!have.exists || have.hash !== want.hash) return false;
  const chains = Object.entries(want.chains);
  if (Object.keys(have.chains).length !== chains.length) return false;
  if (chains.some(([name, count]) => have.chains[name] !== count)) return false;
  return Object.entries(want.sets).every(([name, count]) => have.sets[name] === count);
}

/** Loads one nft transaction; on failure the kernel keeps the previous ruleset untouched. */
export async function loadNft(runner: Runner, text: string): Promise<Result<void, string>> {
  const argv = ["nft", "-f", "-"];
  const r = await runner.run(argv, text);
  return r.code === 0 ? ok(undefined) : err(failure(runner, argv, r.stderr));
}

/** Removes a whole nft table if present (teardown). */
export async function deleteNftTable(runner: Runner, table: string): Promise<Result<void, string>> {
  return loadNft(runner, `table inet ${table}\ndelete table inet ${table}\n`);
}
