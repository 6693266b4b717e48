// Comparators for sort(): one ordering of strings and numbers everywhere, so plans, keys and
// listings come out the same on every machine (code-unit order, not the locale's). Strings and
// numbers have separate functions so each stays monomorphic (fast) on calc's hot sorts.

/** Code-unit order (what sort() does without a comparator). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Numeric order; Infinity sorts last and equals itself (where `a - b` would give NaN). */
export const compareNumbers = <T extends number | bigint>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

/** A comparator ordering items by the string `key(item)`. */
export const compareBy =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    compareStrings(key(a), key(b));
