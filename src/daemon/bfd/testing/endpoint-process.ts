// A BFD endpoint as a process of its own, for interop tests that run it inside a network namespace
// (`node endpoint-process.js --address IP [--peer IP] [--accept] [--interval MS] [--multiplier N]`).
// Prints one JSON line per session change ({"peer", "state", "remoteState", "localDiag",
// "remoteDiag"}) and "ready" once its sockets are bound; reads commands on stdin, one a line:
// `admin-down DIAG`, `normal`, `timers INTERVAL_MS [MULT]` (new timers for --peer), `show` (prints
// {"peers": {IP: BfdPeerState}}), `close` (stdin
// closing is a close too). Not a daemon: nothing here is for production use.
import { createInterface } from "node:readline";
import { systemClock } from "../../clock.js";
import { createLogger } from "../../../util/log.js";
import { BfdEndpoint, type BfdTimers } from "../endpoint.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};

const address = flag("address");
if (address === undefined) {
  process.stderr.write("--address is required\n");
  process.exit(2);
}
const timers: BfdTimers = {
  intervalMs: Number(flag("interval") ?? 100),
  multiplier: Number(flag("multiplier") ?? 3),
};
const peer = flag("peer");

const opened = await BfdEndpoint.open({
  address,
  clock: systemClock(),
  log: createLogger("bfd", (_level, line) => process.stderr.write(`${line}\n`)),
  ...(args.includes("--accept") ? { acceptPeer: () => timers } : {}),
  onChange: (p, s) =>
    process.stdout.write(
      `${JSON.stringify({ peer: p, state: s.state, remoteState: s.remoteState, localDiag: s.localDiag, remoteDiag: s.remoteDiag })}\n`,
    ),
});
if (!opened.ok) {
  process.stderr.write(`${opened.error}\n`);
  process.exit(1);
}
const endpoint = opened.value;
if (peer !== undefined) endpoint.ensure(peer, timers);
process.stdout.write("ready\n");

const close = async (): Promise<void> => {
  await endpoint.close();
  process.exit(0);
};
process.on("SIGTERM", () => void close());
// stdin closing means whoever started us is gone: do not outlive it.
createInterface({ input: process.stdin })
  .on("close", () => void close())
  .on("line", (line) => {
    const [cmd, arg, ...rest] = line.trim().split(/\s+/);
    if (cmd === "admin-down") endpoint.setAdminDown(Number(arg ?? 7));
    else if (cmd === "normal") endpoint.setAdminDown(undefined);
    else if (cmd === "timers" && peer !== undefined)
      endpoint.ensure(peer, { intervalMs: Number(arg), multiplier: Number(rest[0] ?? timers.multiplier) });
    else if (cmd === "show")
      process.stdout.write(`${JSON.stringify({ peers: Object.fromEntries(endpoint.peers()) })}\n`);
    else if (cmd === "close") void close();
  });
