// A list of nft operations applied as one `nft -f` transaction (all or nothing): replace a whole
// table, delete a table, add or delete elements of a set or verdict map, or set its elements. Each operation is
// checked when it is added (validate.ts); the first problem sticks and is what `text()` (and
// FakeNft.run) report, so a caller builds the whole transaction and looks at one result.
// Element operations name their set by a SetRef carrying its type, so they can be checked
// without the table at hand; whether the set exists is the kernel's (or the fake's) call.
import { err, ok, type Result } from "../../util/result.js";
import type { Element, KeyType, MapElement, NftMap, NftSet, Table } from "./objects.js";
import {
  addElementsText,
  deleteElementsText,
  deleteTableText,
  elementText,
  setElementsText,
  mapElementText,
  replaceTableText,
} from "./text.js";
import { checkTable } from "./validate.js";
import { checkElements, checkMapElements, checkObjectName, checkTableName } from "./values.js";

/** A set or verdict map of a table, by name and type: what an element operation needs. */
export interface SetRef {
  readonly table: string;
  readonly name: string;
  readonly kind: "set" | "map";
  readonly type: readonly KeyType[];
  readonly interval: boolean;
}

export const setRef = (table: string, s: NftSet | NftMap): SetRef => ({
  table,
  name: s.name,
  kind: s.kind,
  type: s.type,
  interval: s.kind === "set" && s.interval === true,
});

export type Operation =
  | { readonly kind: "replace-table"; readonly table: Table }
  | { readonly kind: "delete-table"; readonly name: string }
  | { readonly kind: "add-elements"; readonly set: SetRef; readonly elements: readonly Element[] }
  | { readonly kind: "add-map-elements"; readonly set: SetRef; readonly elements: readonly MapElement[] }
  /** Deletes elements of a set or map by key (a map element's verdict is not needed). */
  | { readonly kind: "delete-elements"; readonly set: SetRef; readonly keys: readonly Element[] }
  /** Makes a set hold exactly these elements: flushed, then filled again. */
  | { readonly kind: "set-elements"; readonly set: SetRef; readonly elements: readonly Element[] }
  /** Makes a verdict map hold exactly these elements: flushed, then filled again. */
  | { readonly kind: "set-map-elements"; readonly set: SetRef; readonly elements: readonly MapElement[] };

export function operationText(op: Operation): string {
  switch (op.kind) {
    case "replace-table":
      return replaceTableText(op.table);
    case "delete-table":
      return deleteTableText(op.name);
    case "add-elements":
      return addElementsText(
        op.set.table,
        op.set.name,
        op.elements.map((e) => elementText(op.set.type, e)),
      );
    case "add-map-elements":
      return addElementsText(
        op.set.table,
        op.set.name,
        op.elements.map((e) => mapElementText(op.set.type, e)),
      );
    case "delete-elements":
      return deleteElementsText(
        op.set.table,
        op.set.name,
        op.keys.map((k) => elementText(op.set.type, k)),
      );
    case "set-elements":
      return setElementsText(
        op.set,
        op.elements.map((e) => elementText(op.set.type, e)),
      );
    case "set-map-elements":
      return setElementsText(
        op.set,
        op.elements.map((e) => mapElementText(op.set.type, e)),
      );
  }
}

export class Transaction {
  private readonly ops: Operation[] = [];
  private problem: string | undefined;

  /** The operations added so far, in order (none after the first problem). */
  get operations(): readonly Operation[] {
    return this.ops;
  }

  /** The first problem found, if any. */
  get error(): string | undefined {
    return this.problem;
  }

  /** Replaces (or creates) a whole table atomically. */
  replaceTable(table: Table): this {
    return this.add({ kind: "replace-table", table }, () => checkTable(table));
  }

  /** Deletes a table if it exists. */
  deleteTable(name: string): this {
    return this.add({ kind: "delete-table", name }, () => checkTableName(name));
  }

  /** Adds elements to a set (an element already there is kept, as nft does). */
  addElements(set: SetRef, elements: readonly Element[]): this {
    if (elements.length === 0) return this;
    return this.add(
      { kind: "add-elements", set, elements },
      () => this.checkRef(set, "set") ?? checkElements(refName(set), set.type, set.interval, elements),
    );
  }

  /** Adds elements to a verdict map; a key already there with another verdict fails the transaction. */
  addMapElements(set: SetRef, elements: readonly MapElement[]): this {
    if (elements.length === 0) return this;
    return this.add(
      { kind: "add-map-elements", set, elements },
      () => this.checkRef(set, "map") ?? checkMapElements(refName(set), set, elements),
    );
  }

  /** Deletes elements of a set or map by key; a key that is not there fails the transaction. */
  deleteElements(set: SetRef, keys: readonly Element[]): this {
    if (keys.length === 0) return this;
    return this.add(
      { kind: "delete-elements", set, keys },
      () => this.checkRef(set, set.kind) ?? checkElements(refName(set), set.type, set.interval, keys),
    );
  }

  /**
   * Makes a set hold exactly `elements` (all or nothing with the rest of the transaction): what an
   * interval set needs, whose merged elements cannot be deleted one prefix at a time.
   */
  setElements(set: SetRef, elements: readonly Element[]): this {
    return this.add(
      { kind: "set-elements", set, elements },
      () => this.checkRef(set, "set") ?? checkElements(refName(set), set.type, set.interval, elements),
    );
  }

  /** Makes a verdict map hold exactly `elements`. */
  setMapElements(set: SetRef, elements: readonly MapElement[]): this {
    return this.add(
      { kind: "set-map-elements", set, elements },
      () => this.checkRef(set, "map") ?? checkMapElements(refName(set), set, elements),
    );
  }

  /** The transaction as `nft -f` input, or its first problem. */
  text(): Result<string, string> {
    if (this.problem !== undefined) return err(this.problem);
    return ok(this.ops.map(operationText).join(""));
  }

  private add(op: Operation, check: () => string | undefined): this {
    if (this.problem !== undefined) return this;
    const problem = check();
    if (problem !== undefined) this.problem = problem;
    else this.ops.push(op);
    return this;
  }

  private checkRef(set: SetRef, kind: "set" | "map"): string | undefined {
    if (set.kind !== kind) return `${refName(set)} is a ${set.kind}, not a ${kind}`;
    return checkTableName(set.table) ?? checkObjectName(set.kind, set.name);
  }
}

const refName = (s: SetRef): string => `table inet ${s.table}: ${s.kind} ${s.name}`;
