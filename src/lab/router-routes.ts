// What the lab router learned by BGP (pure): joins BIRD's routes and protocols (parsed by
// routing/bird-status.ts) with the nodes they came from and with the router kernel's view, and
// formats `egw lab router routes`. Asking BIRD and the kernel is router-control.ts.
import {
  bgpInfoMessage,
  bgpStateOf,
  protocolSinceToIso,
  type BirdProtocol,
  type BirdRoute,
} from "../routing/bird-status.js";
import { formatTable } from "../util/table.js";

/** A route the router learned from a node, as `egw lab router routes` shows it. */
export interface LearnedRoute {
  prefix: string;
  /** The node whose session it came by (undefined: a protocol that is not a node's). */
  node?: string;
  nextHop?: string;
  since: string;
  /** The BGP protocol it came by and that session's state. */
  session: string;
  sessionState: string;
  /** BIRD's best path for the prefix. */
  primary: boolean;
  /** The router's kernel holds this prefix via this next hop (proto bird). */
  inKernel: boolean;
}

export interface RouterSession {
  node: string;
  protocol: string;
  state: string;
  since: string;
  info: string;
}

export interface RouterView {
  routes: LearnedRoute[];
  sessions: RouterSession[];
}

/** A kernel route of the router (`ip -j route show proto bird`). */
export interface KernelRoute {
  dst: string;
  gateway?: string;
}

const host = (dst: string): string => (dst.includes("/") ? dst : `${dst}/32`);

/** BIRD's time (the router's config prints ISO 8601 with an offset) as RFC 3339 UTC, else as printed. */
const isoOr = (since: string): string => protocolSinceToIso(since) ?? since;

/** The BGP routes and sessions, by node (`protocolOf` names a node's BIRD protocol). */
export const routerView = (input: {
  routes: readonly BirdRoute[];
  protocols: readonly BirdProtocol[];
  kernel: readonly KernelRoute[];
  nodes: readonly string[];
  protocolOf: (node: string) => string;
}): RouterView => {
  const nodeOf = new Map(input.nodes.map((n) => [input.protocolOf(n), n]));
  const protocols = new Map(input.protocols.map((p) => [p.name, p]));
  const sessions = input.nodes.map((node): RouterSession => {
    const p = protocols.get(input.protocolOf(node));
    return {
      node,
      protocol: input.protocolOf(node),
      state: p ? (bgpStateOf(p) ?? p.state) : "absent",
      since: p ? isoOr(p.since) : "",
      info: p ? (bgpInfoMessage(p) ?? "") : "",
    };
  });
  const stateOf = new Map(sessions.map((s) => [s.protocol, s.state]));
  const routes = input.routes
    .filter((r) => protocols.get(r.protocol)?.proto === "BGP" || r.attributes["BGP.origin"] !== undefined)
    .map((r): LearnedRoute => {
      const node = nodeOf.get(r.protocol);
      const nextHop = r.nexthops.find((h) => h.via !== undefined)?.via;
      return {
        prefix: r.prefix,
        ...(node === undefined ? {} : { node }),
        ...(nextHop === undefined ? {} : { nextHop }),
        since: isoOr(r.since),
        session: r.protocol,
        sessionState: stateOf.get(r.protocol) ?? protocols.get(r.protocol)?.state ?? "",
        primary: r.primary,
        inKernel: input.kernel.some((k) => host(k.dst) === r.prefix && k.gateway === nextHop),
      };
    })
    .sort((a, b) => a.prefix.localeCompare(b.prefix, "en", { numeric: true }) || (a.primary ? -1 : 1));
  return { routes, sessions };
};

/** The text of `egw lab router routes`. */
export const formatRouterView = (v: RouterView): string => {
  const out: string[] = [];
  if (v.routes.length === 0) out.push("no routes learned by BGP");
  else
    out.push(
      ...formatTable([
        ["PREFIX", "NODE", "NEXT-HOP", "SINCE", "SESSION", "KERNEL"],
        ...v.routes.map((r) => [
          r.prefix,
          r.node ?? "-",
          r.nextHop ?? "-",
          r.since,
          `${r.session} (${r.sessionState})`,
          r.inKernel ? "yes" : r.primary ? "no" : "no (not best)",
        ]),
      ]),
    );
  out.push(
    "",
    ...formatTable([
      ["SESSION", "NODE", "STATE", "SINCE", "INFO"],
      ...v.sessions.map((s) => [s.protocol, s.node, s.state, s.since, s.info]),
    ]),
  );
  return `${out.join("\n")}\n`;
};
