// A minimal HTTP GET port, so health polling and probes can run over fetch (in the daemon's own
// netns) or through a Runner (tests that drive a netns from outside, with curl).
import type { Runner } from "../dataplane/runner.js";

/** `status` for any HTTP response; `error` when no response arrived (refused, timeout…). */
export type HttpGetResult = { status: number } | { error: string };
export type HttpGet = (url: string, timeoutMs: number) => Promise<HttpGetResult>;

export const fetchGet: HttpGet = async (url, timeoutMs) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return { status: res.status };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { error: cause ?? (e instanceof Error ? e.message : String(e)) };
  }
};

/** GET with curl through a Runner (e.g. inside a netns via `ip netns exec`). */
export const curlGet =
  (runner: Runner): HttpGet =>
  async (url, timeoutMs) => {
    const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
    const r = await runner.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", seconds, url]);
    const status = Number(r.stdout.trim());
    if (r.code === 0 && status > 0) return { status };
    return { error: `curl exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ""}` };
  };
