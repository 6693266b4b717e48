// One HTTP fetch of a feed, the way a firewall polls an external list: If-None-Match with the
// ETag of its last good copy, a deadline, and every way it can end mapped to a FeedAnswer (a
// network error, a timeout and a non-2xx answer are all "failed"; what that means for the
// firewall's copy is decided in firewall-feeds.ts). Credentials in the URL (user:pass@) are sent
// as basic auth, since fetch refuses URLs that carry them.
import type { FeedAnswer } from "./firewall-feeds.js";

export const FEED_FETCH_TIMEOUT_MS = 10_000;
const USER_AGENT = "egw-lab-firewall";

const firstLine = (text: string): string => text.trim().split(/\r?\n/, 1)[0]?.slice(0, 200) ?? "";

const why = (e: unknown): string => {
  if (e instanceof Error && e.name === "TimeoutError") return "no answer in time";
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
};

export const fetchFeed = async (
  url: string,
  etag: string | undefined,
  timeoutMs = FEED_FETCH_TIMEOUT_MS,
): Promise<FeedAnswer> => {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { kind: "failed", message: `${url} is not a URL` };
  }
  const headers: Record<string, string> = { "user-agent": USER_AGENT, accept: "text/plain" };
  if (etag !== undefined) headers["if-none-match"] = etag;
  if (target.username !== "" || target.password !== "") {
    const user = decodeURIComponent(target.username);
    const pass = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
    target.username = "";
    target.password = "";
  }
  try {
    const res = await fetch(target, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    const body = await res.text();
    if (res.status === 304) return { kind: "not-modified", status: 304 };
    if (res.status < 200 || res.status > 299) {
      const text = firstLine(body);
      return { kind: "failed", status: res.status, message: `HTTP ${res.status}${text ? `: ${text}` : ""}` };
    }
    const tag = res.headers.get("etag");
    return { kind: "body", status: res.status, body, ...(tag === null ? {} : { etag: tag }) };
  } catch (e) {
    return { kind: "failed", message: `cannot fetch ${target.host}: ${why(e)}` };
  }
};
