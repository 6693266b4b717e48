// What every benchmark reports with: medians and percentiles of repeated measurements, times in
// readable units, and a table (first column left, numbers right) on stdout.
import { formatTable } from "../src/util/table.js";

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export const median = (xs: readonly number[]): number => {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** The nearest-rank p-th percentile (0 < p <= 100); NaN when empty. */
export const percentile = (xs: readonly number[], p: number): number => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

/** `123 ms`, `4.5 ms`, `0.012 ms`: three significant digits or so at every scale. */
export const fmtMs = (ms: number): string =>
  (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3)) + " ms";

/**
 * Prints rows: the first column left-aligned, the others right-aligned, except a free-text last
 * column when `note` is set (e.g. calc's remarks after each time).
 */
export function printTable(rows: readonly (readonly string[])[], opts: { note?: boolean } = {}): void {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const align = Array.from({ length: columns }, (_, i) =>
    i === 0 || (opts.note === true && i === columns - 1) ? ("left" as const) : ("right" as const),
  );
  for (const line of formatTable(rows, { align })) console.log(line);
}
