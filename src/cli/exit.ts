// Exit codes and the one error type command actions raise; main() turns it into stderr + exit code.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A user-facing failure. Command actions throw it to stop; `run()` in main.ts is the boundary that
 * catches it, prints each message as `error: <message>` and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly messages: string[];
  constructor(
    messages: string | string[],
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    const list = Array.isArray(messages) ? messages : [messages];
    super(list.join("\n"));
    this.name = "CliError";
    this.messages = list;
  }
}

/** Renders messages the way every egw error reaches stderr. */
export const formatErrorLines = (messages: readonly string[]): string =>
  messages.map((m) => `error: ${m}\n`).join("");
