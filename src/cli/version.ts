// egw's package root and version, found by walking up from this file (src/cli under tsx,
// dist/src/cli when built), so it works from both.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const readPackage = (dir: string): { name?: string; version?: string } | undefined => {
  try {
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
};

/** The directory holding egw's package.json; undefined if not found. */
export const packageRoot = (from: string = dirname(fileURLToPath(import.meta.url))): string | undefined => {
  for (let dir = from; ; dir = dirname(dir)) {
    if (readPackage(dir)?.name === "egw") return dir;
    if (dirname(dir) === dir) return undefined;
  }
};

export const egwVersion = (): string => {
  const root = packageRoot();
  const version = root === undefined ? undefined : readPackage(root)?.version;
  return typeof version === "string" ? version : "unknown";
};
