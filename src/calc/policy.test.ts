import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSelector } from "../selector/selector.js";
import { makePolicy } from "./fixtures.js";
import type { PolicyRuleInput } from "./inputs.js";
import { parsePolicy } from "./policy.js";

const parse = (rules: PolicyRuleInput[]) => parsePolicy(makePolicy("p", rules), parseSelector);
const gw = { selector: "a == 'b'", namespaceSelector: "all()" };

describe("parsePolicy", () => {
  it("orders routes by longest prefix and defaults the destination to 0.0.0.0/0", () => {
    const r = parse([
      { gateway: gw },
      { destination: { cidr: "10.0.0.0/8" } },
      { destination: { cidr: "10.1.0.0/16" }, gateway: { ...gw, maxNextHops: 2 } },
    ]);
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.routes.map((x) => [x.destination, x.target?.maxNextHops ?? "throw"]),
      [
        ["10.1.0.0/16", 2],
        ["10.0.0.0/8", "throw"],
        ["0.0.0.0/0", 0],
      ],
    );
  });

  it("rejects bad input with the policy name and field path", () => {
    const cases: [PolicyRuleInput[], RegExp][] = [
      [[], /^EgressGatewayPolicy "p": spec\.rules must list at least one rule$/],
      [
        [{ destination: { cidr: "10.0.0.0/8" } }, { destination: { cidr: "10.0.0.0/8" } }],
        /spec\.rules\[1\]\.destination\.cidr "10\.0\.0\.0\/8" repeats spec\.rules\[0\]/,
      ],
      [[{ destination: { cidr: "nope" } }], /spec\.rules\[0\]\.destination\.cidr "nope" is not a valid CIDR/],
      [[{ gateway: { ...gw, selector: "" } }], /spec\.rules\[0\]\.gateway\.selector is required/],
      [
        [{ gateway: { ...gw, namespaceSelector: "a ==" } }],
        /spec\.rules\[0\]\.gateway\.namespaceSelector is not valid: selector "a =="/,
      ],
      [[{ gateway: { ...gw, maxNextHops: -1 } }], /spec\.rules\[0\]\.gateway\.maxNextHops -1 is not valid/],
      [
        [{ gateway: gw, gatewayPreference: "Nearest" }],
        /spec\.rules\[0\]\.gatewayPreference "Nearest" is not valid: use None, PreferNodeLocal or PreferSameZone/,
      ],
    ];
    for (const [rules, expected] of cases) {
      const r = parse(rules);
      assert.equal(r.ok, false);
      assert.match(r.ok ? "" : r.error, expected);
    }
  });
});
