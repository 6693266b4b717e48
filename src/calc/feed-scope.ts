// Which EgressGateways a FirewallFeed covers (pure): its `selector` over the gateway's own labels
// (metadata.labels) and its `namespaceSelector` over the labels of the gateway's namespace
// (absent = every namespace). Shared by the feeds server (which gateways' egress IPs a custom
// feed lists) and the controller (how long a new replica waits for the feeds covering it). It
// reads the FirewallFeed defensively: a selector that does not parse covers nothing (fail closed
// for the feed; apply-time validation is the api's job).
import type { Resource } from "../api/meta.js";
import type { Labels } from "../selector/ast.js";
import { parseSelector, type Selector } from "../selector/selector.js";
import { err, ok, type Result } from "../util/result.js";

/** A FirewallFeed's scope, ready to match. */
export interface FeedScope {
  name: string;
  /** 0 when unset. */
  publishDelaySeconds: number;
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
  const delay = spec.publishDelaySeconds;
  const sel = selector.value;
  return ok({
    name: feed.metadata.name,
    publishDelaySeconds: typeof delay === "number" && Number.isFinite(delay) && delay > 0 ? delay : 0,
    covers: (gatewayLabels, namespaceLabels) =>
      sel.matches(gatewayLabels) && (namespaces === undefined || namespaces.matches(namespaceLabels)),
  });
};

/**
 * The longest publishDelaySeconds among the feeds covering a gateway with these labels (0 when
 * none covers it). A feed whose selector does not parse delays nothing: it lists nothing either.
 */
export const publishDelaySecondsFor = (
  feeds: readonly Resource[],
  gatewayLabels: Labels,
  namespaceLabels: Labels,
): number => {
  let max = 0;
  for (const f of feeds) {
    const scope = compileFeedScope(f);
    if (scope.ok && scope.value.covers(gatewayLabels, namespaceLabels))
      max = Math.max(max, scope.value.publishDelaySeconds);
  }
  return max;
};
