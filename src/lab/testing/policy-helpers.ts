// Helpers for the egress-policy end-to-end tests: real TCP connection attempts classified by how
// they end, UDP packets from chosen source addresses, nft counters (egw's own rules on a node and
// a test table in the router), and a hand-made "pod" the agent does not know.
import { HOST_VETH_MAC } from "../pod-actions.js";
import { POD_GATEWAY_IP } from "../topology.js";
import { runCmd, type Outcome } from "./lab-cli.js";

/** How a TCP connect ended: accepted, refused (RST: the packet got there), or no answer. */
export type Reach = "open" | "refused" | "timeout" | `error:${string}`;

// Connects to every target in parallel (threads), each with the same timeout; prints JSON.
const PROBE = `
import errno, json, socket, sys, threading
timeout = float(sys.argv[1]); res = {}
def probe(t):
    ip, port = t.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.settimeout(timeout)
    try:
        s.connect((ip, int(port))); res[t] = "open"
    except socket.timeout:
        res[t] = "timeout"
    except ConnectionRefusedError:
        res[t] = "refused"
    except OSError as e:
        res[t] = "error:" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
ts = [threading.Thread(target=probe, args=(t,)) for t in sys.argv[2:]]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(res))
`;

// Sends COUNT UDP datagrams from SRC to DST:PORT.
const SEND_UDP = `
import socket, sys
src, dst, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
for _ in range(count): s.sendto(b"egw-test", (dst, port))
`;

// Deadline for a probe run: long enough for many connects with timeouts.
const PROBE_DEADLINE_MS = 120_000;

/** TCP connects from inside `netns` to each "ip:port", in parallel; how each ended. */
export const probeTcp = async (
  netns: string,
  targets: readonly string[],
  timeoutSec = 3,
): Promise<Record<string, Reach>> => {
  const r = await runCmd(
    "ip",
    ["netns", "exec", netns, "python3", "-c", PROBE, String(timeoutSec), ...targets],
    "",
    PROBE_DEADLINE_MS,
  );
  if (r.code !== 0) throw new Error(`probe in ${netns} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, Reach>;
};

/** Sends `count` UDP datagrams from `src` (an address of the netns) to dst:port. */
export const sendUdp = async (
  netns: string,
  src: string,
  dst: string,
  port: number,
  count: number,
): Promise<void> => {
  const r = await runCmd("ip", [
    "netns",
    "exec",
    netns,
    "python3",
    "-c",
    SEND_UDP,
    src,
    dst,
    String(port),
    String(count),
  ]);
  if (r.code !== 0) throw new Error(`sending UDP from ${src} in ${netns} failed: ${r.stderr}`);
};

type NftJson = { nftables?: Record<string, unknown>[] };

/** Packets counted by the rule with `comment` in chain `family table chain` of `netns`. */
export const ruleCounter = async (
  netns: string,
  family: string,
  table: string,
  chain: string,
  comment: string,
): Promise<number> => {
  const r = await runCmd("ip", ["netns", "exec", netns, "nft", "-j", "list", "chain", family, table, chain]);
  if (r.code !== 0) throw new Error(`nft list chain ${table} ${chain} in ${netns}: ${r.stderr}`);
  for (const item of (JSON.parse(r.stdout) as NftJson).nftables ?? []) {
    const rule = item.rule as { comment?: string; expr?: Record<string, unknown>[] } | undefined;
    if (rule?.comment !== comment) continue;
    const counter = rule.expr?.find((e) => e.counter !== undefined)?.counter as
      { packets?: number } | undefined;
    if (typeof counter?.packets === "number") return counter.packets;
  }
  throw new Error(`no counted rule "${comment}" in ${family} ${table} ${chain} (${netns})`);
};

/**
 * A table of the test's own in `netns` (the router) with one named counter per UDP port: counts
 * forwarded datagrams to those ports, whatever their source (node SNAT rewrites it).
 */
export const addPortCounters = async (
  netns: string,
  table: string,
  ports: readonly number[],
): Promise<void> => {
  const r = await runCmd(
    "ip",
    ["netns", "exec", netns, "nft", "-f", "-"],
    [
      `table inet ${table} {`,
      ...ports.map((p) => `  counter c${p} { }`),
      `  chain forward {`,
      `    type filter hook forward priority filter - 10; policy accept;`,
      ...ports.map((p) => `    udp dport ${p} counter name "c${p}"`),
      `  }`,
      `}`,
      ``,
    ].join("\n"),
  );
  if (r.code !== 0) throw new Error(`cannot add counters in ${netns}: ${r.stderr}`);
};

/** Packets counted by the named counter `name` of table inet `table` in `netns` (-1 if it has none). */
export const nftCounterPackets = async (netns: string, table: string, name: string): Promise<number> => {
  const r = await runCmd("ip", ["netns", "exec", netns, "nft", "-j", "list", "counter", "inet", table, name]);
  if (r.code !== 0) throw new Error(`nft list counter ${name} in ${netns}: ${r.stderr}`);
  const c = (JSON.parse(r.stdout) as NftJson).nftables?.find((x) => x.counter !== undefined)?.counter as
    { packets?: number } | undefined;
  return c?.packets ?? -1;
};

/** Packets counted by the per-port counter `c<port>` (see addPortCounters). */
export const portCounter = (netns: string, table: string, port: number): Promise<number> =>
  nftCounterPackets(netns, table, `c${port}`);

export const deleteTable = (netns: string, table: string): Promise<Outcome> =>
  runCmd("ip", ["netns", "exec", netns, "nft", "delete", "table", "inet", table]);

/**
 * A network namespace wired to a node exactly as the lab wires a pod (veth with the workload
 * prefix, /32, link-local gateway), but with no Pod object: the agent never hears of it.
 */
export const addUnknownEndpoint = async (
  nodeNs: string,
  netns: string,
  hostInterface: string,
  ip: string,
): Promise<void> => {
  const steps: [string, string[]][] = [
    ["ip", ["netns", "add", netns]],
    [
      "ip",
      [
        "-n",
        nodeNs,
        "link",
        "add",
        hostInterface,
        "address",
        HOST_VETH_MAC,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        netns,
      ],
    ],
    ["ip", ["-n", nodeNs, "link", "set", hostInterface, "up"]],
    ["ip", ["-n", nodeNs, "route", "replace", `${ip}/32`, "dev", hostInterface, "scope", "link"]],
    ["ip", ["-n", netns, "link", "set", "lo", "up"]],
    ["ip", ["-n", netns, "addr", "add", `${ip}/32`, "dev", "eth0"]],
    ["ip", ["-n", netns, "link", "set", "eth0", "up"]],
    [
      "ip",
      [
        "-n",
        netns,
        "neigh",
        "replace",
        POD_GATEWAY_IP,
        "lladdr",
        HOST_VETH_MAC,
        "dev",
        "eth0",
        "nud",
        "permanent",
      ],
    ],
    ["ip", ["-n", netns, "route", "add", POD_GATEWAY_IP, "dev", "eth0", "scope", "link"]],
    ["ip", ["-n", netns, "route", "add", "default", "via", POD_GATEWAY_IP, "dev", "eth0"]],
  ];
  for (const [cmd, args] of steps) {
    const r = await runCmd(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  }
};

/** Removes the namespace (its veth and the node's route go with it); fine if it is gone. */
export const removeNetns = (netns: string): Promise<Outcome> => runCmd("ip", ["netns", "del", netns]);
