// `egw cordon node NAME`, `egw uncordon node NAME`, `egw drain node NAME [--timeout D]`: node
// maintenance for gateway replicas, as kubectl's commands of the same names. Cordoning sets the
// Node's spec.unschedulable: the controller places no new replica there and replaces the ones
// there through the rolling update (a new replica elsewhere first, then the old one drains for its
// grace period and goes). `drain` cordons and waits until no gateway replica is left on the node.
// Other pods are not egw's to move: they stay.
import type { Command } from "commander";
import type { ObjectRef, Resource } from "../../api/meta.js";
import { ANN_GATEWAY_OWNER, ANN_GATEWAY_TERMINATING } from "../../api/well-known.js";
import { readModifyWrite } from "../../datastore/read-modify-write.js";
import { compareStrings } from "../../util/compare.js";
import { sleep } from "../../util/wait.js";
import { orFail, type CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { notFoundText } from "../kinds.js";

/** Milliseconds in a duration like kubectl's --timeout (`90s`, `2m`, `1h30m`, `500ms`; `0` = none). */
export const parseDuration = (text: string): number | undefined => {
  if (text === "0") return 0;
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(m[1]) * (unit[m[2] ?? "s"] ?? 0);
  return ms;
};

/** A gateway replica on the node being drained, as the command reports it. */
export interface ReplicaOnNode {
  /** `namespace/name`. */
  key: string;
  name: string;
  /** The drain deadline, once it drains. */
  drainingUntil?: string;
}

/** The gateway replica pods on `node`, by key. */
export const replicasOnNode = (pods: readonly Resource[], node: string): ReplicaOnNode[] =>
  pods
    .filter(
      (p) =>
        p.metadata.annotations?.[ANN_GATEWAY_OWNER] !== undefined &&
        (p.spec as { nodeName?: unknown } | undefined)?.nodeName === node,
    )
    .map((p) => {
      const until = p.metadata.annotations?.[ANN_GATEWAY_TERMINATING];
      return {
        key: `${p.metadata.namespace ?? ""}/${p.metadata.name}`,
        name: p.metadata.name,
        ...(until === undefined ? {} : { drainingUntil: until }),
      };
    })
    .sort((a, b) => compareStrings(a.key, b.key));

/** What the wait says about one replica that is still there. */
const waitingFor = (r: ReplicaOnNode): string =>
  r.drainingUntil !== undefined
    ? `${r.key} (draining until ${r.drainingUntil})`
    : `${r.key} (serving until a replacement is available elsewhere)`;

const nodeRef = (name: string): ObjectRef => ({ kind: "Node", name });

/** Sets or clears spec.unschedulable; returns whether it changed. */
const setUnschedulable = async (ctx: CliContext, name: string, cordon: boolean): Promise<boolean> => {
  const store = await ctx.datastore();
  const r = orFail(
    ctx,
    await readModifyWrite(store, nodeRef(name), (node) => {
      const spec = { ...((node.spec as Record<string, unknown> | undefined) ?? {}) };
      if ((spec.unschedulable === true) === cordon) return undefined;
      if (cordon) spec.unschedulable = true;
      else delete spec.unschedulable;
      return { ...node, spec };
    }),
    `node/${name}`,
  );
  if (r.kind === "absent") throw new CliError(notFoundText(nodeRef(name)));
  return r.kind === "written";
};

const cordon = async (ctx: CliContext, name: string): Promise<void> => {
  const changed = await setUnschedulable(ctx, name, true);
  ctx.io.stdout(`node/${name} ${changed ? "cordoned" : "already cordoned"}\n`);
};

/** Cordons, then waits until the controller has moved every gateway replica off the node. */
const drain = async (ctx: CliContext, name: string, timeoutMs: number): Promise<void> => {
  await cordon(ctx, name);
  const store = await ctx.datastore();
  const started = ctx.io.now().getTime();
  const seen = new Map<string, ReplicaOnNode>();
  for (;;) {
    const pods = orFail(ctx, await store.list("Pod"), "listing pods");
    const here = replicasOnNode(pods.items, name);
    for (const r of here) {
      if (!seen.has(r.key)) ctx.io.stdout(`evicting pod ${r.key}\n`);
      seen.set(r.key, r);
    }
    const left = new Set(here.map((r) => r.key));
    for (const [key, r] of seen) {
      if (left.has(key)) continue;
      ctx.io.stdout(`pod/${r.name} evicted\n`);
      seen.delete(key);
    }
    if (here.length === 0) break;
    if (timeoutMs > 0 && ctx.io.now().getTime() - started >= timeoutMs)
      throw new CliError(
        `unable to drain node "${name}": timed out after ${timeoutMs / 1000}s waiting for ` +
          `${here.map(waitingFor).join(", ")}; the node stays cordoned (egw uncordon node ${name})`,
      );
    await sleep(500);
  }
  ctx.io.stdout(`node/${name} drained\n`);
};

/** `KIND NAME` where the only kind is node (as kubectl's `drain NODE`, with the kind spelled out). */
const nodeName = (kind: string, name: string | undefined): string => {
  if (!["node", "nodes", "no"].includes(kind))
    throw new CliError(`only nodes can be cordoned or drained, not ${JSON.stringify(kind)}`, EXIT_USAGE);
  if (name === undefined || name === "") throw new CliError("give the node's name", EXIT_USAGE);
  return name;
};

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("cordon")
    .description("mark a node unschedulable: no new gateway replica is placed there")
    .argument("<kind>", "node")
    .argument("<name>", "the node's name")
    .action(async (kind: string, name: string) => cordon(ctx, nodeName(kind, name)));
  program
    .command("uncordon")
    .description("mark a node schedulable again")
    .argument("<kind>", "node")
    .argument("<name>", "the node's name")
    .action(async (kind: string, name: string) => {
      const node = nodeName(kind, name);
      const changed = await setUnschedulable(ctx, node, false);
      ctx.io.stdout(`node/${node} ${changed ? "uncordoned" : "already uncordoned"}\n`);
    });
  program
    .command("drain")
    .description(
      "cordon a node and wait until its gateway replicas are replaced elsewhere and drained (other pods stay)",
    )
    .argument("<kind>", "node")
    .argument("<name>", "the node's name")
    .option(
      "--timeout <duration>",
      "give up after this long, e.g. 90s or 5m (0: wait as long as it takes)",
      "0",
    )
    .action(async (kind: string, name: string, opts: { timeout: string }) => {
      const node = nodeName(kind, name);
      const timeoutMs = parseDuration(opts.timeout);
      if (timeoutMs === undefined)
        throw new CliError(
          `--timeout ${JSON.stringify(opts.timeout)} is not a duration: expected e.g. 90s, 5m, 1h30m or 0`,
          EXIT_USAGE,
        );
      await drain(ctx, node, timeoutMs);
    });
};
