// etcd range helpers (pure).

/** The `range_end` for a prefix: the prefix with its last byte incremented. */
export const prefixEnd = (prefix: string): Buffer => {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const b = end[i] as number;
    if (b < 0xff) {
      end[i] = b + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
};
