// Small, fast, deterministic string hashing (no crypto needed: only spreading and stability).
import { compareStrings } from "../util/compare.js";

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so nearby inputs spread well. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Rendezvous (highest random weight) choice of `count` items for `seed`: every seed ranks the
 * items independently, so different seeds spread evenly, and removing one item only moves the
 * seeds that had chosen it. Deterministic; ties broken by id. Returns items in rank order.
 */
export function rendezvousPick<T>(
  seed: string,
  items: readonly T[],
  idOf: (item: T) => string,
  count: number,
): T[] {
  if (count >= items.length) return [...items];
  const ranked = items.map((item) => ({
    item,
    id: idOf(item),
    weight: hash32(`${seed}\u0000${idOf(item)}`),
  }));
  ranked.sort((a, b) => b.weight - a.weight || compareStrings(a.id, b.id));
  return ranked.slice(0, count).map((r) => r.item);
}
