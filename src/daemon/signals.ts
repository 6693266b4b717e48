// Waiting for the signal that ends a daemon (SIGTERM from the kubelet or the lab, SIGINT from a terminal).
export function waitForSignal(
  signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"],
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handlers = signals.map((sig) => {
      const h = (): void => {
        for (const [s, fn] of handlers) process.off(s, fn);
        resolve(sig);
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
  });
}
