// `egw feeds [--listen HOST:PORT] [--tls-cert F --tls-key F] [--token-file F]`: serves firewall
// address-group feeds (docs/feeds.md) until SIGTERM/SIGINT, and writes each FirewallFeed's status.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { waitForSignal } from "../../daemon/signals.js";
import { startFeedServer } from "../../feeds/server.js";
import { FeedService } from "../../feeds/service.js";
import { createLogger } from "../../util/log.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_USAGE } from "../exit.js";

interface FeedsFlags {
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  tokenFile?: string;
  advertiseUrl?: string;
  status: boolean;
}

export const DEFAULT_FEEDS_LISTEN = "0.0.0.0:8080";

/** `HOST:PORT` or `[V6]:PORT`, or a usage error. */
export const parseListen = (text: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65_535)
    throw new CliError(
      `--listen "${text}": expected HOST:PORT such as 0.0.0.0:8080 or [::]:8443`,
      EXIT_USAGE,
    );
  return { host: m[1] ?? m[2] ?? "", port };
};

const readFlagFile = (flag: string, path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(`${flag} ${path}: ${e instanceof Error ? e.message : String(e)}`, EXIT_USAGE);
  }
};

/** Tokens in a --token-file: one per line, blank lines and `#` comments ignored. */
export const tokensOf = (text: string): string[] =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("feeds")
    .description(
      "serve firewall address-group feeds (PAN-OS EDL, FortiGate, Check Point, JSON) of egress IPs per pool, gateway, namespace and FirewallFeed (until SIGTERM/SIGINT)",
    )
    .option("--listen <host:port>", "address to serve on", DEFAULT_FEEDS_LISTEN)
    .option("--tls-cert <file>", "PEM certificate (chain): serve HTTPS (with --tls-key)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option(
      "--token-file <file>",
      "bearer tokens (one per line) every feed without its own spec.auth requires",
    )
    .option(
      "--advertise-url <url>",
      "base URL firewalls use, written into FirewallFeed status (default: from --listen)",
    )
    .option("--no-status", "do not write FirewallFeed status (e.g. a second, read-only replica)")
    .action(async (flags: FeedsFlags) => {
      const listen = parseListen(flags.listen);
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
        throw new CliError("--tls-cert and --tls-key go together", EXIT_USAGE);
      const tls =
        flags.tlsCert !== undefined && flags.tlsKey !== undefined
          ? { cert: readFlagFile("--tls-cert", flags.tlsCert), key: readFlagFile("--tls-key", flags.tlsKey) }
          : undefined;
      const tokens =
        flags.tokenFile === undefined
          ? []
          : tokensOf(readFlagFile("--token-file", flags.tokenFile).toString("utf8"));
      if (flags.tokenFile !== undefined && tokens.length === 0)
        throw new CliError(`--token-file ${flags.tokenFile}: no token in it`, EXIT_USAGE);
      const host = listen.host === "0.0.0.0" || listen.host === "::" ? "localhost" : listen.host;
      const advertiseUrl = (
        flags.advertiseUrl ??
        `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${listen.port}`
      ).replace(/\/+$/, "");

      const signal = waitForSignal();
      const log = createLogger("feeds", (level, line) =>
        level === "info" ? ctx.io.stdout(`${line}\n`) : ctx.io.stderr(`${line}\n`),
      );
      const store = await ctx.datastore();
      const service = new FeedService({
        store,
        log,
        advertiseUrl,
        serverTokens: tokens,
        writeStatus: flags.status,
      });
      const server = await startFeedServer({
        ...listen,
        ...(tls ? { tls } : {}),
        handle: (req) => service.handle(req),
      });
      if (!server.ok) throw new CliError(server.error);
      log.info("serving feeds", {
        url: server.value.baseUrl,
        advertised: advertiseUrl,
        tls: tls !== undefined,
        auth: tokens.length > 0,
      });
      await Promise.race([service.start(), signal]);
      log.info("shutting down", { signal: await signal });
      await server.value.close();
      await service.stop();
    });
};
