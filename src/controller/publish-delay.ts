// Publish before use: how long a new replica of a gateway waits before it may take traffic, so the
// firewalls polling the FirewallFeeds that cover the gateway have fetched its egress IP first. The
// decision is pure (`usableAfterAnnotations`, over the api's publishDelayFor); `readPublishDelay`
// reads the FirewallFeeds and the gateway's Namespace. A failed read fails the create: a replica
// must not skip the delay because the feeds could not be read. A malformed stored FirewallFeed is
// left out (it serves no list either).
import type { EgressGateway } from "../api/schemas/egress.js";
import { ANN_GATEWAY_USABLE_AFTER } from "../api/well-known.js";
import { publishDelayFor } from "../api/routing.js";
import type { FirewallFeed } from "../api/schemas/routing.js";
import { malformed } from "../daemon/input-check.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import { stringMap } from "./views.js";

/** The annotation a replica created at `nowMs` carries for a delay of `seconds` (none for 0). */
export const usableAfterAnnotations = (nowMs: number, seconds: number): Record<string, string> =>
  seconds > 0 ? { [ANN_GATEWAY_USABLE_AFTER]: new Date(nowMs + seconds * 1000).toISOString() } : {};

/** The longest publishDelaySeconds of the FirewallFeeds covering `gw` (0 when none). */
export const readPublishDelay = async (
  store: Datastore,
  gw: EgressGateway,
): Promise<Result<number, string>> => {
  const feeds = await store.list("FirewallFeed");
  if (!feeds.ok) return err(`listing FirewallFeeds (publish delay): ${feeds.error.message}`);
  if (feeds.value.items.length === 0) return ok(0);
  const namespace = gw.metadata.namespace ?? "";
  const ns = await store.get({ kind: "Namespace", name: namespace });
  if (!ns.ok && ns.error.code !== "NotFound")
    return err(`reading Namespace ${namespace} (publish delay): ${ns.error.message}`);
  const nsLabels = ns.ok ? stringMap(ns.value.metadata.labels) : {};
  const wellFormed = feeds.value.items.filter(
    (f) => malformed("FirewallFeed", f) === undefined,
  ) as FirewallFeed[];
  return ok(publishDelayFor(wellFormed, gw, nsLabels));
};
