import assert from "node:assert/strict";
import { test } from "node:test";
import { feedSelectsGateway, publishDelayFor } from "../api/routing.js";
import type { EgressGateway } from "../api/schemas/egress.js";
import type { FirewallFeed } from "../api/schemas/routing.js";
import { compileFeedScope } from "./feed-scope.js";
import { firewallFeed, gateway } from "./testing/objects.js";

const SELECTORS = [
  "all()",
  "team == 'a'",
  "team in {'a','b'}",
  "has(pci) && team != 'b'",
  "!has(team)",
  "team == ",
];
const NS_SELECTORS = [undefined, "all()", "tier == 'pci'", "!has(tier)", "tier =="];
const LABELS: Record<string, string>[] = [
  {},
  { team: "a" },
  { team: "b", pci: "yes" },
  { team: "a", pci: "" },
  { other: "x" },
];
const NS_LABELS: Record<string, string>[] = [{}, { tier: "pci" }, { tier: "dev" }];

test("the compiled scope agrees with the api's feedSelectsGateway on every combination", () => {
  let checked = 0;
  for (const selector of SELECTORS)
    for (const namespaceSelector of NS_SELECTORS) {
      const feed = firewallFeed("f", {
        selector,
        ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
      });
      const scope = compileFeedScope(feed);
      for (const labels of LABELS)
        for (const nsLabels of NS_LABELS) {
          const gw = gateway("ns", "gw", labels) as EgressGateway;
          const want = feedSelectsGateway(feed as FirewallFeed, gw, nsLabels);
          const got = scope.ok && scope.value.covers(labels, nsLabels);
          assert.equal(
            got,
            want,
            `${selector} / ${namespaceSelector} on ${JSON.stringify(labels)} ${JSON.stringify(nsLabels)}`,
          );
          checked++;
        }
      if (!scope.ok) assert.match(scope.error, /FirewallFeed f: spec\.(namespaceSelector|selector): /);
    }
  assert.equal(checked, SELECTORS.length * NS_SELECTORS.length * LABELS.length * NS_LABELS.length);
});

test("publish delay (the controller's rule): the longest delay among the feeds covering a gateway", () => {
  const feeds = [
    firewallFeed("a", { selector: "team == 'payments'", publishDelaySeconds: 30 }),
    firewallFeed("b", { selector: "all()", publishDelaySeconds: 5 }),
    firewallFeed("c", { selector: "all()", namespaceSelector: "tier == 'pci'", publishDelaySeconds: 600 }),
    firewallFeed("bad", { selector: "((", publishDelaySeconds: 900 }),
  ] as FirewallFeed[];
  const gw = (labels: Record<string, string>) => gateway("ns", "gw", labels) as EgressGateway;
  assert.equal(publishDelayFor(feeds, gw({ team: "payments" }), {}), 30);
  assert.equal(publishDelayFor(feeds, gw({}), { tier: "pci" }), 600);
  assert.equal(publishDelayFor(feeds, gw({}), {}), 5);
  assert.equal(publishDelayFor([], gw({}), {}), 0);
});
