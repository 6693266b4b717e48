// Logs the problems of a list that is recomputed on every pass (invalid policies, pods the kernel
// cannot hold…) so each is logged once when it appears, and once more when all are gone, instead
// of on every pass. It does not decide what a problem is.
import type { Logger } from "../util/log.js";

export class ProblemLog {
  private logged = "";

  constructor(
    private readonly log: Logger,
    private readonly messages: { problem: string; resolved: string },
  ) {}

  /** Logs what is new since the last call; returns the list's size when it changed, else undefined. */
  update(problems: readonly string[]): number | undefined {
    const text = problems.join("\n");
    if (text === this.logged) return undefined;
    const before = new Set(this.logged === "" ? [] : this.logged.split("\n"));
    this.logged = text;
    for (const p of problems) if (!before.has(p)) this.log.warn(this.messages.problem, { problem: p });
    if (problems.length === 0) this.log.info(this.messages.resolved);
    return problems.length;
  }
}
