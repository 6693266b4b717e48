// A lab fault for failover tests: one gateway replica loses its upstream (the path to the external
// hosts) while its tunnel keeps working, as when a gateway's uplink or its next router fails. A
// lab-owned nft table in the replica's netns drops everything to and from the external range:
// forwarded client traffic (both directions) and the replica's own probes. The tunnel (VXLAN to
// node underlay IPs), health checks from the nodes and the datastore are outside that range, so
// they are untouched — and the command needs no datastore, so it works while etcd is paused.
// This module renders the table (pure) and puts it in or takes it out of the netns; finding the
// netns from a replica's name is the caller's.
import { err, ok, type Result } from "../util/result.js";
import { runInNetns } from "./exec.js";
import { nftApply } from "./netns.js";
import { EXTERNAL_CIDR } from "./topology.js";

/** The lab's own table: never egw's (`egw_gw`), which the gateway reconciles and would remove. */
export const UPSTREAM_FAULT_TABLE = "egw_lab_upstream_fault";

export type UpstreamState = "down" | "up";

/** `NS/POD` → its parts; anything else is an error saying what a valid argument looks like. */
export const parseReplicaRef = (raw: string): Result<{ namespace: string; pod: string }, string> => {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(raw);
  if (!m?.[1] || !m[3])
    return err(`"${raw}" is not a replica: give NAMESPACE/POD, e.g. egress/shared-0 (see: egw get pods -A)`);
  return ok({ namespace: m[1], pod: m[3] });
};

/** `down` or `up`; anything else is an error naming both. */
export const parseUpstreamState = (raw: string): Result<UpstreamState, string> =>
  raw === "down" || raw === "up" ? ok(raw) : err(`"${raw}" is not a state: use down or up`);

/**
 * The nft script that sets the replica's upstream to `state`, atomically and idempotently: `down`
 * (re)creates the table, `up` removes it (declaring it first, so removing an absent one is fine).
 * Base chains run before egw's own (priority filter - 10), and a drop in any base chain is final.
 */
export const renderUpstreamFault = (state: UpstreamState, external = EXTERNAL_CIDR): string => {
  const lines = [`table inet ${UPSTREAM_FAULT_TABLE}`, `delete table inet ${UPSTREAM_FAULT_TABLE}`];
  if (state === "down") {
    const chain = (name: string, hook: string, matches: string[]): string[] => [
      `  chain ${name} {`,
      `    type filter hook ${hook} priority filter - 10; policy accept;`,
      ...matches.map((m) => `    ${m} counter drop`),
      `  }`,
    ];
    lines.push(
      `table inet ${UPSTREAM_FAULT_TABLE} {`,
      ...chain("egw_lab_forward", "forward", [`ip daddr ${external}`, `ip saddr ${external}`]),
      ...chain("egw_lab_output", "output", [`ip daddr ${external}`]),
      ...chain("egw_lab_input", "input", [`ip saddr ${external}`]),
      `}`,
    );
  }
  return `${lines.join("\n")}\n`;
};

/** Puts the fault table in (`down`) or takes it out (`up`) inside the replica's netns. */
export const setUpstream = async (netns: string, state: UpstreamState): Promise<Result<void, string>> => {
  const r = await nftApply(netns, renderUpstreamFault(state));
  return r.ok ? r : err(`cannot set the upstream ${state}: ${r.error}`);
};

/** Whether the replica's upstream is currently cut (the fault table exists in its netns). */
export const upstreamState = async (netns: string): Promise<Result<UpstreamState, string>> => {
  const r = await runInNetns(netns, "nft", ["list", "tables"]);
  if (!r.ok) return r;
  return ok(
    r.value.split("\n").some((l) => l.trim() === `table inet ${UPSTREAM_FAULT_TABLE}`) ? "down" : "up",
  );
};
