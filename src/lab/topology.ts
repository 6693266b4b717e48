// The lab's address plan (pure). Every lab uses the same private ranges; that is safe because
// each lab lives entirely inside its own network namespaces.
import { cidrContains, formatIp, hostCount, hostRange, parseCidr, parseIp, type Cidr } from "../util/ip.js";
import { err, ok, type Result } from "../util/result.js";
import { infraNetns, nodeNetns, type InfraRole } from "./names.js";

export const UNDERLAY_CIDR = "172.30.0.0/24";
export const UNDERLAY_PREFIX = 24;
export const ROUTER_UNDERLAY_IP = "172.30.0.1";
export const CONTROL_UNDERLAY_IP = "172.30.0.2";
export const POD_POOL_CIDR = "10.244.0.0/16";
export const POD_BLOCK_PREFIX = 24;
export const EXTERNAL_CIDR = "198.18.0.0/15";
export const ETCD_CLIENT_PORT = 2379;
/** Pods reach their node through this link-local next hop, answered by proxy ARP on the host veth. */
export const POD_GATEWAY_IP = "169.254.1.1";

export const MIN_NODES = 1;
export const MAX_NODES = 50;
/** Zones are named zone-a … zone-z. */
export const MAX_ZONES = 26;

/** The hosts on the external side of the router; only firewalled hosts have an allow-list. */
export interface ExternalHost {
  name: string;
  /** whoami: HTTP, answers with the source IP; db: TCP, greets with the source IP. */
  service: "whoami" | "db";
  ip: string;
  /** The router's address on this host's subnet (the host's gateway). */
  routerIp: string;
  prefix: number;
  port: number;
  firewalled: boolean;
}

export const EXTERNAL_HOSTS: readonly ExternalHost[] = [
  {
    name: "whoami",
    service: "whoami",
    ip: "198.18.10.10",
    routerIp: "198.18.10.1",
    prefix: 24,
    port: 80,
    firewalled: false,
  },
  {
    name: "db",
    service: "db",
    ip: "198.18.20.10",
    routerIp: "198.18.20.1",
    prefix: 24,
    port: 5432,
    firewalled: true,
  },
  // A second whoami on its own subnet, so per-destination routing (e.g. "198.18.30.0/24 without
  // a gateway") can be told apart by the source IP each one sees.
  {
    name: "whoami-b",
    service: "whoami",
    ip: "198.18.30.10",
    routerIp: "198.18.30.1",
    prefix: 24,
    port: 80,
    firewalled: false,
  },
];

/**
 * An echo service on whoami's host (no address of its own): greets with "echo: hello <source IP>"
 * and then echoes every byte back, for long-lived connections in restart and failover tests.
 */
export const ECHO_SERVICE = { host: "whoami", ip: "198.18.10.10", port: 7 } as const;

export const externalHost = (name: string): ExternalHost | undefined =>
  EXTERNAL_HOSTS.find((h) => h.name === name);

export interface LabNode {
  /** 1-based */
  index: number;
  /** The Node object's name, as pods use it in spec.nodeName. */
  name: string;
  netns: string;
  underlayIp: string;
  /** This node's pod block, e.g. 10.244.1.0/24. */
  podCidr: string;
  /** Its Node's topology.kubernetes.io/zone label; absent when the lab has no zones. */
  zone?: string;
}

export interface LabTopology {
  lab: string;
  netns: Record<InfraRole, string>;
  routerIp: string;
  controlIp: string;
  etcdClientUrl: string;
  nodes: LabNode[];
  externalHosts: readonly ExternalHost[];
}

export const nodeName = (index: number): string => `node-${index}`;

/** Zone `i` (0-based): zone-a, zone-b, … */
export const zoneName = (i: number): string => `zone-${String.fromCharCode(97 + i)}`;

/**
 * The whole address plan for `nodes` nodes; an out-of-range node count is an error value. With
 * `zones` > 0, node i (1-based) is in zone (i-1) mod zones — round robin, so every zone has nodes
 * while there are at least as many nodes as zones; 0 = no zone labels (the default).
 */
export const planTopology = (lab: string, nodes: number, zones = 0): Result<LabTopology, string> => {
  if (!Number.isInteger(nodes) || nodes < MIN_NODES || nodes > MAX_NODES) {
    return err(`--nodes ${nodes} is out of range: use a whole number from ${MIN_NODES} to ${MAX_NODES}`);
  }
  if (!Number.isInteger(zones) || zones < 0 || zones > Math.min(nodes, MAX_ZONES)) {
    return err(
      `--zones ${zones} is out of range: use a whole number from 0 (no zones) to ` +
        `${Math.min(nodes, MAX_ZONES)} (at most one zone per node, at most ${MAX_ZONES})`,
    );
  }
  const labNodes: LabNode[] = [];
  for (let i = 1; i <= nodes; i++) {
    const node: LabNode = {
      index: i,
      name: nodeName(i),
      netns: nodeNetns(lab, i),
      underlayIp: `172.30.0.${10 + i}`,
      podCidr: `10.244.${i}.0/${POD_BLOCK_PREFIX}`,
    };
    if (zones > 0) node.zone = zoneName((i - 1) % zones);
    labNodes.push(node);
  }
  return ok({
    lab,
    netns: {
      ul: infraNetns(lab, "ul"),
      ctl: infraNetns(lab, "ctl"),
      rtr: infraNetns(lab, "rtr"),
      ext: infraNetns(lab, "ext"),
    },
    routerIp: ROUTER_UNDERLAY_IP,
    controlIp: CONTROL_UNDERLAY_IP,
    etcdClientUrl: `http://${CONTROL_UNDERLAY_IP}:${ETCD_CLIENT_PORT}`,
    nodes: labNodes,
    externalHosts: EXTERNAL_HOSTS,
  });
};

// --- Pod blocks (the lab is IPv4 only); the address arithmetic is util/ip.ts ---

const ipv4Block = (cidr: string): Cidr | undefined => {
  const c = parseCidr(cidr, { maskHostBits: true });
  return c.ok && c.value.version === 4 ? c.value : undefined;
};

export const ipv4InCidr = (ip: string, cidr: string): boolean => {
  const a = parseIp(ip);
  const c = ipv4Block(cidr);
  return a?.version === 4 && c !== undefined && cidrContains(c, a);
};

/**
 * The lowest address of `block` not in `used`, skipping the network and broadcast addresses;
 * undefined when the block is exhausted.
 */
export const lowestFreeIp = (block: string, used: ReadonlySet<string>): string | undefined => {
  const c = ipv4Block(block);
  if (c === undefined) return undefined;
  const { first, last } = hostRange(c);
  for (let value = first; value <= last; value++) {
    const ip = formatIp({ version: 4, value });
    if (!used.has(ip)) return ip;
  }
  return undefined;
};

/** Number of pod addresses a block offers (what lowestFreeIp can hand out). */
export const blockCapacity = (block: string): number => {
  const c = ipv4Block(block);
  return c === undefined ? 0 : Number(hostCount(c));
};
