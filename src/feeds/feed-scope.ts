// Which EgressGateways a FirewallFeed covers, compiled once per feed (pure): the same rule as the
// api's feedSelectsGateway (its `selector` over the gateway's labels, its `namespaceSelector` over
// the labels of the gateway's namespace, absent = all()), which parses both selectors on every
// call — fine for one gateway (the controller's publish delay), too slow for every gateway against
// every feed on each recomputation. feed-scope.test.ts proves the two agree. Unlike the api's
// function it says why a feed covers nothing when a selector does not parse, so the server can
// answer an error instead of an empty list.
import type { Resource } from "../api/meta.js";
import type { Labels } from "../selector/ast.js";
import { parseSelector, type Selector } from "../selector/selector.js";
import { err, ok, type Result } from "../util/result.js";

/** A FirewallFeed's scope, ready to match. */
export interface FeedScope {
  name: string;
  covers(gatewayLabels: Labels, namespaceLabels: Labels): boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The FirewallFeed's spec, or {} when missing. */
export const feedSpecOf = (feed: Resource): Record<string, unknown> => (isObject(feed.spec) ? feed.spec : {});

/** Compiles a FirewallFeed's scope; an error names the field that does not parse. */
export const compileFeedScope = (feed: Resource): Result<FeedScope, string> => {
  const spec = feedSpecOf(feed);
  const selectorText = typeof spec.selector === "string" ? spec.selector : "";
  const selector = parseSelector(selectorText);
  if (!selector.ok)
    return err(`FirewallFeed ${feed.metadata.name}: spec.selector: ${selector.error.message}`);
  let namespaces: Selector | undefined;
  if (typeof spec.namespaceSelector === "string") {
    const parsed = parseSelector(spec.namespaceSelector);
    if (!parsed.ok)
      return err(`FirewallFeed ${feed.metadata.name}: spec.namespaceSelector: ${parsed.error.message}`);
    namespaces = parsed.value;
  }
  const sel = selector.value;
  return ok({
    name: feed.metadata.name,
    covers: (gatewayLabels, namespaceLabels) =>
      sel.matches(gatewayLabels) && (namespaces === undefined || namespaces.matches(namespaceLabels)),
  });
};
