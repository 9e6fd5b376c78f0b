// One informer per resource type (and namespace / label selector), shared by every
// controller that watches it, like controller-runtime's cache: one list+watch per type
// however many controllers read it, and one cache all of them see. The manager uses the
// factory to check every type is served (preflight), start them, and wait for sync.
// Every cache drops metadata.managedFields first (controller-runtime's default transform):
// at 10,000 VirtualKeys they would be most of the VirtualKey cache, and nothing reads them.
import type { KubeConfig } from '@kubernetes/client-node';
import { resolveResource, type GroupVersionKind, type ResourceType } from './discovery.ts';
import {
  Informer,
  kubeListWatcher,
  type InformerOptions,
  type KubeListWatcherOptions,
} from './informer.ts';
import { silentLogger, type Logger } from './logger.ts';
import { withoutManagedFields, type KubeObject } from './object.ts';
import type { StoreIndex } from './cache.ts';

export type InformerDefaults = Omit<
  InformerOptions<KubeObject>,
  'listWatcher' | 'description' | 'logger'
>;

export interface InformerTarget extends GroupVersionKind, KubeListWatcherOptions {
  /**
   * What of each object the cache keeps (Informer's transform). Part of the informer's
   * identity by its function name: every target asking for this informer passes the same one.
   */
  transform?: (object: KubeObject) => KubeObject;
  /**
   * Indexes the informer's store carries (cache.ts), added by the factory, each once, whichever
   * target of the informer names it first. Not part of the informer's identity.
   */
  indexes?: readonly StoreIndex<never>[];
}

export class InformerFactory {
  readonly #kc: KubeConfig;
  readonly #log: Logger;
  readonly #defaults: InformerDefaults;
  readonly #informers = new Map<
    string,
    {
      target: InformerTarget;
      informer: Informer<KubeObject>;
      resource: () => Promise<ResourceType>;
    }
  >();
  #started = false;

  constructor(kc: KubeConfig, options: { logger?: Logger; defaults?: InformerDefaults } = {}) {
    this.#kc = kc;
    this.#log = options.logger ?? silentLogger;
    this.#defaults = options.defaults ?? {};
  }

  static key(target: InformerTarget): string {
    return [
      `${target.apiVersion}/${target.kind}`,
      target.namespace ? `ns=${target.namespace}` : '',
      target.labelSelector ? `labels=${target.labelSelector}` : '',
      target.fieldSelector ? `fields=${target.fieldSelector}` : '',
      target.metadataOnly ? 'metadata-only' : '',
      target.transform ? `transform=${target.transform.name || 'anonymous'}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }

  /** The shared informer for `target`, created on first request (started with the others). */
  informerFor<T extends KubeObject>(target: InformerTarget): Informer<T> {
    const key = InformerFactory.key(target);
    let entry = this.#informers.get(key);
    if (!entry) {
      const listWatcher = kubeListWatcher<KubeObject>(this.#kc, target, target);
      const informer = new Informer<KubeObject>({
        ...this.#defaults,
        listWatcher,
        description: key,
        logger: this.#log,
        transform: cachedPart(target.transform),
      });
      entry = { target, informer, resource: listWatcher.resource };
      this.#informers.set(key, entry);
      if (this.#started) informer.start();
    }
    for (const index of target.indexes ?? [])
      entry.informer.store.addIndex(index as StoreIndex<KubeObject>);
    return entry.informer as unknown as Informer<T>;
  }

  get informers(): Informer<KubeObject>[] {
    return [...this.#informers.values()].map((e) => e.informer);
  }

  get targets(): InformerTarget[] {
    return [...this.#informers.values()].map((e) => e.target);
  }

  /**
   * Resolves every informer's type through discovery; throws one error naming every type
   * the API server does not serve.
   */
  async preflight(): Promise<ResourceType[]> {
    const results = await Promise.allSettled(
      [...this.#informers.values()].map((e) => resolveResource(this.#kc, e.target)),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) {
      const lines = failures.map((f) => `  - ${f instanceof Error ? f.message : String(f)}`);
      throw new Error(
        `preflight failed: resources this operator watches are not available:\n${lines.join('\n')}`,
        {
          cause: failures[0],
        },
      );
    }
    return results.map((r) => (r as PromiseFulfilledResult<ResourceType>).value);
  }

  start(): void {
    this.#started = true;
    for (const informer of this.informers) informer.start();
  }

  hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/** What a cache keeps of an object: no managedFields, then what the target keeps of that. */
function cachedPart(transform: InformerTarget['transform']): (object: KubeObject) => KubeObject {
  return transform ? (object) => transform(withoutManagedFields(object)) : withoutManagedFields;
}
