// The replica's uplink: the interface of its default route (a pod's eth0), unless told otherwise.
import { parseJson } from "../dataplane/parse.js";
import type { Runner } from "../dataplane/runner.js";

export const DEFAULT_UPLINK = "eth0";

export async function detectUplink(runner: Runner): Promise<string> {
  const r = await runner.run(["ip", "-4", "-json", "route", "show", "default"]);
  const routes = r.code === 0 ? parseJson(r.stdout) : undefined;
  if (!Array.isArray(routes)) return DEFAULT_UPLINK;
  const dev = (routes as { dev?: unknown }[]).find((x) => typeof x.dev === "string")?.dev;
  return typeof dev === "string" ? dev : DEFAULT_UPLINK;
}
