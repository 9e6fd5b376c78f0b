// The operator's one Kubernetes client, shaped like controller-runtime's manager client:
// reads come from the shared informer caches, writes go to the API server over the
// KubeConfig's one keep-alive connection pool (kube-transport.ts), behind the manager's
// write fence (write-fence.ts). Objects travel as the server sends them (raw JSON: timestamps
// are strings), the same shape the caches hold.
//
// Reads:
//   get / list   the informer of `target` (started if new, waited for until synced). A
//                metadata-only cache (e.g. the labelled Secrets of VirtualKeys) holds no
//                data, so get returns the whole object this client last read or wrote at the
//                resourceVersion the cache holds, reading it live only when the cache has
//                moved on: a converged object costs no request. Absent from the cache is
//                undefined (the cache may lag; callers that must know use read).
//   read         live, for what must be the latest (a conflict's retry, a Lease).
// Writes: create, replace, replaceStatus (the /status subresource), mergePatch (JSON merge
// patch; carry metadata.resourceVersion in it for optimistic concurrency), mergePatchStatus
// (the same, of the /status subresource), apply (server-side
// apply) and delete (with preconditions). Every failure is a KubeApiError carrying the HTTP
// status (404 not found, 409 conflict or already exists); a write the fence refuses is a
// FencedWriteError and was never sent.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  collectionPath,
  resolveResource,
  type GroupVersionKind,
  type ResourceType,
} from './discovery.ts';
import type { InformerFactory, InformerTarget } from './informer-factory.ts';
import type { Informer } from './informer.ts';
import { errorOf, isOk, KubeApiError } from './kube-http.ts';
import {
  KubeTransport,
  type Method,
  type TransportRequest,
} from '../../../contracts/kube/kube-transport.ts';
import { deepFreeze, objectKey, withoutManagedFields, type KubeObject } from './object.ts';
import { FencedWriteError, type WriteFence } from './write-fence.ts';

/** A kind, resolved through discovery on first use, or a resource already resolved. */
export type Kind = GroupVersionKind | ResourceType;

export interface ObjectRef {
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
}

export interface WriteOptions {
  /** Who owns the fields written (managedFields). */
  fieldManager?: string;
  signal?: AbortSignal;
}

export interface ApplyOptions extends WriteOptions {
  fieldManager: string;
  /** Take over fields another manager owns. */
  force?: boolean;
}

export interface DeleteOptions {
  /** Delete only this very object (uid) or only at this resourceVersion; else 409. */
  preconditions?: { uid?: string; resourceVersion?: string };
  signal?: AbortSignal;
}

export interface KubeClient {
  get<T extends KubeObject>(target: InformerTarget, ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubeObject>(target: InformerTarget, namespace?: string): Promise<T[]>;
  /** The object as the API server holds it now; undefined when there is none. */
  read<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    signal?: AbortSignal,
  ): Promise<T | undefined>;
  create<T extends KubeObject>(kind: Kind, object: T, options?: WriteOptions): Promise<T>;
  /** PUT at the object's metadata.resourceVersion (409 when it moved on). */
  replace<T extends KubeObject>(kind: Kind, object: T, options?: WriteOptions): Promise<T>;
  /** PUT of the /status subresource: only status changes. */
  replaceStatus<T extends KubeObject>(kind: Kind, object: T, options?: WriteOptions): Promise<T>;
  mergePatch<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    patch: object,
    options?: WriteOptions,
  ): Promise<T>;
  /** JSON merge patch of the /status subresource: only status changes. */
  mergePatchStatus<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    patch: object,
    options?: WriteOptions,
  ): Promise<T>;
  apply<T extends KubeObject>(kind: Kind, object: KubeObject, options: ApplyOptions): Promise<T>;
  /** False when there was nothing to delete (404). */
  delete(kind: Kind, ref: ObjectRef, options?: DeleteOptions): Promise<boolean>;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

/** 409: a stale resourceVersion, a failed precondition, or a create of an existing name. */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}

/** The namespace and name of `object`. */
export function refOf(object: KubeObject): ObjectRef {
  const name = object.metadata?.name;
  if (!name) throw new TypeError('object has no metadata.name');
  const namespace = object.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}

const JSON_TYPE = 'application/json';
const MERGE_PATCH = 'application/merge-patch+json';
const APPLY_PATCH = 'application/apply-patch+yaml'; // JSON is YAML

export interface HttpKubeClientOptions {
  kubeConfig: KubeConfig;
  /** The caches get and list read. Without them, get and list throw. */
  informers?: InformerFactory;
  /** Refuses writes once closed (the manager's, closed when leadership is lost). */
  fence?: Pick<WriteFence, 'closedBy'>;
}

export class HttpKubeClient implements KubeClient {
  readonly #kc: KubeConfig;
  readonly #transport: KubeTransport;
  readonly #informers: InformerFactory | undefined;
  readonly #fence: Pick<WriteFence, 'closedBy'> | undefined;
  readonly #resources = new Map<string, Promise<ResourceType>>();
  /** Whole objects behind metadata-only caches, by informer and object key. */
  readonly #bodies = new Map<
    Informer<KubeObject>,
    { kind: string; bodies: Map<string, KubeObject> }
  >();

  constructor(options: HttpKubeClientOptions) {
    this.#kc = options.kubeConfig;
    this.#transport = KubeTransport.of(options.kubeConfig);
    this.#informers = options.informers;
    this.#fence = options.fence;
  }

  /** The connection pool (shared with the informers of the same KubeConfig). */
  get transport(): KubeTransport {
    return this.#transport;
  }

  async get<T extends KubeObject>(target: InformerTarget, ref: ObjectRef): Promise<T | undefined> {
    const informer = await this.#synced(target);
    const cached = informer.store.getByName(ref.name, ref.namespace);
    const bodies = target.metadataOnly ? this.#bodiesOf(target, informer) : undefined;
    if (!cached || !bodies) {
      if (!cached) bodies?.delete(keyOf(ref));
      return cached as T | undefined;
    }
    const known = bodies.get(keyOf(ref));
    if (known && sameVersion(known, cached)) return known as T;
    const live = await this.read<T>(target, ref);
    if (live) this.#remember(target, live);
    else bodies.delete(keyOf(ref));
    return live && ((bodies.get(keyOf(ref)) as T | undefined) ?? live);
  }

  async list<T extends KubeObject>(target: InformerTarget, namespace?: string): Promise<T[]> {
    const informer = await this.#synced(target);
    return informer.store.list(namespace) as T[];
  }

  async read<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    try {
      return await this.#send<T>(kind, ref, { method: 'GET', signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  create<T extends KubeObject>(kind: Kind, object: T, options: WriteOptions = {}): Promise<T> {
    return this.#write(kind, refOf(object), {
      method: 'POST',
      collection: true,
      body: { contentType: JSON_TYPE, text: JSON.stringify(withKind(kind, object)) },
      options,
    });
  }

  replace<T extends KubeObject>(kind: Kind, object: T, options: WriteOptions = {}): Promise<T> {
    return this.#write(kind, refOf(object), {
      method: 'PUT',
      body: { contentType: JSON_TYPE, text: JSON.stringify(withKind(kind, object)) },
      options,
    });
  }

  replaceStatus<T extends KubeObject>(
    kind: Kind,
    object: T,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.#write(kind, refOf(object), {
      method: 'PUT',
      subresource: 'status',
      body: { contentType: JSON_TYPE, text: JSON.stringify(withKind(kind, object)) },
      options,
    });
  }

  mergePatch<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    patch: object,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.#write(kind, ref, {
      method: 'PATCH',
      body: { contentType: MERGE_PATCH, text: JSON.stringify(patch) },
      options,
    });
  }

  mergePatchStatus<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    patch: object,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.#write(kind, ref, {
      method: 'PATCH',
      subresource: 'status',
      body: { contentType: MERGE_PATCH, text: JSON.stringify(patch) },
      options,
    });
  }

  apply<T extends KubeObject>(kind: Kind, object: KubeObject, options: ApplyOptions): Promise<T> {
    return this.#write(kind, refOf(object), {
      method: 'PATCH',
      body: { contentType: APPLY_PATCH, text: JSON.stringify(withKind(kind, object)) },
      query: options.force ? { force: true } : {},
      options,
    });
  }

  async delete(kind: Kind, ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const body = options.preconditions
      ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: options.preconditions }
      : undefined;
    try {
      await this.#write(kind, ref, {
        method: 'DELETE',
        body: body && { contentType: JSON_TYPE, text: JSON.stringify(body) },
        options: { signal: options.signal },
        remember: false,
      });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    for (const entry of this.#bodies.values())
      if (entry.kind === kindKey(kind)) entry.bodies.delete(keyOf(ref));
    return true;
  }

  async #write<T extends KubeObject>(
    kind: Kind,
    ref: ObjectRef,
    write: {
      method: Method;
      body: TransportRequest['body'];
      options: WriteOptions;
      collection?: boolean;
      subresource?: string;
      query?: TransportRequest['query'];
      remember?: boolean;
    },
  ): Promise<T> {
    const refused = this.#fence?.closedBy;
    if (refused) {
      throw new FencedWriteError(`${write.method} ${kind.kind} ${keyOf(ref)} refused`, {
        cause: refused,
      });
    }
    const written = await this.#send<T>(kind, ref, {
      method: write.method,
      body: write.body,
      signal: write.options.signal,
      collection: write.collection,
      subresource: write.subresource,
      query: {
        ...write.query,
        ...(write.options.fieldManager ? { fieldManager: write.options.fieldManager } : {}),
      },
    });
    if (write.remember !== false && written?.metadata?.resourceVersion)
      this.#remember(kind, written);
    return written;
  }

  async #send<T>(
    kind: Kind,
    ref: ObjectRef,
    request: {
      method: Method;
      body?: TransportRequest['body'];
      signal?: AbortSignal;
      collection?: boolean;
      subresource?: string;
      query?: TransportRequest['query'];
    },
  ): Promise<T> {
    const resource = await this.#resource(kind);
    if (resource.namespaced && !ref.namespace)
      throw new TypeError(`${resource.kind} is namespaced; ${ref.name} has no namespace`);
    const collection = collectionPath(resource, ref.namespace);
    const path = request.collection
      ? collection
      : `${collection}/${encodeURIComponent(ref.name)}${request.subresource ? `/${request.subresource}` : ''}`;
    const response = await this.#transport.send({
      method: request.method,
      path,
      query: request.query,
      body: request.body,
      signal: request.signal,
    });
    if (!isOk(response)) throw await errorOf(response, `${request.method} ${path}`);
    return (await response.body.json()) as T;
  }

  #resource(kind: Kind): Promise<ResourceType> {
    if ('plural' in kind) return Promise.resolve(kind);
    const key = `${kind.apiVersion}/${kind.kind}`;
    let resolved = this.#resources.get(key);
    if (!resolved) {
      resolved = resolveResource(this.#kc, kind).catch((err: unknown) => {
        this.#resources.delete(key); // try discovery again next time
        throw err;
      });
      this.#resources.set(key, resolved);
    }
    return resolved;
  }

  async #synced(target: InformerTarget): Promise<Informer<KubeObject>> {
    if (!this.#informers) throw new Error('this KubeClient has no informer caches to read');
    const informer = this.#informers.informerFor<KubeObject>(target);
    if (!informer.hasSynced()) await informer.waitForSync();
    return informer;
  }

  #bodiesOf(target: InformerTarget, informer: Informer<KubeObject>): Map<string, KubeObject> {
    let entry = this.#bodies.get(informer);
    if (!entry) {
      const bodies = new Map<string, KubeObject>();
      entry = { kind: kindKey(target), bodies };
      this.#bodies.set(informer, entry);
      informer.addEventHandler(
        { delete: (object) => bodies.delete(objectKey(object)) },
        { resyncPeriodMs: 0 },
      );
    }
    return entry.bodies;
  }

  /**
   * Keeps `object` for the metadata-only caches of its kind: what get returns while the
   * cache says this resourceVersion (a Secret just created is read from here once its watch
   * event arrives). Entries go with the cache's delete events, or when get finds the object
   * absent. managedFields are left out (a replace without them keeps the server's): they are
   * most of a small object's metadata.
   */
  #remember(kind: Kind, object: KubeObject): void {
    for (const { kind: cached, bodies } of this.#bodies.values()) {
      if (cached !== kindKey(kind)) continue;
      const key = objectKey(object);
      bodies.set(key, deepFreeze(structuredClone(withoutManagedFields(object))));
    }
  }
}

/** Builds an HttpKubeClient; the one-argument form is for tests and one-off reads. */
export function kubeClient(
  kubeConfig: KubeConfig,
  options: Omit<HttpKubeClientOptions, 'kubeConfig'> = {},
): HttpKubeClient {
  return new HttpKubeClient({ kubeConfig, ...options });
}

function keyOf(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  return a.metadata?.resourceVersion === b.metadata?.resourceVersion;
}

function kindKey(kind: GroupVersionKind): string {
  return `${kind.apiVersion}/${kind.kind}`;
}

function withKind<T extends KubeObject>(kind: Kind, object: T): T {
  return {
    ...object,
    apiVersion: object.apiVersion ?? kind.apiVersion,
    kind: object.kind ?? kind.kind,
  };
}
