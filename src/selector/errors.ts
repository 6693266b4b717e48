// Located selector errors, as values.

export interface SelectorError {
  /** The selector text as given. */
  readonly selector: string;
  /** 1-based column (UTF-16 code unit) of the problem; `selector.length + 1` means "at the end". */
  readonly column: number;
  readonly message: string;
}

/** e.g. `selector "a == ": expected a quoted value at column 6` */
export function formatSelectorError(e: SelectorError): string {
  return `selector ${JSON.stringify(e.selector)}: ${e.message} at column ${e.column}`;
}
