// FirewallFeed status as `egw feeds` writes it (pure part and the write): the base URL of the feed,
// its entry count and when its entries last changed. Written with compare-and-swap only when the
// stored status says something else, so several feeds servers (or a restart) agree without churn.
import type { Resource } from "../api/meta.js";
import { readModifyWrite } from "../datastore/read-modify-write.js";
import type { Datastore } from "../datastore/types.js";
import { err, ok, type Result } from "../util/result.js";
import type { GroupSummary } from "./catalog.js";
import { feedBasePath } from "./feed-url.js";

export interface FirewallFeedStatus {
  url: string;
  entries: number;
  lastChange: string;
}

export const desiredFeedStatus = (baseUrl: string, s: GroupSummary): FirewallFeedStatus => ({
  url: `${baseUrl}${feedBasePath(s.path)}`,
  entries: s.entries,
  lastChange: s.lastChange,
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether the stored object already carries `want` (other status fields are left alone). */
export const statusIsCurrent = (feed: Resource, want: FirewallFeedStatus): boolean => {
  const st = isObject(feed.status) ? feed.status : {};
  return st.url === want.url && st.entries === want.entries && st.lastChange === want.lastChange;
};

/** Writes `want` into FirewallFeed `name`'s status unless it is there already. */
export const writeFeedStatus = async (
  store: Datastore,
  name: string,
  want: FirewallFeedStatus,
): Promise<Result<"written" | "unchanged" | "absent", string>> => {
  const r = await readModifyWrite(store, { kind: "FirewallFeed", name }, (feed) => {
    if (statusIsCurrent(feed, want)) return undefined;
    return { ...feed, status: { ...(isObject(feed.status) ? feed.status : {}), ...want } };
  });
  if (!r.ok) return err(`writing the status of FirewallFeed ${name}: ${r.error.message}`);
  return ok(r.value.kind);
};
