import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLES } from "./examples.js";
import { formatIssue, type ValidationIssue } from "./issues.js";
import { KINDS } from "./kinds.js";
import { validateResource } from "./validate.js";

// Tests reach into arbitrary nested fields of example objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const clone = <T>(v: T): T => structuredClone(v);

/** The example of `kind` with `edit` applied to a copy. */
function example(kind: string, edit: (o: Record<string, Loose>) => void = () => {}): unknown {
  const base = EXAMPLES[kind];
  assert.ok(base, `no example for ${kind}`);
  const o = clone(base) as unknown as Record<string, Loose>;
  edit(o);
  return o;
}

function issuesOf(input: unknown): ValidationIssue[] {
  const r = validateResource(input);
  assert.equal(r.ok, false, `expected a rejection of ${JSON.stringify(input)}`);
  return r.ok ? [] : r.error;
}

describe("validateResource: valid examples", () => {
  for (const k of KINDS) {
    it(`accepts the ${k.kind} example`, () => {
      const input = example(k.kind);
      const before = JSON.stringify(input);
      const r = validateResource(input);
      assert.ok(r.ok, r.ok ? "" : r.error.map(formatIssue).join("\n"));
      assert.equal(JSON.stringify(input), before, "input must not be modified");
      assert.notEqual(r.value, input);
      assert.equal(r.value.kind, k.kind);
      // Validation is idempotent: the defaulted object validates to itself.
      const again = validateResource(r.value);
      assert.ok(again.ok);
      assert.deepEqual(again.value, r.value);
    });
  }
});

interface BadCase {
  name: string;
  input: unknown;
  path: string;
  fragments: string[];
}

const bad = (
  name: string,
  kind: string,
  edit: (o: Record<string, Loose>) => void,
  path: string,
  ...fragments: string[]
): BadCase => ({
  name,
  input: example(kind, edit),
  path,
  fragments,
});

const CASES: BadCase[] = [
  { name: "null", input: null, path: "kind", fragments: ["null", "apiVersion, kind"] },
  { name: "array", input: [1], path: "kind", fragments: ["[1]", "is not a resource"] },
  {
    name: "no kind",
    input: { apiVersion: "v1" },
    path: "kind",
    fragments: ["is required", "IPPool", "EgressGateway"],
  },
  {
    name: "unknown kind",
    input: { kind: "Gateway" },
    path: "kind",
    fragments: ['"Gateway"', "is not a known kind", "EgressGatewayPolicy"],
  },
  bad(
    "wrong apiVersion",
    "IPPool",
    (o) => (o.apiVersion = "egw.dev/v2"),
    "apiVersion",
    '"egw.dev/v2"',
    '"egw.dev/v1"',
  ),
  bad("unknown top-level field", "IPPool", (o) => (o.specs = {}), "specs", "unknown field", "spec"),
  bad(
    "unknown spec field",
    "IPPool",
    (o) => (o.spec.cidrs = "x"),
    "spec.cidrs",
    "unknown field",
    "cidr, blockSize",
  ),
  bad("missing spec", "IPPool", (o) => delete o.spec, "spec", "is required"),
  bad("missing cidr", "IPPool", (o) => delete o.spec.cidr, "spec.cidr", "is required", "a string"),
  bad(
    "prefix too long",
    "IPPool",
    (o) => (o.spec.cidr = "10.0.0.0/33"),
    "spec.cidr",
    '"10.0.0.0/33" is not a valid CIDR',
    "0-32",
  ),
  bad(
    "host bits",
    "IPPool",
    (o) => (o.spec.cidr = "10.0.0.1/24"),
    "spec.cidr",
    '"10.0.0.1/24"',
    "host bits",
    '"10.0.0.0/24"',
  ),
  bad(
    "v6 host bits",
    "IPPool",
    (o) => ((o.spec.cidr = "2001:db8::1/64"), (o.spec.blockSize = 122)),
    "spec.cidr",
    '"2001:db8::/64"',
  ),
  bad("bare IP pool", "IPPool", (o) => (o.spec.cidr = "10.0.0.0"), "spec.cidr", "prefix length is missing"),
  bad("garbage cidr", "IPPool", (o) => (o.spec.cidr = "ten/8"), "spec.cidr", '"ten/8" is not a valid CIDR'),
  bad("leading zero octet", "IPPool", (o) => (o.spec.cidr = "010.0.0.0/8"), "spec.cidr", "not a valid CIDR"),
  bad(
    "blockSize v4 range",
    "IPPool",
    (o) => (o.spec.blockSize = 19),
    "spec.blockSize",
    "19",
    "IPv4",
    "20-32",
  ),
  bad(
    "blockSize v6 range",
    "IPPool",
    (o) => (o.spec.cidr = "2001:db8::/64"),
    "spec.blockSize",
    "32",
    "IPv6",
    "116-128",
  ),
  bad("blockSize wrong type", "IPPool", (o) => (o.spec.blockSize = "26"), "spec.blockSize", '"26"', "20-32"),
  bad(
    "blockSize larger than pool",
    "IPPool",
    (o) => ((o.spec.cidr = "10.0.0.0/30"), (o.spec.blockSize = 26)),
    "spec.blockSize",
    "fit in the pool",
    "30-32",
  ),
  bad(
    "allowedUses enum",
    "IPPool",
    (o) => (o.spec.allowedUses = ["Tunnel"]),
    "spec.allowedUses[0]",
    '"Tunnel"',
    '"Workload", "EgressGateway"',
  ),
  bad(
    "allowedUses duplicate",
    "IPPool",
    (o) => (o.spec.allowedUses = ["Workload", "Workload"]),
    "spec.allowedUses",
    "list each once",
  ),
  bad(
    "natOutgoing type",
    "IPPool",
    (o) => (o.spec.natOutgoing = "yes"),
    "spec.natOutgoing",
    '"yes"',
    "true or false",
  ),
  bad(
    "nodeSelector syntax",
    "IPPool",
    (o) => (o.spec.nodeSelector = "a == "),
    "spec.nodeSelector",
    'selector "a == "',
    "column 6",
  ),
  bad(
    "name syntax",
    "IPPool",
    (o) => (o.metadata.name = "Egress_A"),
    "metadata.name",
    '"Egress_A"',
    "DNS-1123 subdomain",
  ),
  bad("name too long", "IPPool", (o) => (o.metadata.name = "a".repeat(254)), "metadata.name", "253"),
  bad(
    "cluster kind with namespace",
    "IPPool",
    (o) => (o.metadata.namespace = "x"),
    "metadata.namespace",
    '"x"',
    "cluster-scoped",
  ),
  bad(
    "namespaced kind without namespace",
    "EgressGateway",
    (o) => delete o.metadata.namespace,
    "metadata.namespace",
    "is required",
    "namespaced",
  ),
  bad(
    "namespace syntax",
    "EgressGateway",
    (o) => (o.metadata.namespace = "a.b"),
    "metadata.namespace",
    '"a.b"',
    "DNS-1123 label",
  ),
  bad(
    "namespace name is a label",
    "Namespace",
    (o) => (o.metadata.name = "a.b"),
    "metadata.name",
    "DNS-1123 label",
  ),
  bad(
    "label key",
    "IPPool",
    (o) => (o.metadata.labels = { "-bad": "x" }),
    'metadata.labels["-bad"]',
    '"-bad"',
    "not a valid key",
  ),
  bad(
    "label key prefix",
    "IPPool",
    (o) => (o.metadata.labels = { "Ex.com/a": "x" }),
    'metadata.labels["Ex.com/a"]',
    "prefix",
  ),
  bad(
    "label value",
    "IPPool",
    (o) => (o.metadata.labels = { a: "x y" }),
    "metadata.labels.a",
    '"x y"',
    "label value",
  ),
  bad(
    "label value type",
    "IPPool",
    (o) => (o.metadata.labels = { a: 1 }),
    "metadata.labels.a",
    "1 is not valid",
    "a string",
  ),
  bad(
    "annotation key",
    "Pod",
    (o) => (o.metadata.annotations = { "a b": "x" }),
    'metadata.annotations["a b"]',
    "not a valid key",
  ),
  bad(
    "metadata unknown field",
    "IPPool",
    (o) => (o.metadata.generateName = "x"),
    "metadata.generateName",
    "unknown field",
    "name",
  ),
  bad(
    "replicas negative",
    "EgressGateway",
    (o) => (o.spec.replicas = -1),
    "spec.replicas",
    "-1",
    "integer from 0",
  ),
  bad(
    "replicas fraction",
    "EgressGateway",
    (o) => (o.spec.replicas = 1.5),
    "spec.replicas",
    "1.5",
    "integer",
  ),
  bad(
    "replicas huge",
    "EgressGateway",
    (o) => (o.spec.replicas = 1e300),
    "spec.replicas",
    "1e+300",
    "2147483647",
  ),
  bad("ipPools empty", "EgressGateway", (o) => (o.spec.ipPools = []), "spec.ipPools", "[]", "at least 1"),
  bad(
    "ipPools entry empty",
    "EgressGateway",
    (o) => (o.spec.ipPools = [{}]),
    "spec.ipPools[0]",
    "by name or cidr",
  ),
  bad(
    "ipPools cidr",
    "EgressGateway",
    (o) => (o.spec.ipPools = [{ cidr: "10.10.0.1/24" }]),
    "spec.ipPools[0].cidr",
    "host bits",
  ),
  bad(
    "template label",
    "EgressGateway",
    (o) => (o.spec.template.metadata.labels = { a: "-" }),
    "spec.template.metadata.labels.a",
    "label value",
  ),
  bad(
    "grace negative",
    "EgressGateway",
    (o) => (o.spec.template.spec.terminationGracePeriodSeconds = -5),
    "spec.template.spec.terminationGracePeriodSeconds",
    "-5",
  ),
  bad(
    "rolling update negative surge",
    "EgressGateway",
    (o) => (o.spec.strategy = { rollingUpdate: { maxSurge: -1 } }),
    "spec.strategy.rollingUpdate.maxSurge",
    "-1",
  ),
  bad(
    "rolling update that can never replace",
    "EgressGateway",
    (o) => (o.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }),
    "spec.strategy.rollingUpdate.maxUnavailable",
    "when maxSurge is 0",
  ),
  bad(
    "probe without ips",
    "EgressGateway",
    (o) => delete o.spec.failureDetection.icmpProbe.ips,
    "spec.failureDetection.icmpProbe.ips",
    "is required",
  ),
  bad(
    "probe ip",
    "EgressGateway",
    (o) => (o.spec.failureDetection.icmpProbe.ips = ["1.2.3"]),
    "spec.failureDetection.icmpProbe.ips[0]",
    '"1.2.3"',
    "not a valid IP",
  ),
  bad(
    "probe timeout < interval",
    "EgressGateway",
    (o) => (o.spec.failureDetection.icmpProbe.timeoutMs = 500),
    "spec.failureDetection.icmpProbe.timeoutMs",
    "500",
    ">= intervalMs (1000)",
  ),
  bad(
    "probe timeout < default interval",
    "EgressGateway",
    (o) => (o.spec.failureDetection.httpProbe.timeoutMs = 5000),
    "spec.failureDetection.httpProbe.timeoutMs",
    "5000",
    "intervalMs (10000)",
  ),
  bad(
    "http probe url",
    "EgressGateway",
    (o) => (o.spec.failureDetection.httpProbe.urls = ["ftp://x"]),
    "spec.failureDetection.httpProbe.urls[0]",
    '"ftp://x"',
    "http://",
  ),
  bad(
    "liveness interval below the floor",
    "EgressGateway",
    (o) => (o.spec.failureDetection.liveness = { intervalMs: 10 }),
    "spec.failureDetection.liveness.intervalMs",
    "10",
    "from 50 to 60000",
    "garbage-collection pauses",
  ),
  bad(
    "liveness interval above the ceiling",
    "EgressGateway",
    (o) => (o.spec.failureDetection.liveness = { intervalMs: 60001 }),
    "spec.failureDetection.liveness.intervalMs",
    "60001",
  ),
  bad(
    "liveness miss count 0",
    "EgressGateway",
    (o) => (o.spec.failureDetection.liveness = { multiplier: 0 }),
    "spec.failureDetection.liveness.multiplier",
    "0 is not valid",
    "missed packets",
  ),
  bad(
    "liveness multiplier 256",
    "EgressGateway",
    (o) => (o.spec.failureDetection.liveness = { multiplier: 256 }),
    "spec.failureDetection.liveness.multiplier",
    "from 1 to 255",
  ),
  bad(
    "liveness hold-down negative",
    "EgressGateway",
    (o) => (o.spec.failureDetection.liveness = { holdDownMs: -1 }),
    "spec.failureDetection.liveness.holdDownMs",
    "-1",
    "from 0 to 600000",
  ),
  bad(
    "liveness unknown field",
    "EgressGateway",
    (o) => (o.spec.failureDetection.liveness = { interval: 100 }),
    "spec.failureDetection.liveness.interval",
    "intervalMs, multiplier, holdDownMs",
  ),
  bad(
    "failureDetection empty",
    "EgressGateway",
    (o) => (o.spec.failureDetection = {}),
    "spec.failureDetection",
    "icmpProbe, httpProbe or both",
  ),
  bad(
    "status egressIP",
    "EgressGateway",
    (o) => (o.status.replicas[0].egressIP = "10.10.0.500"),
    "status.replicas[0].egressIP",
    "not a valid IP",
  ),
  bad(
    "condition status",
    "EgressGateway",
    (o) => (o.status.conditions[0].status = "Yes"),
    "status.conditions[0].status",
    '"Yes"',
    '"True", "False", "Unknown"',
  ),
  bad("policy no rules", "EgressGatewayPolicy", (o) => (o.spec.rules = []), "spec.rules", "at least 1"),
  bad(
    "policy duplicate destination",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[2].destination = { cidr: "10.0.0.0/8" }),
    "spec.rules[2].destination.cidr",
    "rules[0]",
    "once",
  ),
  bad(
    "policy duplicate default",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[0].destination = { cidr: "0.0.0.0/0" }),
    "spec.rules[2].destination.cidr",
    '"0.0.0.0/0"',
    "rules[0]",
  ),
  bad(
    "policy destination cidr",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[1].destination.cidr = "198.18.0.0/33"),
    "spec.rules[1].destination.cidr",
    "not a valid CIDR",
  ),
  bad(
    "policy empty selector",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[1].gateway.selector = " "),
    "spec.rules[1].gateway.selector",
    "required",
  ),
  bad(
    "policy missing namespaceSelector",
    "EgressGatewayPolicy",
    (o) => delete o.spec.rules[1].gateway.namespaceSelector,
    "spec.rules[1].gateway.namespaceSelector",
    "is required",
  ),
  bad(
    "policy selector syntax",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[1].gateway.selector = "a in {"),
    "spec.rules[1].gateway.selector",
    'selector "a in {"',
  ),
  bad(
    "maxNextHops negative",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[1].gateway.maxNextHops = -1),
    "spec.rules[1].gateway.maxNextHops",
    "-1",
  ),
  bad(
    "gatewayPreference",
    "EgressGatewayPolicy",
    (o) => (o.spec.rules[2].gatewayPreference = "Local"),
    "spec.rules[2].gatewayPreference",
    '"None", "PreferNodeLocal"',
  ),
  bad(
    "tier defaultAction",
    "Tier",
    (o) => (o.spec.defaultAction = "Allow"),
    "spec.defaultAction",
    '"Allow"',
    '"Deny", "Pass"',
  ),
  bad("tier order infinite", "Tier", (o) => (o.spec.order = Infinity), "spec.order", "Infinity", "finite"),
  bad(
    "rule action",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].action = "allow"),
    "spec.egress[0].action",
    '"allow"',
    '"Allow", "Deny", "Log", "Pass"',
  ),
  bad(
    "rule protocol name",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].protocol = "HTTP"),
    "spec.egress[0].protocol",
    '"HTTP"',
    "TCP, UDP",
    "1-255",
  ),
  bad(
    "rule protocol number",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].protocol = 256),
    "spec.egress[0].protocol",
    "256",
    "1-255",
  ),
  bad(
    "rule ipVersion",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].ipVersion = 5),
    "spec.egress[0].ipVersion",
    "5",
    "4, 6",
  ),
  bad(
    "ICMP with ipVersion 6",
    "NetworkPolicy",
    (o) => ((o.spec.egress[4].protocol = "ICMP"), (o.spec.egress[4].ipVersion = 6)),
    "spec.egress[4].protocol",
    '"ICMP"',
    "ipVersion 6",
  ),
  bad(
    "port zero",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.ports = [0]),
    "spec.egress[0].destination.ports[0]",
    "0 is not a valid port",
    "1-65535",
  ),
  bad(
    "port too big",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.ports = [70000]),
    "spec.egress[0].destination.ports[0]",
    "70000",
  ),
  bad(
    "port range reversed",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.ports = ["90:80"]),
    "spec.egress[0].destination.ports[0]",
    '"90:80"',
    '"80:90"',
  ),
  bad(
    "port range too big",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.ports = ["1:65536"]),
    "spec.egress[0].destination.ports[0]",
    "1-65535",
  ),
  bad(
    "named port",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.ports = ["http"]),
    "spec.egress[0].destination.ports[0]",
    '"http"',
    "named ports",
  ),
  bad(
    "port type",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.ports = [true]),
    "spec.egress[0].destination.ports[0]",
    "true",
    "port number",
  ),
  bad(
    "ports without protocol",
    "NetworkPolicy",
    (o) => delete o.spec.egress[0].protocol,
    "spec.egress[0].destination.ports",
    "protocol",
    "TCP, UDP, SCTP or UDPLite",
  ),
  bad(
    "ports with ICMP",
    "NetworkPolicy",
    (o) => (o.spec.egress[3].protocol = "ICMP"),
    "spec.egress[3].destination.notPorts",
    '"ICMP"',
  ),
  bad(
    "mixed nets",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.notNets = ["::/0"]),
    "spec.egress[0].destination.nets",
    "IPv4 or all IPv6",
  ),
  bad(
    "nets vs ipVersion",
    "NetworkPolicy",
    (o) => (o.spec.egress[3].destination.notNets = ["fd00::/8"]),
    "spec.egress[3].destination.nets",
    "ipVersion 4",
  ),
  bad(
    "nets host bits",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.nets = ["198.18.1.1/24"]),
    "spec.egress[0].destination.nets[0]",
    '"198.18.1.0/24"',
  ),
  bad(
    "dest selector",
    "NetworkPolicy",
    (o) => (o.spec.egress[1].destination.selector = "k8s-app = 'dns'"),
    "spec.egress[1].destination.selector",
    "selector",
  ),
  bad("policy selector", "NetworkPolicy", (o) => (o.spec.selector = "(a"), "spec.selector", 'selector "(a"'),
  bad(
    "domains with Deny",
    "NetworkPolicy",
    (o) => (o.spec.egress[2].action = "Deny"),
    "spec.egress[2].destination.domains",
    "only in Allow rules",
  ),
  bad(
    "domains with nets",
    "NetworkPolicy",
    (o) => (o.spec.egress[2].destination.nets = ["1.1.1.1"]),
    "spec.egress[2].destination.domains",
    "must not also set nets",
  ),
  bad(
    "domain two wildcards",
    "NetworkPolicy",
    (o) => (o.spec.egress[2].destination.domains = ["*.*.example.com"]),
    "spec.egress[2].destination.domains[0]",
    '"*.*.example.com"',
  ),
  bad(
    "domain partial wildcard",
    "NetworkPolicy",
    (o) => (o.spec.egress[2].destination.domains = ["www.g*.com"]),
    "spec.egress[2].destination.domains[0]",
    "not a valid domain",
  ),
  bad(
    "types without Egress",
    "NetworkPolicy",
    (o) => (o.spec.types = ["Ingress"]),
    "spec.types",
    '["Ingress"]',
    '"Egress"',
  ),
  bad(
    "types enum",
    "NetworkPolicy",
    (o) => (o.spec.types = ["Out"]),
    "spec.types[0]",
    '"Out"',
    '"Ingress", "Egress"',
  ),
  bad("tier name", "NetworkPolicy", (o) => (o.spec.tier = "Security"), "spec.tier", '"Security"', "DNS-1123"),
  bad(
    "rule unknown field",
    "NetworkPolicy",
    (o) => (o.spec.egress[0].destination.net = []),
    "spec.egress[0].destination.net",
    "unknown field",
    "nets, notNets",
  ),
  bad(
    "gnp namespaceSelector",
    "GlobalNetworkPolicy",
    (o) => (o.spec.namespaceSelector = "x not in"),
    "spec.namespaceSelector",
    'selector "x not in"',
  ),
  bad(
    "np has no namespaceSelector",
    "NetworkPolicy",
    (o) => (o.spec.namespaceSelector = "all()"),
    "spec.namespaceSelector",
    "unknown field",
  ),
  bad(
    "network set nets",
    "GlobalNetworkSet",
    (o) => (o.spec.nets = ["300.0.0.0/8"]),
    "spec.nets[0]",
    '"300.0.0.0/8"',
    "not a valid CIDR",
  ),
  bad(
    "namespace annotation selector",
    "Namespace",
    (o) => (o.metadata.annotations["egress.egw.dev/selector"] = "a ="),
    'metadata.annotations["egress.egw.dev/selector"]',
    'selector "a ="',
  ),
  bad(
    "namespace maxNextHops",
    "Namespace",
    (o) => (o.metadata.annotations["egress.egw.dev/maxNextHops"] = "-1"),
    'metadata.annotations["egress.egw.dev/maxNextHops"]',
    '"-1"',
    ">= 0",
  ),
  bad(
    "pod gatewayPreference annotation",
    "Pod",
    (o) => (o.metadata.annotations = { "egress.egw.dev/gatewayPreference": "SameZone" }),
    'metadata.annotations["egress.egw.dev/gatewayPreference"]',
    '"SameZone"',
    "use None, PreferNodeLocal or PreferSameZone",
  ),
  bad(
    "pod policy annotation",
    "Pod",
    (o) => (o.metadata.annotations = { "egress.egw.dev/egressGatewayPolicy": "No Such" }),
    'metadata.annotations["egress.egw.dev/egressGatewayPolicy"]',
    '"No Such"',
  ),
  bad(
    "pod ip",
    "Pod",
    (o) => (o.status.podIP = "10.244.1.256"),
    "status.podIP",
    '"10.244.1.256"',
    "not a valid IP",
  ),
  bad("pod phase", "Pod", (o) => (o.status.phase = "Up"), "status.phase", '"Up"', '"Running"'),
  bad(
    "pod interface",
    "Pod",
    (o) => (o.status.hostInterface = "a-very-long-interface-name"),
    "status.hostInterface",
    "1-15 characters",
  ),
  bad(
    "pod status unknown field",
    "Pod",
    (o) => (o.status.hostNetwork = true),
    "status.hostNetwork",
    "unknown field",
  ),
  bad(
    "pod containers not objects",
    "Pod",
    (o) => (o.spec.containers = ["x"]),
    "spec.containers[0]",
    '"x"',
    "an object",
  ),
  bad(
    "node podCIDR",
    "Node",
    (o) => (o.spec.podCIDR = "10.244.1.0/16"),
    "spec.podCIDR",
    "host bits",
    '"10.244.0.0/16"',
  ),
  bad(
    "node address",
    "Node",
    (o) => (o.status.addresses[0].address = "node-1"),
    "status.addresses[0].address",
    '"node-1"',
    "not a valid IP",
  ),
  bad(
    "node address type",
    "Node",
    (o) => (o.status.addresses[0].type = "Internal"),
    "status.addresses[0].type",
    '"InternalIP"',
  ),
  bad(
    "gateway pod egress IP",
    "Pod",
    (o) => (o.metadata.annotations = { "egw.dev/egress-ip": "10.10.0" }),
    'metadata.annotations["egw.dev/egress-ip"]',
    '"10.10.0"',
    "not a valid IP",
  ),
  bad(
    "lease renewTime",
    "Lease",
    (o) => (o.spec.renewTime = "yesterday"),
    "spec.renewTime",
    '"yesterday"',
    "RFC 3339",
  ),
  bad("lease duration", "Lease", (o) => (o.spec.leaseDurationSeconds = 0), "spec.leaseDurationSeconds"),
  bad("allocation ip", "IPAllocation", (o) => (o.spec.ip = "x"), "spec.ip", '"x"'),
  bad(
    "allocation owner",
    "IPAllocation",
    (o) => delete o.spec.owner.gateway,
    "spec.owner.gateway",
    "is required",
  ),
];

describe("validateResource: invalid input", () => {
  for (const c of CASES) {
    it(`rejects ${c.name} at ${c.path}`, () => {
      const issues = issuesOf(c.input);
      const hit = issues.find((i) => i.path === c.path);
      assert.ok(hit, `no issue at ${c.path}; got:\n${issues.map(formatIssue).join("\n")}`);
      for (const f of c.fragments) assert.ok(hit.message.includes(f), `"${hit.message}" should mention ${f}`);
    });
  }

  it("reports every schema problem at once", () => {
    const issues = issuesOf(
      example("IPPool", (o) => {
        o.spec.blockSize = "x";
        o.spec.natOutgoing = 1;
        o.spec.extra = true;
      }),
    );
    assert.deepEqual(issues.map((i) => i.path).sort(), ["spec.blockSize", "spec.extra", "spec.natOutgoing"]);
  });

  it("reports name syntax together with schema errors", () => {
    const issues = issuesOf(example("IPPool", (o) => ((o.metadata.name = "A"), (o.spec.blockSize = "x"))));
    assert.deepEqual(issues.map((i) => i.path).sort(), ["metadata.name", "spec.blockSize"]);
  });

  it("stamps kind, namespace and name on issues", () => {
    const [issue] = issuesOf(example("EgressGateway", (o) => (o.spec.replicas = -1)));
    assert.deepEqual(
      { ...issue, message: "" },
      { kind: "EgressGateway", namespace: "payments", name: "gw", path: "spec.replicas", message: "" },
    );
  });
});

describe("formatIssue", () => {
  it("formats cluster and namespaced objects as the issue describes", () => {
    assert.equal(
      formatIssue({
        kind: "IPPool",
        name: "egress-a",
        path: "spec.cidr",
        message: '"10.0.0.0/33" is not a valid CIDR',
      }),
      'IPPool egress-a: spec.cidr: "10.0.0.0/33" is not a valid CIDR',
    );
    assert.equal(
      formatIssue({
        kind: "EgressGateway",
        namespace: "payments",
        name: "gw",
        path: "spec.replicas",
        message: "m",
      }),
      "EgressGateway payments/gw: spec.replicas: m",
    );
    assert.equal(formatIssue({ kind: "", path: "kind", message: "m" }), "object: kind: m");
  });

  it("renders the message of the issue's example end to end", () => {
    const r = validateResource(example("IPPool", (o) => (o.spec.cidr = "10.0.0.0/33")));
    assert.ok(!r.ok);
    assert.match(
      formatIssue(r.error[0]!),
      /^IPPool egress-a: spec\.cidr: "10\.0\.0\.0\/33" is not a valid CIDR/,
    );
  });
});

describe("validateResource: odd input never throws", () => {
  const odd: unknown[] = [
    undefined,
    0,
    "",
    "IPPool",
    true,
    Symbol("x"),
    () => 1,
    10n,
    new Date(0),
    { kind: "IPPool", apiVersion: "egw.dev/v1", metadata: null, spec: [] },
    { kind: "IPPool", apiVersion: "egw.dev/v1", metadata: { name: 5n }, spec: { cidr: 1e308 } },
    {
      kind: "Pod",
      apiVersion: "v1",
      metadata: { name: "p", namespace: "d" },
      spec: { containers: [{ deep: nest(5000) }] },
    },
    Object.create(null),
    { kind: { toString: () => "IPPool" } },
  ];
  odd.forEach((input, i) => {
    it(`handles odd input #${i}`, () => {
      const r = validateResource(input);
      assert.equal(r.ok, false);
      if (!r.ok) for (const issue of r.error) assert.ok(issue.path.length > 0 && issue.message.length > 0);
    });
  });
});

function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("validateResource: Pod spec belongs to Kubernetes", () => {
  it("accepts fields of a real Pod manifest that egw does not read", () => {
    const res = validateResource({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", namespace: "shop" },
      spec: { restartPolicy: "Always", containers: [{ name: "web", image: "nginx" }] },
    });
    assert.ok(res.ok, res.ok ? "" : res.error.map(formatIssue).join("\n"));
  });
});
