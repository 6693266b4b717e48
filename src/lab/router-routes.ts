// What the lab router learned by BGP (pure): parses `birdc show route all` and `birdc show
// protocols` as BIRD 2 prints them, joins the routes with the nodes they came from and with the
// router kernel's view, and formats `egw lab router routes`. Asking BIRD and the kernel is
// router-control.ts.
import { formatTable } from "../util/table.js";

/** One route of BIRD's table. */
export interface BirdRoute {
  prefix: string;
  /** The protocol instance it came from (`node_1`, `direct1`). */
  protocol: string;
  /** When BIRD took it, as BIRD prints it (the router's config asks for full dates). */
  since: string;
  /** BIRD's best route for the prefix (the one exported to the kernel). */
  primary: boolean;
  nextHop?: string;
  interface?: string;
  /** `Type:` line: BGP, device, static … */
  source?: string;
  asPath?: string;
}

/** One line of `show protocols`. */
export interface BirdProtocol {
  name: string;
  proto: string;
  state: string;
  since: string;
  /** For BGP: Established, Active, Idle … with BIRD's reason after it. */
  info: string;
}

// "10.10.0.1/32         unicast [node_1 2026-11-28 12:57:19.779] * (100) [AS64512i]"; a second
// path of the same prefix starts with blanks instead of the prefix.
const ROUTE_LINE = /^(\S+)?\s+\S+\s+\[(\S+)\s+([^\]]*)\]\s*(\*)?/;

/** The routes of `birdc show route all`; lines it does not know are skipped. */
export const parseBirdRoutes = (text: string): BirdRoute[] => {
  const routes: BirdRoute[] = [];
  let prefix: string | undefined;
  let current: BirdRoute | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "" || /^BIRD \d/.test(line) || /^Table \S+:$/.test(line)) continue;
    if (line.startsWith("\t")) {
      if (!current) continue;
      const body = line.trim();
      const via = /^via (\S+)(?: on (\S+))?/.exec(body);
      const dev = /^dev (\S+)/.exec(body);
      if (via?.[1] !== undefined) {
        current.nextHop = via[1];
        if (via[2] !== undefined) current.interface = via[2];
      } else if (dev?.[1] !== undefined) current.interface = dev[1];
      else if (body.startsWith("Type: ")) current.source = body.slice(6).split(" ")[0] ?? "";
      else if (body.startsWith("BGP.as_path: ")) current.asPath = body.slice(13).trim();
      continue;
    }
    const m = ROUTE_LINE.exec(line);
    if (!m) continue;
    if (m[1] !== undefined) prefix = m[1];
    if (prefix === undefined) continue;
    current = { prefix, protocol: m[2] ?? "", since: (m[3] ?? "").trim(), primary: m[4] === "*" };
    routes.push(current);
  }
  return routes;
};

// "node_1     BGP        ---        up     2026-11-28 12:57:19.412  Established"
const PROTOCOL_LINE = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d{2}-\d{2} \S+|\S+)\s*(.*)$/;

/** `birdc show protocols`, one entry a line after the header. */
export const parseBirdProtocols = (text: string): BirdProtocol[] => {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^Name\s+Proto\s+Table\s+State\s+Since/.test(l));
  if (head < 0) return [];
  return lines.slice(head + 1).flatMap((l) => {
    const m = PROTOCOL_LINE.exec(l.trimEnd());
    if (!m) return [];
    const [, name = "", proto = "", , state = "", since = "", info = ""] = m;
    return [{ name, proto, state, since, info: info.trim().replace(/\s+/g, " ") }];
  });
};

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
      state: p ? (p.state === "up" ? "Established" : (p.info.split(/\s+/)[0] ?? p.state)) : "absent",
      since: p?.since ?? "",
      info: p?.info ?? "",
    };
  });
  const stateOf = new Map(sessions.map((s) => [s.protocol, s.state]));
  const routes = input.routes
    .filter((r) => r.source === "BGP")
    .map((r): LearnedRoute => {
      const node = nodeOf.get(r.protocol);
      return {
        prefix: r.prefix,
        ...(node === undefined ? {} : { node }),
        ...(r.nextHop === undefined ? {} : { nextHop: r.nextHop }),
        since: r.since,
        session: r.protocol,
        sessionState: stateOf.get(r.protocol) ?? protocols.get(r.protocol)?.state ?? "",
        primary: r.primary,
        inKernel: input.kernel.some((k) => host(k.dst) === r.prefix && k.gateway === r.nextHop),
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
