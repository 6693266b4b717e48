// A long-lived `nft -i` process that applies small nft transactions (the node's element updates),
// one input line each. Why not one `nft -f` process per transaction: starting nft costs a few
// milliseconds, and when a transaction deleted anything the kernel makes the process wait for an
// RCU grace period as it closes its netlink socket (about 15 ms on the test machines, longer
// than the whole update); a session keeps its socket, so an element update costs about a
// millisecond. A line is one nft batch, applied all or nothing like `nft -f`. After it comes a
// line that is not nft syntax (a word with a sequence number; it fails in the parser, before any
// kernel access): its error on stderr — the line echoed, then a caret line — marks the end of
// the transaction's output, and whatever stderr held before it is the transaction's own error.
// Whole-table loads still go through `nft -f`.
// Calls must not overlap (the node dataplane serialises its reconciles).
import { err, ok, type Result } from "../util/result.js";
import { describeEnd, type ChildHandle } from "../util/process.js";

/** What a pipe or child exposes to stop it from keeping the process alive while idle. */
interface Refable {
  ref?: () => void;
  unref?: () => void;
}

interface Pending {
  marker: string;
  resolve: (r: Result<void, string>) => void;
  timer: NodeJS.Timeout;
}

export class NftSession {
  private handle: ChildHandle | undefined;
  private stderr = "";
  private pending: Pending | undefined;
  private sequence = 0;

  constructor(
    private readonly start: () => ChildHandle,
    private readonly where: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /**
   * Applies `text`: nft commands, one per line, none spanning lines (element operations). Either
   * all apply or none; the error says what nft said.
   */
  apply(text: string): Promise<Result<void, string>> {
    if (this.pending !== undefined) return Promise.resolve(err("nft session: a transaction is running"));
    const line = text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .join("; ");
    if (line === "") return Promise.resolve(ok(undefined));
    const handle = this.running();
    const marker = `egwdone${++this.sequence}`;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => this.end(`nft -i (${this.where}) did not answer within ${this.timeoutMs} ms`),
        this.timeoutMs,
      );
      this.pending = { marker, resolve, timer };
      this.keepAlive(handle, true);
      handle.child.stdin.write(`${line}\n${marker}\n`);
    });
  }

  /** Ends the nft process (a transaction still running fails). */
  close(): void {
    this.end("nft session closed");
  }

  private running(): ChildHandle {
    if (this.handle?.running()) return this.handle;
    const handle = this.start();
    this.handle = handle;
    this.stderr = "";
    handle.child.stdout.on("data", () => undefined);
    handle.child.stderr.on("data", (b: Buffer) => {
      if (this.handle !== handle) return;
      this.stderr += b.toString("utf8");
      this.settleIfDone();
    });
    void handle.ended.then((end) => {
      if (this.handle !== handle) return;
      const said = this.stderr.trim();
      this.handle = undefined;
      this.settle(
        err(`nft -i (${this.where}) ended: ${describeEnd(end) || "exit code 0"}${said ? `: ${said}` : ""}`),
      );
    });
    this.keepAlive(handle, false);
    return handle;
  }

  /** Settles the running transaction once its marker's error (command line and carets) is in. */
  private settleIfDone(): void {
    const p = this.pending;
    if (p === undefined) {
      // Nothing should arrive between transactions; keep at most a little of it for the next error.
      if (this.stderr.length > 65_536) this.stderr = this.stderr.slice(-65_536);
      return;
    }
    const at = this.stderr.indexOf(`\n${p.marker}\n`);
    if (at < 0) return;
    const caretsEnd = this.stderr.indexOf("\n", at + p.marker.length + 2);
    if (caretsEnd < 0) return;
    const block = this.stderr.lastIndexOf("Error:", at);
    const said = this.stderr.slice(0, Math.max(block, 0)).trim();
    this.stderr = this.stderr.slice(caretsEnd + 1);
    this.settle(said === "" ? ok(undefined) : err(`nft -i (${this.where}) refused the transaction: ${said}`));
  }

  private settle(r: Result<void, string>): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (this.handle !== undefined) this.keepAlive(this.handle, false);
    p.resolve(r);
  }

  private end(why: string): void {
    const handle = this.handle;
    this.handle = undefined;
    handle?.kill("SIGKILL");
    this.settle(err(why));
  }

  /** Only a running transaction keeps this process alive; an idle session never does. */
  private keepAlive(h: ChildHandle, on: boolean): void {
    for (const x of [h.child, h.child.stdin, h.child.stdout, h.child.stderr] as Refable[]) {
      if (on) x.ref?.();
      else x.unref?.();
    }
  }
}
