// Plain-text tables for terminals: columns padded to their widest cell, no trailing blanks. Used
// by the CLI's listings and the benchmarks' reports; it only lays out cells it is given.

export type Align = "left" | "right";

export interface TableOptions {
  /** Per column; columns without an entry are left-aligned. */
  align?: readonly Align[];
  /** Between columns (default two spaces). */
  gap?: string;
}

/** One line per row. A left-aligned last column is not padded, so free text can end a row. */
export function formatTable(rows: readonly (readonly string[])[], opts: TableOptions = {}): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const last = widths.length - 1;
  return rows.map((r) =>
    r
      .map((c, i) =>
        opts.align?.[i] === "right" ? c.padStart(widths[i] ?? 0) : i === last ? c : c.padEnd(widths[i] ?? 0),
      )
      .join(opts.gap ?? "  ")
      .trimEnd(),
  );
}
