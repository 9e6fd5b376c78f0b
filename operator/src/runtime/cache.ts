// The informer's store: the latest version of every object it has seen, by key, with
// optional secondary indexes (e.g. VirtualKeys by user). Reconcilers read from here instead
// of the API server. Objects are deep-frozen: the store is shared by every controller, so
// a reconciler that wants to change one must structuredClone it first.
import { deepFreeze, objectKey, type KubeObject } from './object.ts';

export type IndexFunction<T> = (object: T) => readonly string[];

/**
 * A secondary index: its name and the values it files an object under. Defined once, as a
 * constant (controllers/shared/indexes.ts): a store holds one definition per name.
 */
export interface StoreIndex<T> {
  readonly name: string;
  readonly values: IndexFunction<T>;
}

export interface StoreDelta<T> {
  added: T[];
  updated: { old: T; new: T }[];
  deleted: T[];
}

export class ObjectStore<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  readonly #indexers = new Map<string, StoreIndex<T>>();
  /** index name → value → keys. */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  /** `indexes`: added at once (addIndex). */
  constructor(indexes: readonly StoreIndex<T>[] = []) {
    for (const index of indexes) this.addIndex(index);
  }

  get size(): number {
    return this.#objects.size;
  }

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.#objects.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Every object, or those in `namespace`. */
  list(namespace?: string): T[] {
    const all = [...this.#objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  /**
   * Adds an index; existing objects are indexed at once. Adding the same definition again
   * does nothing (stores are shared); another definition under a taken name is refused.
   */
  addIndex(index: StoreIndex<T>): void {
    const existing = this.#indexers.get(index.name);
    if (existing === index) return;
    if (existing) throw new Error(`index ${index.name} already exists with another definition`);
    this.#indexers.set(index.name, index);
    this.#indexes.set(index.name, new Map());
    for (const [key, object] of this.#objects) this.#index(index.name, key, object);
  }

  /** Objects that `index` files under `value`. */
  byIndex(index: StoreIndex<T>, value: string): T[] {
    if (this.#indexers.get(index.name) !== index) throw new Error(`no index ${index.name}`);
    const keys = this.#indexes.get(index.name)!.get(value);
    return [...(keys ?? [])].map((key) => this.#objects.get(key)!);
  }

  /** Stores `object`; returns the version it replaced. */
  set(object: T): T | undefined {
    const key = objectKey(object);
    const old = this.#objects.get(key);
    if (old) this.#unindex(key, old);
    deepFreeze(object);
    this.#objects.set(key, object);
    for (const name of this.#indexers.keys()) this.#index(name, key, object);
    return old;
  }

  /** Removes the object at `key`; returns it. */
  delete(key: string): T | undefined {
    const old = this.#objects.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#objects.delete(key);
    return old;
  }

  /**
   * Makes the store hold exactly `objects` (a fresh list) and says what changed. Objects
   * whose resourceVersion did not change are not reported as updated.
   */
  replace(objects: readonly T[]): StoreDelta<T> {
    const delta: StoreDelta<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const object of objects) {
      const key = objectKey(object);
      seen.add(key);
      const old = this.set(object);
      if (!old) delta.added.push(object);
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion)
        delta.updated.push({ old, new: object });
    }
    for (const key of [...this.#objects.keys()]) {
      if (!seen.has(key)) delta.deleted.push(this.delete(key)!);
    }
    return delta;
  }

  #index(name: string, key: string, object: T): void {
    const index = this.#indexes.get(name)!;
    for (const value of this.#indexers.get(name)!.values(object)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, indexer] of this.#indexers) {
      const index = this.#indexes.get(name)!;
      for (const value of indexer.values(object)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
