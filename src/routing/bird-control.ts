// Talking to a running BIRD 2 (I/O, through util's process runner): apply a rendered config the
// safe way — parse-check it (`bird -p -c`), swap it in for the file BIRD reads, `birdc configure`
// it, and put the previous file back on any failure, so the file on disk is always a config BIRD
// accepted (a BIRD that restarts reads a good one) — and read its state (`show protocols all`,
// `show bfd sessions`, `show route all`) parsed by bird-status.ts. Every failure is a value that
// says at which step and what BIRD printed. It never starts or restarts BIRD (a config change is
// a reconfigure: sessions stay up), and does not decide what the config says (bird-config.ts).
import { randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { describeEnd, runProcess, succeeded, type ProcessResult } from "../util/process.js";
import { err, ok, type Result } from "../util/result.js";
import {
  parseBfdSessions,
  parseProtocols,
  parseRoutes,
  type BirdBfdSession,
  type BirdProtocol,
  type BirdRoute,
} from "./bird-status.js";

export interface BirdTarget {
  /** birdc's control socket (`bird -s`). */
  socket: string;
  /** Run birdc/bird inside this network namespace (tests, the lab's router). */
  netns?: string;
  /** Per command; default 10 000 ms. */
  timeoutMs?: number;
}

export type BirdControlError =
  /** `bird -p` refused the config: nothing was changed. */
  | { step: "check"; message: string }
  /** The file could not be written or swapped: nothing was changed. */
  | { step: "write"; message: string }
  /** `birdc configure` failed (BIRD refused it or is not reachable): the previous file is back. */
  | { step: "configure"; message: string }
  /** birdc could not read the state (BIRD not running, socket missing, …). */
  | { step: "read"; message: string };

/** Only its owner reads the config: it may hold BGP passwords. */
const CONFIG_MODE = 0o600;

const output = (r: ProcessResult): string =>
  [r.stdout, r.stderr]
    .join("\n")
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) => l !== "" && !/^BIRD [\d.]+ ready\.$/.test(l) && !l.startsWith("Reading configuration from"),
    )
    .join("; ");

const failure = (r: ProcessResult): string => {
  const said = output(r);
  const end = describeEnd(r);
  return said === "" ? end : end === "" ? said : `${said} (${end})`;
};

const birdc = (t: BirdTarget, args: readonly string[]): Promise<ProcessResult> =>
  runProcess(["birdc", "-s", t.socket, ...args], {
    ...(t.netns === undefined ? {} : { netns: t.netns }),
    timeoutMs: t.timeoutMs ?? 10_000,
  });

/** Parse-checks `text` as a BIRD config (`bird -p -c`) in a scratch file beside `near`. */
export async function checkConfig(
  text: string,
  near: string,
  o: { netns?: string; timeoutMs?: number } = {},
): Promise<Result<void, BirdControlError>> {
  const scratch = `${near}.check-${randomBytes(4).toString("hex")}`;
  try {
    writeFileSync(scratch, text, { mode: CONFIG_MODE });
  } catch (e) {
    return err({ step: "write", message: `cannot write ${scratch}: ${(e as Error).message}` });
  }
  try {
    const r = await runProcess(["bird", "-p", "-c", scratch], {
      ...(o.netns === undefined ? {} : { netns: o.netns }),
      timeoutMs: o.timeoutMs ?? 10_000,
    });
    // bird names the scratch file in its message; say which config it was instead.
    return succeeded(r)
      ? ok(undefined)
      : err({ step: "check", message: failure(r).split(scratch).join("config") });
  } finally {
    rmSync(scratch, { force: true });
  }
}

/**
 * Makes `text` BIRD's config: checks it, swaps it in as `configPath` (atomic rename) and runs
 * `birdc configure "configPath"`. On any failure the previous file is restored and BIRD keeps
 * running the previous config (it only replaces its config when the new one loaded).
 */
export async function applyConfig(
  t: BirdTarget & { configPath: string },
  text: string,
): Promise<Result<void, BirdControlError>> {
  const checked = await checkConfig(text, t.configPath, t);
  if (!checked.ok) return checked;
  const next = `${t.configPath}.next`;
  const previous = `${t.configPath}.previous`;
  const hadPrevious = existsSync(t.configPath);
  try {
    rmSync(next, { force: true }); // a leftover of a crash would keep its mode
    writeFileSync(next, text, { mode: CONFIG_MODE });
    if (hadPrevious) renameSync(t.configPath, previous);
    renameSync(next, t.configPath);
  } catch (e) {
    restore(t.configPath, previous, hadPrevious);
    rmSync(next, { force: true });
    return err({ step: "write", message: `cannot replace ${t.configPath}: ${(e as Error).message}` });
  }
  const r = await birdc(t, ["configure", `"${t.configPath}"`]);
  if (succeeded(r) && !/error|failed/i.test(output(r))) {
    rmSync(previous, { force: true });
    return ok(undefined);
  }
  restore(t.configPath, previous, hadPrevious);
  return err({ step: "configure", message: failure(r) });
}

const restore = (configPath: string, previous: string, hadPrevious: boolean): void => {
  try {
    if (hadPrevious && existsSync(previous)) renameSync(previous, configPath);
    else if (!hadPrevious) rmSync(configPath, { force: true });
  } catch {
    // Leaves the new file: the caller reports the failure, and the next apply replaces it.
  }
};

export interface BirdState {
  protocols: BirdProtocol[];
  bfd: BirdBfdSession[];
}

/** BIRD's protocols (with details) and BFD sessions. */
export async function readState(t: BirdTarget): Promise<Result<BirdState, BirdControlError>> {
  const protocols = await birdc(t, ["show", "protocols", "all"]);
  if (!succeeded(protocols)) return err({ step: "read", message: failure(protocols) });
  const bfd = await birdc(t, ["show", "bfd", "sessions"]);
  // No BFD protocol configured: birdc says so and fails; that is "no sessions", not an error.
  const sessions = succeeded(bfd) ? parseBfdSessions(bfd.stdout) : [];
  return ok({ protocols: parseProtocols(protocols.stdout), bfd: sessions });
}

/** BIRD's routes (`show route all`), e.g. what a router learned. */
export async function readRoutes(t: BirdTarget): Promise<Result<BirdRoute[], BirdControlError>> {
  const r = await birdc(t, ["show", "route", "all"]);
  if (!succeeded(r)) return err({ step: "read", message: failure(r) });
  return ok(parseRoutes(r.stdout));
}
