// Rule counters survive a table replacement: the render starts each counted rule at the value the
// kernel read back for its comment, and that value never enters the "does nft differ" decision.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AccessPlan } from "../calc/access/plan.js";
import type { KernelNodePlan } from "./kernel-plan.js";
import { nftMatches } from "./kernel.js";
import type { CounterValues } from "./model.js";
import { ACCEPT, chain, counter, DROP, is, rule } from "./nft/objects.js";
import { replaceTableText, ruleText } from "./nft/text.js";
import { withCounterValues } from "./nft-text.js";
import { parseNft } from "./parse.js";
import { renderNode } from "./render-node.js";

const access: AccessPlan = {
  problems: [],
  tiers: [
    {
      name: "default",
      defaultAction: "Deny",
      policies: [
        {
          kind: "GlobalNetworkPolicy",
          name: "a",
          key: "gnp:a",
          appliesTo: [{ key: "ns/p1", hostInterface: "ew1" }],
          rules: [
            { index: 0, action: "Allow", protocol: 6, nets: ["198.18.10.10/32"] },
            { index: 1, action: "Deny" },
          ],
        },
      ],
    },
  ],
};

const nodePlan = (pods: number): KernelNodePlan => ({
  node: "n1",
  nodeIP: "172.30.0.1",
  workloadCidrs: ["10.244.0.0/16"],
  workloads: Array.from({ length: pods }, (_, i) => ({
    namespace: "ns",
    name: `p${i + 1}`,
    ip: `10.244.1.${i + 2}`,
    hostInterface: `ew${i + 1}`,
  })),
  gatewaySets: [],
  tunnelPeers: [],
  pins: [],
  access,
});

const counters: CounterValues = new Map([
  ["egw-rule gnp:a 0", { packets: 7, bytes: 420 }],
  ["egw-rule gnp:a 1", { packets: 3, bytes: 180 }],
  ["egw-default default", { packets: 1, bytes: 60 }],
  ["spoofed source", { packets: 2, bytes: 120 }],
  ["egw-rule gnp:gone 0", { packets: 99, bytes: 99 }],
]);

const render = (pods: number, values?: CounterValues) => {
  const r = renderNode(nodePlan(pods));
  assert.ok(r.ok, r.ok ? "" : r.error.join("; "));
  return { ...r.value, nft: replaceTableText(withCounterValues(r.value.table, values)) };
};

describe("counter values across table replacement", () => {
  it("starts each rule whose comment is unchanged at the kernel's value", () => {
    const text = render(1, counters).nft;
    assert.match(
      text,
      /meta l4proto 6 ip daddr @egw_n0 counter packets 7 bytes 420 accept comment "egw-rule gnp:a 0"/,
    );
    assert.match(
      text,
      /counter packets 3 bytes 180 log prefix "egw\|D\|default\|gnp:a\|1" group 5 drop comment "egw-rule gnp:a 1"/,
    );
    assert.match(
      text,
      /counter packets 1 bytes 60 log prefix "[^"]*" group 5 drop comment "egw-default default"/,
    );
    assert.match(text, /!= @egw_workload_pairs counter packets 2 bytes 120 drop comment "spoofed source"/);
    assert.match(text, /counter drop comment "unknown workload interface"/, "no value read: starts at zero");
    assert.doesNotMatch(text, /packets 99/, "a rule that is gone takes nothing");
  });

  it("keeps counter values out of the shape, so they never make the table look different", () => {
    const plain = render(1);
    const valued = render(1, counters);
    assert.deepEqual(valued.shape, plain.shape);
    assert.equal(
      replaceTableText(withCounterValues(plain.table, counters)),
      valued.nft,
      "the dataplane's late fill-in is the same",
    );
    const kernel = {
      exists: true,
      hash: plain.shape.hash,
      chains: plain.shape.chains,
      sets: plain.shape.sets,
    };
    assert.ok(nftMatches({ ...kernel, counters }, plain.shape), "counters are not compared");
    assert.ok(nftMatches({ ...kernel, counters: new Map() }, valued.shape));
    // An unrelated plan change (a new pod) still reloads, and carries the values along.
    const grown = render(2, counters);
    assert.ok(!nftMatches({ ...kernel, counters }, grown.shape));
    assert.match(grown.nft, /counter packets 7 bytes 420 accept comment "egw-rule gnp:a 0"/);
  });

  it("leaves alone rules whose comment is not unique, and rules already carrying values", () => {
    const table = {
      name: "egw",
      objects: [
        chain("egw_c", [
          rule([is("ip daddr", "1.1.1.1")], [counter()], ACCEPT, "dup"),
          rule([is("ip daddr", "2.2.2.2")], [counter()], DROP, "dup"),
          rule([], [{ kind: "counter", packets: 5, bytes: 5 }], ACCEPT, "set"),
          rule([], [counter()], ACCEPT),
        ]),
      ],
    };
    const values = new Map([
      ["dup", { packets: 1, bytes: 1 }],
      ["set", { packets: 9, bytes: 9 }],
    ]);
    assert.equal(withCounterValues(table, values), table);
    assert.equal(withCounterValues(table, undefined), table);
    const c = table.objects[0];
    assert.deepEqual(c?.rules.map(ruleText), [
      'ip daddr 1.1.1.1 counter accept comment "dup"',
      'ip daddr 2.2.2.2 counter drop comment "dup"',
      'counter packets 5 bytes 5 accept comment "set"',
      "counter accept",
    ]);
  });

  it("reads counter values by comment from nft -j, dropping ambiguous ones", () => {
    const rule = (chain: string, comment: string | undefined, packets: number) => ({
      rule: {
        family: "inet",
        table: "egw",
        chain,
        ...(comment === undefined ? {} : { comment }),
        expr: [{ match: {} }, { counter: { packets, bytes: packets * 60 } }, { accept: null }],
      },
    });
    const observed = parseNft({
      nftables: [
        { table: { family: "inet", name: "egw" } },
        rule("egw_p0", "egw-rule gnp:a 0", 7),
        rule("egw_from_workload", "spoofed source", 2),
        rule("egw_p0", "twice", 1),
        rule("egw_p1", "twice", 1),
        rule("egw_p1", undefined, 4),
        {
          rule: {
            family: "inet",
            table: "egw",
            chain: "egw_p1",
            comment: "no counter",
            expr: [{ accept: null }],
          },
        },
      ],
    });
    assert.deepEqual(
      [...(observed.counters ?? new Map())],
      [
        ["egw-rule gnp:a 0", { packets: 7, bytes: 420 }],
        ["spoofed source", { packets: 2, bytes: 120 }],
      ],
    );
    assert.equal(observed.chains.egw_p1, 3, "rule counts are unaffected");
  });
});
