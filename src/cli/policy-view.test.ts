// The rule table of `egw describe networkpolicy|globalnetworkpolicy`, with and without counters.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../api/meta.js";
import { ruleComment } from "../dataplane/render-policy.js";
import { parsePolicyCounters, sumCounters } from "../dataplane/policy-counters.js";
import { describePolicyRules, describeRuleMatch } from "./policy-view.js";

const gnp: Resource = {
  apiVersion: "egw.dev/v1",
  kind: "GlobalNetworkPolicy",
  metadata: { name: "shop-egress" },
  spec: {
    egress: [
      { action: "Allow", protocol: "TCP", destination: { nets: ["198.18.10.10/32"], ports: [80] } },
      { action: "Deny" },
    ],
  },
};

/** What `nft -j list table inet egw` prints for two counted rules. */
const nftJson = (packets: [number, number]) => ({
  nftables: [
    { metainfo: {} },
    ...packets.map((p, i) => ({
      rule: {
        family: "inet",
        table: "egw",
        chain: "egw_p0",
        comment: ruleComment("gnp:shop-egress", i),
        expr: [{ counter: { packets: p, bytes: p * 60 } }, { accept: null }],
      },
    })),
  ],
});

describe("describe policy rules", () => {
  it("sums the counters of several nodes per rule", () => {
    const counters = sumCounters([
      parsePolicyCounters(nftJson([3, 5])),
      parsePolicyCounters(nftJson([1, 0])),
    ]);
    const lines = describePolicyRules(gnp, {
      kind: "read",
      where: 'lab "t"',
      counters,
      nodes: ["node-1", "node-2"],
      errors: ["node-3: nft failed"],
    });
    assert.equal(lines[0], "Egress rules:");
    assert.match(lines[1] ?? "", /RULE\s+ACTION\s+PACKETS\s+BYTES\s+MATCH/);
    assert.match(lines[2] ?? "", /^\s+0\s+Allow\s+4\s+240\s+TCP to 198\.18\.10\.10\/32 ports 80$/);
    assert.match(lines[3] ?? "", /^\s+1\s+Deny\s+5\s+300\s+everything$/);
    assert.match(lines[4] ?? "", /summed over lab "t" nodes node-1, node-2/);
    assert.match(lines[5] ?? "", /not read: node-3: nft failed/);
  });

  it("says where counters live when they cannot be read from here", () => {
    const lines = describePolicyRules(gnp, { kind: "unavailable", why: "read them on the nodes" });
    assert.match(lines[2] ?? "", /^\s+0\s+Allow\s+-\s+-\s+TCP/);
    assert.equal(lines.at(-1), "Counters: read them on the nodes");
  });

  it("describes matches compactly", () => {
    assert.equal(
      describeRuleMatch({
        action: "Allow",
        protocol: "UDP",
        destination: {
          selector: "role == 'db'",
          namespaceSelector: "all()",
          notNets: ["10.0.0.0/8"],
          notPorts: ["1:1023"],
        },
      }),
      `UDP not to 10.0.0.0/8 to pods/sets "role == 'db'" in namespaces "all()" not ports 1:1023`,
    );
    assert.equal(describePolicyRules({ ...gnp, spec: {} }, { kind: "unavailable", why: "x" })[1], "  (none)");
  });
});
