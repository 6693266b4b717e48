// The feed URL scheme (pure): `/feeds/<kind>/<name>[.suffix][?format=…]`, where kind is pool,
// gateway (`<namespace>/<gateway>`), namespace or custom (a FirewallFeed). With `?format=` the last
// segment is the name verbatim; without it one known suffix is taken off its end (longest first),
// and no suffix means PAN-OS text. So names containing dots stay reachable: pool `a.json` is
// `/feeds/pool/a.json.txt`. docs/feeds.md documents this for firewall administrators.
import type { FeedFormat } from "../api/schemas/routing.js";
import type { GroupKind } from "./feed-entries.js";
import { err, ok, type Result } from "../util/result.js";

export const FEEDS_PREFIX = "/feeds";

/** Suffix of each format, longest first (the order they are tried in). */
export const FORMAT_SUFFIXES: readonly (readonly [string, FeedFormat])[] = [
  [".checkpoint.json", "checkpoint"],
  [".fortigate.txt", "fortigate"],
  [".json", "json"],
  [".txt", "paloalto"],
];

export const suffixOf = (f: FeedFormat): string =>
  FORMAT_SUFFIXES.find(([, format]) => format === f)?.[0] ?? ".txt";

const FORMAT_NAMES: Readonly<Record<string, FeedFormat>> = {
  paloalto: "paloalto",
  panos: "paloalto",
  edl: "paloalto",
  fortigate: "fortigate",
  checkpoint: "checkpoint",
  json: "json",
};

export interface FeedRequest {
  /** The group path (`pool/egress-a`, `gateway/ns/gw`, …), as AddressGroup.path. */
  path: string;
  kind: GroupKind;
  format: FeedFormat;
}

/** What a request path asks for; an error text for a 404 (or 400 for an unknown ?format=). */
export const parseFeedRequest = (
  pathname: string,
  formatParam: string | null,
): Result<FeedRequest, { status: 400 | 404; message: string }> => {
  const notFound = (message: string): { ok: false; error: { status: 404; message: string } } =>
    err({ status: 404, message });
  if (!pathname.startsWith(`${FEEDS_PREFIX}/`)) return notFound("not a feed path");
  let segments: string[];
  try {
    segments = pathname
      .slice(FEEDS_PREFIX.length + 1)
      .split("/")
      .map(decodeURIComponent);
  } catch {
    return notFound("the path is not valid percent-encoding");
  }
  const [kind, ...rest] = segments;
  const arity: Record<string, number> = { pool: 1, gateway: 2, namespace: 1, custom: 1 };
  if (kind === undefined || arity[kind] === undefined)
    return notFound(`unknown group kind "${kind ?? ""}": use pool, gateway, namespace or custom`);
  if (rest.length !== arity[kind] || rest.some((s) => s === ""))
    return notFound(
      kind === "gateway" ? "use /feeds/gateway/<namespace>/<gateway>" : `use /feeds/${kind}/<name>`,
    );
  let format: FeedFormat = "paloalto";
  let last = rest[rest.length - 1] ?? "";
  if (formatParam !== null) {
    const named = FORMAT_NAMES[formatParam.toLowerCase()];
    if (named === undefined)
      return err({
        status: 400,
        message: `unknown format "${formatParam}": use paloalto, fortigate, checkpoint or json`,
      });
    format = named;
  } else {
    const hit = FORMAT_SUFFIXES.find(([s]) => last.endsWith(s) && last.length > s.length);
    if (hit !== undefined) {
      last = last.slice(0, -hit[0].length);
      format = hit[1];
    }
  }
  const name = [...rest.slice(0, -1), last].join("/");
  return ok({ path: `${kind}/${name}`, kind: kind as GroupKind, format });
};

/** The canonical URL path of a group in a format (always with the suffix). */
export const feedUrlPath = (groupPath: string, format: FeedFormat): string =>
  `${FEEDS_PREFIX}/${groupPath.split("/").map(encodeURIComponent).join("/")}${suffixOf(format)}`;

/** The base URL path of a group, as FirewallFeed status shows it (PAN-OS text without a suffix, unless the name itself ends in one). */
export const feedBasePath = (groupPath: string): string => {
  const plain = `${FEEDS_PREFIX}/${groupPath.split("/").map(encodeURIComponent).join("/")}`;
  return FORMAT_SUFFIXES.some(([s]) => groupPath.endsWith(s)) ? `${plain}.txt` : plain;
};
