// Waiting without a clock port: a plain sleep and a poll with a deadline, for CLI commands, the
// lab's process handling and test helpers. Daemons wait on daemon/clock.ts instead, so their
// tests can drive time.
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it succeeded. */
export const waitFor = async (
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
};
