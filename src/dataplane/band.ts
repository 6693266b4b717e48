// The kernel resources egw owns on a node: a fixed band of fwmark bits, routing tables and ip
// rule priorities. The dataplane gives each gateway set a slot inside it (slots.ts) and programs
// and reconciles only what lies inside it, so tables, rules and mark bits of other software are
// never touched. calc knows nothing of it: it names gateway sets by key.
//
// One slot per gateway set, and one per gateway replica a node's connections are pinned to (a
// *pin*: the table routes everything via that one replica). Slot s (1..MAX_GATEWAY_SETS) owns:
//   fwmark  s << MARK_SHIFT   under MARK_MASK (bits outside the mask are left to others)
//   table   TABLE_BASE + s
// Slot 0 is never used, so a zero mark under the mask always means "no gateway set"; its table
// number (TABLE_BASE) is the liveness table: BFD packets to and from replicas through the tunnel.

/** fwmark bits egw owns: 12 bits, leaving the low 16 bits (kube-proxy, Calico, Cilium use them) and the top nibble free. */
export const MARK_MASK = 0x0fff0000;
export const MARK_SHIFT = 16;

/** Number of gateway sets (and therefore tables) one node can hold. */
export const MAX_GATEWAY_SETS = MARK_MASK >>> MARK_SHIFT; // 4095

/** Tables TABLE_BASE+1 .. TABLE_BASE+MAX_GATEWAY_SETS (20001..24095): clear of 253-255 and of Calico's 1-250. */
export const TABLE_BASE = 20000;
export const TABLE_FIRST = TABLE_BASE + 1;
export const TABLE_LAST = TABLE_BASE + MAX_GATEWAY_SETS;

/** Priority of the `from <pool> fwmark <mark>/<mask> lookup <table>` rules (before main at 32766). */
export const RULE_PRIORITY = 110;
/** Priority of the liveness rules (`… ipproto udp dport 3784 lookup LIVENESS_TABLE`). */
export const LIVENESS_RULE_PRIORITY = 111;
/** Routes BFD control packets through the tunnel: `<peer>/32 via <peer> dev egw.vxlan onlink`. */
export const LIVENESS_TABLE = TABLE_BASE;
/** The priorities egw owns (rules there that egw did not write are removed on reconcile). */
export const RULE_PRIORITY_FIRST = 110;
export const RULE_PRIORITY_LAST = 119;

/** Every table egw owns: the liveness table and the slot tables. */
export const inOwnedTables = (table: number): boolean => table >= LIVENESS_TABLE && table <= TABLE_LAST;

export const markOfSlot = (slot: number): number => (slot << MARK_SHIFT) >>> 0;
export const tableOfSlot = (slot: number): number => TABLE_BASE + slot;

/** The slot a table belongs to, or undefined when the table is outside egw's band. */
export function slotOfTable(table: number): number | undefined {
  const slot = table - TABLE_BASE;
  return Number.isInteger(slot) && slot >= 1 && slot <= MAX_GATEWAY_SETS ? slot : undefined;
}

/** The slot a mark names (bits outside MARK_MASK ignored), or undefined for "no set". */
export function slotOfMark(mark: number): number | undefined {
  const slot = (mark & MARK_MASK) >>> MARK_SHIFT;
  return slot === 0 ? undefined : slot;
}
