// An in-memory KubeClient for unit tests, in the manner of controller-runtime's fake client:
// objects live in a map, and every write answers as the API server would:
//
//   create        409 AlreadyExists for a taken name; uid, resourceVersion, generation 1
//   replace       404 when absent; 409 Conflict when metadata.resourceVersion is set and
//                 stale; status is kept (it has its own subresource)
//   replaceStatus 404 / 409 likewise; only status changes, generation does not
//   mergePatch    404 when absent; 409 when the patch carries a stale resourceVersion
//   mergePatchStatus  likewise, but only the patch's status is applied
//   apply         creates or merges (no field ownership: the fake keeps no managedFields)
//   delete        false when absent; 409 when a precondition fails; with finalizers, sets
//                 deletionTimestamp, and the write that removes the last one deletes it
//
// Every write bumps the resourceVersion; a change outside metadata and status bumps the
// generation. get and list read the same map (a cache that is never behind), filtered by the
// target's namespace and label selector. Objects handed out are copies: editing one changes
// nothing stored. `storeFor` gives an ObjectStore kept equal to the fake, for the reconcilers
// that read their caches directly; `writes` lists what was written, and `failNext` makes the
// next matching call fail, for fault tests.
import { isDeepStrictEqual } from 'node:util';
import { labelSelectorMatches } from '../label-selector.ts';
import { ObjectStore, type StoreIndex } from './cache.ts';
import { systemClock, type Clock } from './clock.ts';
import type { GroupVersionKind } from './discovery.ts';
import type { InformerTarget } from './informer-factory.ts';
import {
  refOf,
  type ApplyOptions,
  type DeleteOptions,
  type Kind,
  type KubeClient,
  type ObjectRef,
  type WriteOptions,
} from './kube-client.ts';
import { KubeApiError } from './kube-http.ts';
import { deepFreeze, objectKey, type KubeObject } from './object.ts';

export type FakeVerb =
  | 'get'
  | 'list'
  | 'read'
  | 'create'
  | 'replace'
  | 'replaceStatus'
  | 'mergePatch'
  | 'mergePatchStatus'
  | 'apply'
  | 'delete';

export interface FakeWrite {
  verb: Exclude<FakeVerb, 'get' | 'list' | 'read'>;
  kind: string;
  key: string;
  fieldManager?: string;
}

interface Synced {
  target: InformerTarget;
  store: ObjectStore<KubeObject>;
}

type Json = Record<string, unknown>;

export class FakeKubeClient implements KubeClient {
  /** kind key → object key → the stored (frozen) object. */
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #stores: Synced[] = [];
  readonly #failures: { verb: FakeVerb; kind?: string; error: Error }[] = [];
  readonly #clock: Clock;
  #version = 1000;
  #uid = 0;
  /** Every write, in order. */
  readonly writes: FakeWrite[] = [];

  constructor(options: { clock?: Clock; objects?: KubeObject[] } = {}) {
    this.#clock = options.clock ?? systemClock;
    for (const object of options.objects ?? []) this.seed(object);
  }

  /** Stores `object` as if it had been created (no write recorded). Returns it as stored. */
  seed<T extends KubeObject>(object: T): T {
    const stored = this.#created(object);
    this.#put(stored);
    return copy(stored) as T;
  }

  /** The next call of `verb` (on `kind`, when given) throws `error` instead. */
  failNext(verb: FakeVerb, error: Error, kind?: string): void {
    this.#failures.push({ verb, kind, error });
  }

  /** An ObjectStore holding what `target` selects, kept equal to the fake after every write. */
  storeFor<T extends KubeObject>(target: InformerTarget): ObjectStore<T> {
    // With the target's indexes, as the informer factory builds a store.
    const store = new ObjectStore<KubeObject>(
      (target.indexes ?? []) as unknown as readonly StoreIndex<KubeObject>[],
    );
    for (const object of this.#all(target)) store.set(copy(object));
    this.#stores.push({ target, store });
    return store as unknown as ObjectStore<T>;
  }

  /** Every stored object of `kind` (copies). */
  objectsOf<T extends KubeObject>(kind: GroupVersionKind): T[] {
    return [...(this.#objects.get(kindKey(kind))?.values() ?? [])].map((o) => copy(o) as T);
  }

  async get<T extends KubeObject>(target: InformerTarget, ref: ObjectRef): Promise<T | undefined> {
    this.#maybeFail('get', target);
    const found = this.#find(target, ref);
    return found && matches(target, found) ? (copy(found) as T) : undefined;
  }

  async list<T extends KubeObject>(target: InformerTarget, namespace?: string): Promise<T[]> {
    this.#maybeFail('list', target);
    return this.#all(target)
      .filter((o) => namespace === undefined || o.metadata?.namespace === namespace)
      .map((o) => copy(o) as T);
  }

  async read<T extends KubeObject>(kind: Kind, ref: ObjectRef): Promise<T | undefined> {
    this.#maybeFail('read', kind);
    const found = this.#find(kind, ref);
    return found && (copy(found) as T);
  }

  async create<T extends KubeObject>(
    kind: Kind,
    object: T,
    options: WriteOptions = {},
  ): Promise<T> {
    this.#maybeFail('create', kind);
    const typed = withKind(kind, object);
    if (this.#find(kind, refOf(typed)))
      throw apiError(409, 'AlreadyExists', `${kind.kind} ${objectKey(typed)} already exists`);
    const stored = this.#created(typed);
    this.#record('create', kind, stored, options);
    return this.#commit(stored) as T;
  }

  async replace<T extends KubeObject>(
    kind: Kind,
    object: T,
    options: WriteOptions = {},
  ): Promise<T> {
    this.#maybeFail('replace', kind);
    const typed = withKind(kind, object);
    const current = this.#current(kind, refOf(typed), typed.metadata?.resourceVersion);
    const next = {
      ...asJson(copy(typed)),
      metadata: { ...serverOwned(current), ...typed.metadata, ...identity(current) },
      status: asJson(current).status,
    } as unknown as KubeObject;
    if (asJson(current).status === undefined) delete asJson(next).status;
    this.#record('replace', kind, current, options);
    return this.#commit(this.#bumped(current, next)) as T;
  }

  async replaceStatus<T extends KubeObject>(
    kind: Kind,
    object: T,
    options: WriteOptions = {},
  ): Promise<T> {
    this.#maybeFail('replaceStatus', kind);
    const current = this.#current(kind, refOf(object), object.metadata?.resourceVersion);
    const next = {
      ...asJson(copy(current)),
      status: copy(asJson(object).status),
    } as unknown as KubeObject;
    this.#record('replaceStatus', kind, current, options);
    return this.#commit(this.#bumped(current, next)) as T;
  }

  async mergePatch<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    patch: object,
    options: WriteOptions = {},
  ): Promise<T> {
    this.#maybeFail('mergePatch', kind);
    const expected = (patch as { metadata?: { resourceVersion?: string } }).metadata
      ?.resourceVersion;
    const current = this.#current(kind, ref, expected);
    const next = mergePatched(asJson(copy(current)), patch as Json) as unknown as KubeObject;
    next.metadata = { ...next.metadata, ...identity(current) };
    this.#record('mergePatch', kind, current, options);
    return this.#commit(this.#bumped(current, next)) as T;
  }

  async mergePatchStatus<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    patch: object,
    options: WriteOptions = {},
  ): Promise<T> {
    this.#maybeFail('mergePatchStatus', kind);
    const { metadata, status } = patch as {
      metadata?: { resourceVersion?: string };
      status?: Json;
    };
    const current = this.#current(kind, ref, metadata?.resourceVersion);
    const next = asJson(copy(current));
    // As the API server's status strategy: everything but status is left as it is.
    const merged = mergePatched(next, { status: status ?? {} } as Json) as unknown as KubeObject;
    this.#record('mergePatchStatus', kind, current, options);
    return this.#commit(this.#bumped(current, merged)) as T;
  }

  async apply<T extends KubeObject>(
    kind: Kind,
    object: KubeObject,
    options: ApplyOptions,
  ): Promise<T> {
    this.#maybeFail('apply', kind);
    const typed = withKind(kind, object);
    const current = this.#find(kind, refOf(typed));
    if (!current) {
      const stored = this.#created(typed);
      this.#record('apply', kind, stored, options);
      return this.#commit(stored) as T;
    }
    const next = mergePatched(asJson(copy(current)), asJson(copy(typed))) as unknown as KubeObject;
    next.metadata = { ...next.metadata, ...identity(current) };
    this.#record('apply', kind, current, options);
    return this.#commit(this.#bumped(current, next)) as T;
  }

  async delete(kind: Kind, ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    this.#maybeFail('delete', kind);
    const current = this.#find(kind, ref);
    if (!current) return false;
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (
      (uid !== undefined && uid !== current.metadata?.uid) ||
      (resourceVersion !== undefined && resourceVersion !== current.metadata?.resourceVersion)
    ) {
      throw apiError(409, 'Conflict', `precondition failed for ${kind.kind} ${keyOf(ref)}`);
    }
    this.#record('delete', kind, current, {});
    if ((current.metadata?.finalizers ?? []).length === 0) {
      this.#remove(current);
      return true;
    }
    if (current.metadata?.deletionTimestamp === undefined) {
      const next = copy(current);
      next.metadata = { ...next.metadata, deletionTimestamp: this.#now() };
      this.#commit(this.#bumped(current, next));
    }
    return true;
  }

  #maybeFail(verb: FakeVerb, kind: GroupVersionKind): void {
    const index = this.#failures.findIndex(
      (f) => f.verb === verb && (f.kind === undefined || f.kind === kind.kind),
    );
    if (index >= 0) throw this.#failures.splice(index, 1)[0]!.error;
  }

  #find(kind: GroupVersionKind, ref: ObjectRef): KubeObject | undefined {
    return this.#objects.get(kindKey(kind))?.get(keyOf(ref));
  }

  #all(target: InformerTarget): KubeObject[] {
    return [...(this.#objects.get(kindKey(target))?.values() ?? [])].filter((o) =>
      matches(target, o),
    );
  }

  /** The stored object a write applies to: 404 when absent, 409 when `expected` is stale. */
  #current(kind: GroupVersionKind, ref: ObjectRef, expected: string | undefined): KubeObject {
    const current = this.#find(kind, ref);
    if (!current) throw apiError(404, 'NotFound', `${kind.kind} ${keyOf(ref)} not found`);
    if (expected !== undefined && expected !== current.metadata?.resourceVersion) {
      throw apiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${kind.kind} ${keyOf(ref)}: the object has been modified`,
      );
    }
    return current;
  }

  #created(object: KubeObject): KubeObject {
    if (!object.apiVersion || !object.kind) throw new TypeError('object needs apiVersion and kind');
    const stored = copy(object);
    stored.metadata = {
      ...stored.metadata,
      uid: stored.metadata?.uid ?? `fake-uid-${++this.#uid}`,
      resourceVersion: String(++this.#version),
      generation: 1,
      creationTimestamp: this.#now(),
    } as KubeObject['metadata'];
    delete stored.metadata!.deletionTimestamp;
    return stored;
  }

  /** `next` with a new resourceVersion, and a new generation when more than metadata/status changed. */
  #bumped(current: KubeObject, next: KubeObject): KubeObject {
    const generation = current.metadata?.generation ?? 1;
    next.metadata = {
      ...next.metadata,
      resourceVersion: String(++this.#version),
      generation: isDeepStrictEqual(specOf(current), specOf(next)) ? generation : generation + 1,
    };
    return next;
  }

  /** Stores `next` (or deletes it: being deleted and no finalizer left); returns a copy. */
  #commit(next: KubeObject): KubeObject {
    if (next.metadata?.deletionTimestamp !== undefined && !next.metadata.finalizers?.length) {
      this.#remove(next);
      return copy(next);
    }
    this.#put(next);
    return copy(next);
  }

  #put(object: KubeObject): void {
    const frozen = deepFreeze(copy(object));
    let objects = this.#objects.get(kindKey(frozen as GroupVersionKind));
    if (!objects) this.#objects.set(kindKey(frozen as GroupVersionKind), (objects = new Map()));
    objects.set(objectKey(frozen), frozen);
    for (const { target, store } of this.#stores) {
      if (kindKey(target) !== kindKey(frozen as GroupVersionKind)) continue;
      if (matches(target, frozen)) store.set(copy(frozen));
      else store.delete(objectKey(frozen));
    }
  }

  #remove(object: KubeObject): void {
    this.#objects.get(kindKey(object as GroupVersionKind))?.delete(objectKey(object));
    for (const { target, store } of this.#stores)
      if (kindKey(target) === kindKey(object as GroupVersionKind)) store.delete(objectKey(object));
  }

  #record(
    verb: FakeWrite['verb'],
    kind: GroupVersionKind,
    object: KubeObject,
    options: WriteOptions,
  ) {
    this.writes.push({
      verb,
      kind: kind.kind,
      key: objectKey(object),
      ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}),
    });
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
  }
}

function apiError(code: number, reason: string, message: string): KubeApiError {
  return new KubeApiError(
    code,
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code },
    'fake',
  );
}

function kindKey(kind: GroupVersionKind): string {
  return `${kind.apiVersion}/${kind.kind}`;
}

function keyOf(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

function asJson(object: KubeObject): Json {
  return object as unknown as Json;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function withKind<T extends KubeObject>(kind: GroupVersionKind, object: T): T {
  return {
    ...object,
    apiVersion: object.apiVersion ?? kind.apiVersion,
    kind: object.kind ?? kind.kind,
  };
}

/** What the server keeps whatever a write sends. */
function identity(current: KubeObject) {
  const m = current.metadata ?? {};
  return {
    uid: m.uid,
    ...(m.deletionTimestamp !== undefined ? { deletionTimestamp: m.deletionTimestamp } : {}),
    creationTimestamp: (m as { creationTimestamp?: string }).creationTimestamp,
  };
}

function serverOwned(current: KubeObject) {
  return { generation: current.metadata?.generation };
}

/** Everything but metadata and status: what a generation counts. */
function specOf(object: KubeObject): Json {
  const { metadata: _m, status: _s, ...rest } = asJson(object);
  return rest;
}

/** RFC 7386 JSON merge patch. */
function mergePatched(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value))
      out[key] = mergePatched(isPlainObject(out[key]) ? (out[key] as Json) : {}, value);
    else out[key] = copy(value);
  }
  return out;
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Namespace and label selector of `target`, as the API server reads them. */
function matches(target: InformerTarget, object: KubeObject): boolean {
  if (target.namespace && object.metadata?.namespace !== target.namespace) return false;
  if (!target.labelSelector) return true;
  return labelSelectorMatches(target.labelSelector, object.metadata?.labels ?? {});
}
