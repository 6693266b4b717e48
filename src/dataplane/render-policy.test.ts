import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AccessPlan, AccessPolicy, AccessTier } from "../calc/access/plan.js";
import type { KernelNodePlan } from "./kernel-plan.js";
import { countersOfPolicy, parsePolicyCounters, sumCounters } from "./policy-counters.js";
import { ruleText, tableBodyLines } from "./nft/text.js";
import { renderNode } from "./render-node.js";
import {
  counterRef,
  nflogPrefix,
  NFLOG_PREFIX_MAX,
  renderAccessPlan,
  type CompiledAccessPolicy,
} from "./render-policy.js";

const policy = (key: string, ifaces: string[], rules: AccessPolicy["rules"]): AccessPolicy => ({
  kind: "GlobalNetworkPolicy",
  name: key.slice(4),
  key,
  appliesTo: ifaces.map((i) => ({ key: `ns/${i}`, hostInterface: i })),
  rules,
});
const tier = (name: string, defaultAction: "Deny" | "Pass", policies: AccessPolicy[]): AccessTier => ({
  name,
  defaultAction,
  policies,
});

const plan: AccessPlan = {
  problems: [],
  tiers: [
    tier("security", "Pass", [
      policy(
        "gnp:a",
        ["ew1", "ew2"],
        [
          { index: 0, action: "Log" },
          { index: 1, action: "Pass", nets: ["198.18.0.0/24"] },
          {
            index: 2,
            action: "Allow",
            protocol: 6,
            ports: [
              { from: 80, to: 80 },
              { from: 79, to: 81 },
              { from: 1000, to: 2000 },
            ],
          },
          { index: 3, action: "Deny", protocol: 17, notPorts: [{ from: 53, to: 53 }] },
          { index: 4, action: "Deny", nets: [], never: "only IPv6 nets" },
        ],
      ),
    ]),
    tier("default", "Deny", [
      policy(
        "gnp:b",
        ["ew1"],
        [
          { index: 0, action: "Allow", selected: ["10.244.1.2/32"], nets: ["198.18.0.0/24"] },
          { index: 1, action: "Deny", protocol: 1, notNets: ["9.9.9.9/32"] },
          { index: 2, action: "Deny", invalid: "bad rule" },
        ],
      ),
      policy("gnp:c", ["ew3", "bad iface!"], [{ index: 0, action: "Allow", ipVersion: 4, notProtocol: 6 }]),
    ]),
  ],
};

/** The compiled policy as nft text: declaration lines, egw_policy rules, chain rule counts. */
const compile = (p: AccessPlan) => {
  const c: CompiledAccessPolicy = renderAccessPlan(p);
  const chains: Record<string, number> = {};
  for (const o of c.objects) if (o.kind === "chain") chains[o.name] = o.rules.length;
  return { definitions: tableBodyLines(c.objects), rules: c.rules.map(ruleText), chains };
};

const chainOf = (defs: string[], name: string): string[] => {
  const start = defs.indexOf(`chain ${name} {`);
  assert.ok(start >= 0, `chain ${name} missing`);
  const end = defs.indexOf("}", start);
  return defs.slice(start + 1, end).map((l) => l.trim());
};

describe("renderAccessPlan", () => {
  it("renders nothing for a plan without tiers", () => {
    assert.deepEqual(renderAccessPlan({ tiers: [], problems: [] }), { objects: [], rules: [] });
  });

  it("dispatches tiers from egw_policy and chains policies with goto", () => {
    const hook = compile(plan);
    assert.deepEqual(hook.rules, ["iifname != @egw_access_if return", "jump egw_t0", "jump egw_t1"]);
    const d = hook.definitions;
    assert.deepEqual(chainOf(d, "egw_t0"), ["iifname != @egw_t0_if return", "goto egw_p0"]);
    assert.deepEqual(chainOf(d, "egw_t1"), ["iifname != @egw_t1_if return", "goto egw_p1"]);
    assert.deepEqual(chainOf(d, "egw_p0"), [
      "iifname != @egw_p0_if goto egw_t0_end",
      'counter log prefix "egw|L|security|gnp:a|0" group 5 comment "egw-rule gnp:a 0"',
      'ip daddr @egw_n0 counter return comment "egw-rule gnp:a 1"',
      'meta l4proto 6 th dport { 79-81, 1000-2000 } counter accept comment "egw-rule gnp:a 2"',
      'meta l4proto 17 th dport != 53 counter log prefix "egw|D|security|gnp:a|3" group 5 drop comment "egw-rule gnp:a 3"',
      "goto egw_t0_end",
    ]);
    assert.deepEqual(chainOf(d, "egw_t0_end"), ['counter return comment "egw-default security"']);
    assert.deepEqual(chainOf(d, "egw_p1"), [
      "iifname != @egw_p1_if goto egw_p2",
      'ip daddr @egw_n0 ip daddr @egw_p1_r0_sel counter accept comment "egw-rule gnp:b 0"',
      'meta l4proto 1 ip daddr != @egw_n1 counter log prefix "egw|D|default|gnp:b|1" group 5 drop comment "egw-rule gnp:b 1"',
      'counter log prefix "egw|D|default|gnp:b|2" group 5 drop comment "egw-rule gnp:b 2"',
      "goto egw_p2",
    ]);
    assert.deepEqual(chainOf(d, "egw_p2"), [
      "iifname != @egw_p2_if goto egw_t1_end",
      'meta nfproto ipv4 meta l4proto != 6 counter accept comment "egw-rule gnp:c 0"',
      "goto egw_t1_end",
    ]);
    assert.deepEqual(chainOf(d, "egw_t1_end"), [
      'counter log prefix "egw|D|default||default" group 5 drop comment "egw-default default"',
    ]);
    assert.equal(hook.chains.egw_p0, 6);
    assert.equal(hook.chains.egw_t1_end, 1);
  });

  it("keeps sets per distinct fixed CIDR list and per policy's interfaces (invalid names left out)", () => {
    const d = compile(plan).definitions;
    assert.ok(d.includes('set egw_p2_if { type ifname; elements = { "ew3" } }'));
    assert.ok(d.includes('set egw_access_if { type ifname; elements = { "ew1", "ew2", "ew3" } }'));
    assert.ok(
      d.includes("set egw_n0 { type ipv4_addr; flags interval; auto-merge; elements = { 198.18.0.0/24 } }"),
    );
    assert.equal(d.filter((l) => l.startsWith("set egw_n")).length, 2);
    assert.ok(
      d.includes(
        "set egw_p1_r0_sel { type ipv4_addr; flags interval; auto-merge; elements = { 10.244.1.2/32 } }",
      ),
    );
  });

  it("names a destination-selector set by its policy and rule: pods coming and going change only elements", () => {
    const withSelected = (selected: string[]): AccessPlan => ({
      problems: [],
      tiers: [
        tier("default", "Deny", [
          policy(
            "gnp:s",
            ["ew1"],
            [
              { index: 0, action: "Allow", selected: ["198.18.0.0/24"] },
              { index: 1, action: "Allow", nets: ["198.18.0.0/24"] },
              { index: 2, action: "Allow", protocol: 6, selected },
            ],
          ),
        ]),
      ],
    });
    const before = renderAccessPlan(withSelected(["10.244.1.2/32"]));
    const after = renderAccessPlan(withSelected(["10.244.1.2/32", "10.244.1.3/32", "198.18.0.0/24"]));
    const names = (c: CompiledAccessPolicy): string[] => c.objects.map((o) => o.name);
    assert.deepEqual(names(after), names(before));
    assert.ok(names(before).includes("egw_p0_r2_sel") && names(before).includes("egw_p0_r0_sel"));
    const chains = (c: CompiledAccessPolicy): string[] =>
      tableBodyLines(c.objects.filter((o) => o.kind === "chain"));
    assert.deepEqual(chains(after), chains(before), "no rule changed");
    const sel = after.objects.find((o) => o.name === "egw_p0_r2_sel");
    assert.deepEqual(sel?.kind === "set" ? sel.elements : [], [
      "10.244.1.2/32",
      "10.244.1.3/32",
      "198.18.0.0/24",
    ]);
  });

  it("does not grow the rule count with CIDRs or pods", () => {
    const cidrs = Array.from(
      { length: 100_000 },
      (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
    );
    const pods = Array.from({ length: 500 }, (_, i) => `ew${i}`);
    const big = compile({
      problems: [],
      tiers: [tier("default", "Deny", [policy("gnp:x", pods, [{ index: 0, action: "Allow", nets: cidrs }])])],
    });
    const small = compile({
      problems: [],
      tiers: [
        tier("default", "Deny", [
          policy("gnp:x", ["ew0"], [{ index: 0, action: "Allow", nets: ["10.0.0.1/32"] }]),
        ]),
      ],
    });
    assert.deepEqual(big.chains, small.chains);
    assert.deepEqual(big.rules, small.rules);
  });

  it("names NFLOG prefixes by tier, policy and rule, cut deterministically to 64 characters", () => {
    assert.equal(nflogPrefix("Deny", "app", "np:shop/web", 3), "egw|D|app|np:shop/web|3");
    const long = nflogPrefix("Log", "t".repeat(60), `np:ns/${"p".repeat(200)}`, 12);
    assert.equal(long.length, NFLOG_PREFIX_MAX);
    assert.equal(long, nflogPrefix("Log", "t".repeat(60), `np:ns/${"p".repeat(200)}`, 12));
    assert.notEqual(long, nflogPrefix("Log", "t".repeat(60), `np:ns/${"p".repeat(200)}`, 13));
    assert.match(long, /^egw\|L\|t+~[0-9a-f]{8}$/);
    assert.match(counterRef(`gnp:${"x".repeat(200)}`), /^#[0-9a-f]{16}$/);
  });

  it("is rendered into the node table from NodePlan.access, with its chains in the drift shape", () => {
    const node: KernelNodePlan = {
      node: "n1",
      nodeIP: "172.30.0.1",
      workloadCidrs: ["10.244.0.0/16"],
      workloads: [{ namespace: "ns", name: "ew1", ip: "10.244.1.2", hostInterface: "ew1" }],
      gatewaySets: [],
      tunnelPeers: [],
      pins: [],
      access: plan,
    };
    const r = renderNode(node);
    assert.ok(r.ok);
    assert.match(r.value.nft, /chain egw_policy \{\n {4}iifname != @egw_access_if return\n {4}jump egw_t0/);
    assert.equal(r.value.shape.chains.egw_p0, 6);
    assert.equal(r.value.shape.chains.egw_policy, 3);
    const without = renderNode({ ...node, access: undefined });
    assert.ok(without.ok);
    assert.notEqual(without.value.shape.hash, r.value.shape.hash);
  });
});

describe("policy counters", () => {
  const rule = (comment: string | undefined, packets: number, bytes: number) => ({
    rule: {
      family: "inet",
      table: "egw",
      chain: "egw_p0",
      ...(comment ? { comment } : {}),
      expr: [{ match: {} }, { counter: { packets, bytes } }, { accept: null }],
    },
  });
  const node1 = {
    nftables: [
      { metainfo: {} },
      { table: { name: "egw" } },
      rule("egw-rule gnp:a 0", 3, 180),
      rule("egw-rule gnp:a 1", 1, 60),
      rule("egw-default security", 2, 120),
      rule("spoofed source", 9, 9),
      rule(undefined, 9, 9),
    ],
  };
  const node2 = { nftables: [rule("egw-rule gnp:a 0", 4, 240), rule("egw-rule np:shop/x 2", 5, 300)] };

  it("parses per-rule counters and sums them over nodes", () => {
    assert.deepEqual(parsePolicyCounters(node1), [
      { ref: "gnp:a", rule: 0, packets: 3, bytes: 180 },
      { ref: "gnp:a", rule: 1, packets: 1, bytes: 60 },
      { ref: "security", rule: "default", packets: 2, bytes: 120 },
    ]);
    const sum = sumCounters([parsePolicyCounters(node1), parsePolicyCounters(node2)]);
    assert.deepEqual(sum[0], { ref: "gnp:a", rule: 0, packets: 7, bytes: 420 });
    assert.deepEqual([...countersOfPolicy(sum, "np:shop/x")], [[2, { packets: 5, bytes: 300 }]]);
    assert.deepEqual(parsePolicyCounters("garbage"), []);
  });
});
