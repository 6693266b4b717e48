// The lab's actions for gateway replica pods beyond an ordinary pod (pure): run `egw gateway` in
// the pod's namespace, route the replica's egress IP to the pod on its node (the CNI's part) and,
// in a lab without BGP, to that node on the router (DESIGN §5 step 5; with BGP the router's BIRD
// learns them from the nodes and the lab writes none). Routes are tagged with their own protocol
// number so the lab finds and removes exactly the ones it added.
import { ANN_GATEWAY_EGRESS_IP } from "../api/well-known.js";
import type { Resource } from "../api/meta.js";
import { podNetns } from "./names.js";
import { podView } from "./pod-actions.js";
import { type LabNode } from "./topology.js";
import { compareBy } from "../util/compare.js";
import type { Frozen } from "./partition.js";
import { isIpv4 } from "../util/ip.js";

/** `proto` of every egress-IP route the lab adds (router and nodes). */
export const EGRESS_ROUTE_PROTO = 211;

/** A gateway replica pod the lab can serve: running, wired, with a valid egress IP. */
export interface GatewayPodView {
  namespace: string;
  name: string;
  egressIP: string;
  node: LabNode;
  hostInterface: string;
  netns: string;
}

/** An egress-IP route found in the kernel (dst without /32, as `ip -j route` prints it). */
export interface ObservedEgressRoute {
  dst: string;
  dev?: string;
  gateway?: string;
}

export interface GatewayPodActionsInput {
  lab: string;
  nodes: readonly LabNode[];
  pods: readonly Resource[];
  /** Pod network namespaces that exist. */
  existingNetns: ReadonlySet<string>;
  routerRoutes: readonly ObservedEgressRoute[];
  /**
   * The lab writes the router's egress-IP routes (`egw up --no-bgp`); default true. False: the
   * router learns them by BGP, and any left from static mode are removed.
   */
  staticRouterRoutes?: boolean;
  /** By node netns. */
  nodeRoutes: ReadonlyMap<string, readonly ObservedEgressRoute[]>;
  /** Gateway processes recorded in the manifest: component → alive. */
  processes: ReadonlyMap<string, boolean>;
  component: (namespace: string, pod: string) => string;
  /**
   * Cut nodes and their pods (partition.ts): their routes and gateway processes are left as they
   * are. The router is the network, not the node: its routes follow the datastore.
   */
  frozen?: Frozen;
}

export type GatewayProcessAction =
  | { kind: "start"; component: string; pod: GatewayPodView; restart: boolean }
  | { kind: "stop"; component: string };

export interface GatewayPodActions {
  gateways: GatewayPodView[];
  /** `ip -batch` lines for the router namespace. */
  router: string[];
  /** `ip -batch` lines by node netns. */
  nodes: Map<string, string[]>;
  processes: GatewayProcessAction[];
  /** Gateway pods the lab cannot serve, one line each (for the runtime's log). */
  problems: string[];
}

/** Gateway replicas among `pods` that are running on a lab node with their netns in place. */
export const gatewayPods = (
  input: Pick<GatewayPodActionsInput, "lab" | "nodes" | "pods" | "existingNetns">,
  problems: string[] = [],
): GatewayPodView[] => {
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const out: GatewayPodView[] = [];
  const claimed = new Set<string>();
  const sorted = [...input.pods].sort(compareBy((p) => `${p.metadata.namespace ?? ""}/${p.metadata.name}`));
  for (const pod of sorted) {
    const egressIP = pod.metadata.annotations?.[ANN_GATEWAY_EGRESS_IP];
    if (egressIP === undefined) continue;
    const v = podView(pod);
    const node = v.nodeName === undefined ? undefined : nodes.get(v.nodeName);
    const netns = podNetns(input.lab, v.namespace, v.name);
    if (v.phase !== "Running" || !node || !v.hostInterface || !input.existingNetns.has(netns)) continue;
    const what = `gateway pod ${v.namespace}/${v.name}`;
    if (!isIpv4(egressIP)) {
      problems.push(
        `${what}: annotation ${ANN_GATEWAY_EGRESS_IP} "${egressIP}" is not an IPv4 address; not routed`,
      );
      continue;
    }
    if (claimed.has(egressIP)) {
      problems.push(`${what}: egress IP ${egressIP} is already routed to another replica; not routed`);
      continue;
    }
    claimed.add(egressIP);
    out.push({ namespace: v.namespace, name: v.name, egressIP, node, hostInterface: v.hostInterface, netns });
  }
  return out;
};

const host = (dst: string): string => (dst.endsWith("/32") ? dst.slice(0, -3) : dst);

/** Route changes and process actions; a converged lab gives no lines and no actions. */
export const gatewayPodActions = (input: GatewayPodActionsInput): GatewayPodActions => {
  const problems: string[] = [];
  const gateways = gatewayPods(input, problems);
  const proto = `proto ${EGRESS_ROUTE_PROTO}`;

  // Router: egressIP/32 via the replica's node.
  const router: string[] = [];
  const wantRouter = new Map(
    input.staticRouterRoutes === false ? [] : gateways.map((g) => [g.egressIP, g.node.underlayIp]),
  );
  for (const [ip, via] of wantRouter) {
    if (!input.routerRoutes.some((r) => host(r.dst) === ip && r.gateway === via))
      router.push(`route replace ${ip}/32 via ${via} ${proto}`);
  }
  for (const r of input.routerRoutes) {
    if (!wantRouter.has(host(r.dst))) router.push(`route del ${host(r.dst)}/32 ${proto}`);
  }

  // Nodes: egressIP/32 dev <the replica's host veth>, only on the replica's node.
  const nodes = new Map<string, string[]>();
  for (const n of input.nodes) {
    if (input.frozen?.nodes.has(n.name)) continue;
    const want = new Map(
      gateways.filter((g) => g.node.name === n.name).map((g) => [g.egressIP, g.hostInterface]),
    );
    const have = input.nodeRoutes.get(n.netns) ?? [];
    const lines: string[] = [];
    for (const [ip, dev] of want) {
      if (!have.some((r) => host(r.dst) === ip && r.dev === dev && r.gateway === undefined))
        lines.push(`route replace ${ip}/32 dev ${dev} scope link ${proto}`);
    }
    for (const r of have) if (!want.has(host(r.dst))) lines.push(`route del ${host(r.dst)}/32 ${proto}`);
    if (lines.length > 0) nodes.set(n.netns, lines);
  }

  // Processes: one `egw gateway` per served replica; started again if it died.
  const processes: GatewayProcessAction[] = [];
  const wanted = new Set<string>();
  for (const key of input.frozen?.pods ?? []) {
    const [namespace = "", name = ""] = key.split("/");
    wanted.add(input.component(namespace, name));
  }
  for (const g of gateways) {
    const component = input.component(g.namespace, g.name);
    wanted.add(component);
    if (input.frozen?.nodes.has(g.node.name)) continue;
    const alive = input.processes.get(component);
    if (alive !== true) processes.push({ kind: "start", component, pod: g, restart: alive === false });
  }
  for (const component of [...input.processes.keys()].sort()) {
    if (!wanted.has(component)) processes.push({ kind: "stop", component });
  }
  return { gateways, router, nodes, processes, problems };
};
