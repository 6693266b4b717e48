// `egw get KIND [NAME...] [-n NS | -A] [-o table|wide|yaml|json] [-l SELECTOR]`.
import { Option, type Command } from "commander";
import type { KindInfo } from "../../api/kinds.js";
import type { ObjectRef, Resource } from "../../api/meta.js";
import { formatSelectorError } from "../../selector/errors.js";
import { parseSelector } from "../../selector/selector.js";
import { orFail, type CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";
import { notFoundText, resolveKindName } from "../kinds.js";
import { readReplicaVisibility } from "../gateway-replicas.js";
import { sessionsByPeer, type SessionsByPeer } from "../routing-view.js";
import {
  OUTPUT_FORMATS,
  renderResources,
  type OutputFormat,
  type ReplicaVisibilityByGateway,
} from "../output.js";

interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  output: OutputFormat;
  selector?: string;
}

/** Resolves the KIND argument or stops with the list of valid kinds. */
export const kindOrFail = (name: string): KindInfo => {
  const r = resolveKindName(name);
  if (!r.ok) throw new CliError(r.error);
  return r.value;
};

const byNamespaceThenName = (a: Resource, b: Resource): number =>
  (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
  a.metadata.name.localeCompare(b.metadata.name);

/** Where a namespaced kind is read from; undefined = every namespace (or a cluster kind). */
export const targetNamespace = (
  ctx: CliContext,
  info: KindInfo,
  opts: { namespace?: string; allNamespaces?: boolean },
): string | undefined => (info.namespaced && !opts.allNamespaces ? ctx.namespace(opts.namespace) : undefined);

export const refFor = (info: KindInfo, name: string, namespace: string | undefined): ObjectRef =>
  info.namespaced && namespace !== undefined
    ? { kind: info.kind, namespace, name }
    : { kind: info.kind, name };

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("get")
    .description("list resources of a kind, or show named ones")
    .argument("<kind>", "kind: singular, plural or short name (e.g. egressgateways, egw, ippool, gnp)")
    .argument("[names...]", "object names (all objects when omitted)")
    .option(
      "-n, --namespace <ns>",
      "namespace (namespaced kinds; default: EGW_NAMESPACE, config, or default)",
    )
    .option("-A, --all-namespaces", "list across all namespaces")
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table"))
    .option(
      "-l, --selector <selector>",
      "only objects whose labels match this selector, e.g. \"app == 'web'\"",
    )
    .action(async (kindArg: string, names: string[], opts: GetOptions) => {
      const info = kindOrFail(kindArg);
      if (opts.allNamespaces && opts.namespace !== undefined)
        throw new CliError("use either -n/--namespace or -A/--all-namespaces, not both", EXIT_USAGE);
      if (opts.allNamespaces && names.length > 0)
        throw new CliError("a name cannot be combined with -A/--all-namespaces; give -n instead", EXIT_USAGE);
      const selector = opts.selector === undefined ? undefined : parseSelector(opts.selector);
      if (selector && !selector.ok) throw new CliError(`-l: ${formatSelectorError(selector.error)}`);
      const namespace = targetNamespace(ctx, info, opts);
      const store = await ctx.datastore();

      let found: Resource[];
      const missing: string[] = [];
      if (names.length > 0) {
        found = [];
        for (const name of names) {
          const ref = refFor(info, name, namespace);
          const r = await store.get(ref);
          if (r.ok) found.push(r.value);
          else if (r.error.code === "NotFound") missing.push(notFoundText(ref));
          else orFail(ctx, r, `${info.kind.toLowerCase()} "${name}"`);
        }
      } else {
        const listed = orFail(ctx, await store.list(info.kind, namespace === undefined ? {} : { namespace }));
        found = [...listed.items].sort(byNamespaceThenName);
      }
      if (selector?.ok) found = found.filter((r) => selector.value.matches(r.metadata.labels ?? {}));

      // -o wide adds what clients, the replicas themselves and drains say about each replica.
      let replicas: ReplicaVisibilityByGateway | undefined;
      if (info.kind === "EgressGateway" && opts.output === "wide" && found.length > 0) {
        const read = await readReplicaVisibility(store, found);
        if (read.ok) replicas = read.value;
        else
          ctx.io.stderr(
            `warning: replica liveness, upstream and drain columns left out: ${ctx.describeDatastoreError(read.error)}\n`,
          );
      }
      // -o wide adds how many nodes have each BGPPeer's session Established (from Node status.bgp).
      let sessions: SessionsByPeer | undefined;
      if (info.kind === "BGPPeer" && opts.output === "wide" && found.length > 0) {
        const nodes = await store.list("Node");
        if (nodes.ok) sessions = sessionsByPeer(nodes.value.items);
        else
          ctx.io.stderr(`warning: ESTABLISHED column left out: ${ctx.describeDatastoreError(nodes.error)}\n`);
      }
      const structured = opts.output === "yaml" || opts.output === "json";
      if (found.length > 0 || (structured && names.length === 0)) {
        ctx.io.stdout(
          renderResources(found, {
            format: opts.output,
            kind: info.kind,
            allNamespaces: Boolean(opts.allNamespaces) && info.namespaced,
            single: names.length === 1 && found.length === 1,
            now: ctx.io.now(),
            ...(replicas === undefined ? {} : { replicas }),
            ...(sessions === undefined ? {} : { sessions }),
          }),
        );
      } else if (names.length === 0) {
        ctx.io.stderr(
          namespace === undefined
            ? "No resources found.\n"
            : `No resources found in ${namespace} namespace.\n`,
        );
      }
      if (missing.length > 0) throw new CliError(missing);
    });
};
