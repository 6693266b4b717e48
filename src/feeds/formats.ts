// An address group as the body a firewall fetches (pure): Palo Alto PAN-OS external dynamic list
// (IP list), FortiGate threat feed (IP address), Check Point Generic Data Center JSON, and plain
// JSON with where each IP comes from. The body depends only on the group and its last change, so
// its hash is a stable ETag (no "generated at" clock in it). An empty group says it is empty where
// the format allows: PAN-OS takes comments only after an entry on the same line, so an empty EDL is
// an empty body there (the X-Egw-Feed-Empty header says so for every format; see server.ts).
import { createHash } from "node:crypto";
import type { FeedFormat } from "../api/schemas/routing.js";
import type { AddressGroup, FeedEntry } from "./feed-entries.js";

export interface RenderedFeed {
  body: string;
  contentType: string;
}

export const TEXT_TYPE = "text/plain; charset=utf-8";
export const JSON_TYPE = "application/json";

/** The group's header line for text formats. */
const summary = (g: AddressGroup, lastChange: string | undefined): string =>
  `egw address group ${g.path}: ${g.entries.length} ${g.entries.length === 1 ? "entry" : "entries"}` +
  (lastChange === undefined ? "" : `, last change ${lastChange}`);

/** What the inline comment of an entry says: whose IP it is. */
const origin = (e: FeedEntry): string => `${e.pod}${e.draining ? " draining" : ""}`;

/** PAN-OS EDL: `IP/mask [space] comment`, comments only on an entry's line. */
export const renderPanOs = (g: AddressGroup): string =>
  g.entries.map((e) => `${e.cidr} ${origin(e)}\n`).join("");

/** FortiGate threat feed: one entry per line, `#` comment lines first. */
export const renderFortiGate = (g: AddressGroup, lastChange: string | undefined): string =>
  [
    `# ${summary(g, lastChange)}`,
    ...(g.entries.length === 0 ? [`# empty: no egress IP belongs to ${g.path} right now`] : []),
    ...g.entries.map((e) => e.cidr),
  ].join("\n") + "\n";

/** A fixed namespace for egw's UUIDv5 object ids (itself UUIDv5 of "egw.dev/feeds" in the URL namespace). */
const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ""), "hex");

/** RFC 9562 UUID version 5 (SHA-1 of namespace + name). */
export const uuidV5 = (namespace: string, name: string): string => {
  const hash = createHash("sha1").update(uuidBytes(namespace)).update(name, "utf8").digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const EGW_FEED_NAMESPACE = uuidV5(URL_NAMESPACE, "https://egw.dev/feeds");

/** Check Point's object name for a group: `egw-<kind>-<name>` with `/` as `-` (object names take no slashes). */
export const checkPointObjectName = (g: AddressGroup): string => `egw-${g.path.replace(/\//g, "-")}`;

/** Check Point Generic Data Center: one object, id = UUIDv5 of the group path (stable across restarts). */
export const renderCheckPoint = (g: AddressGroup, lastChange: string | undefined): string =>
  JSON.stringify(
    {
      version: "1.0",
      description: summary(g, lastChange),
      objects: [
        {
          name: checkPointObjectName(g),
          id: uuidV5(EGW_FEED_NAMESPACE, g.path),
          description:
            g.entries.length === 0
              ? `empty: no egress IP belongs to ${g.path} right now`
              : `egress IPs of ${g.path}`,
          ranges: g.entries.map((e) => e.ip),
        },
      ],
    },
    null,
    2,
  ) + "\n";

/** Plain JSON: the entries with their pods, nodes and since-timestamps. */
export const renderJson = (g: AddressGroup, lastChange: string | undefined): string =>
  JSON.stringify(
    {
      group: g.path,
      kind: g.kind,
      name: g.name,
      ...(lastChange === undefined ? {} : { lastChange }),
      count: g.entries.length,
      empty: g.entries.length === 0,
      entries: g.entries.map((e) => ({
        ip: e.cidr,
        gateway: e.gateway,
        pod: e.pod,
        ...(e.node === undefined ? {} : { node: e.node }),
        ...(e.since === undefined ? {} : { since: e.since }),
        draining: e.draining,
      })),
    },
    null,
    2,
  ) + "\n";

export const renderFeed = (g: AddressGroup, format: FeedFormat, lastChange?: string): RenderedFeed => {
  switch (format) {
    case "paloalto":
      return { body: renderPanOs(g), contentType: TEXT_TYPE };
    case "fortigate":
      return { body: renderFortiGate(g, lastChange), contentType: TEXT_TYPE };
    case "checkpoint":
      return { body: renderCheckPoint(g, lastChange), contentType: JSON_TYPE };
    case "json":
      return { body: renderJson(g, lastChange), contentType: JSON_TYPE };
  }
};

/** A strong ETag: the body's SHA-256, 32 hex digits, quoted. */
export const etagOf = (body: string): string =>
  `"${createHash("sha256").update(body, "utf8").digest("hex").slice(0, 32)}"`;

/** Whether an If-None-Match header value matches `etag` (`*`, a list, weak forms accepted). */
export const ifNoneMatchHits = (header: string | undefined, etag: string): boolean => {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
};
