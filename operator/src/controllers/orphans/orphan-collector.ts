// One orphan collection pass: list each kind of LiteLLM object, pick the orphans of this
// installation (orphan-selection.ts), and delete them, or in dry-run only log them. Either way the
// number found is the llm_tenancy_orphans gauge, so a dry run shows what `on` would do.
// Each orphan is judged again against the caches just before it is deleted: an owner
// created since the listing wins.
import type { Logger } from '../../runtime/logger.ts';
import type { LiteLLMObjectSource } from './litellm-objects.ts';
import type { OrphanMetrics } from './orphan-metrics.ts';
import { orphanVerdict, selectOrphans, type Orphan, type Owners } from './orphan-selection.ts';

export type OrphanCollectionMode = 'dry-run' | 'on';

export interface OrphanCollectorOptions {
  mode: OrphanCollectionMode;
  /** This installation's id: only objects carrying it are ever collected. */
  installationId: string;
  sources: readonly LiteLLMObjectSource[];
  /** The owners as the caches know them now. */
  owners: () => Owners;
  /** False while the caches are incomplete: then every object would look orphaned. */
  cachesSynced: () => boolean;
  metrics: OrphanMetrics;
  log: Logger;
}

export interface CollectionReport {
  /** Orphans found, per kind. */
  found: Record<string, number>;
  /** Orphans deleted, per kind (0 in dry-run). */
  deleted: Record<string, number>;
  /** Objects without an installation id whose owner is gone, per kind: kept. */
  unclaimed: Record<string, number>;
}

export class OrphanCollector {
  readonly #options: OrphanCollectorOptions;

  constructor(options: OrphanCollectorOptions) {
    this.#options = options;
  }

  get mode(): OrphanCollectionMode {
    return this.#options.mode;
  }

  /** One pass over every source. Throws when a listing fails (retried later). */
  async collect(signal: AbortSignal): Promise<CollectionReport> {
    const { sources, metrics, log } = this.#options;
    const report: CollectionReport = { found: {}, deleted: {}, unclaimed: {} };
    if (!this.#options.cachesSynced()) {
      log.info('orphan collection skipped: caches not synced yet');
      return report;
    }
    for (const source of sources) {
      const { orphans, unclaimed } = selectOrphans(
        await source.list(signal),
        this.#options.owners(),
        this.#options.installationId,
      );
      metrics.found.set({ kind: source.kind }, orphans.length);
      metrics.unclaimed.set({ kind: source.kind }, unclaimed.length);
      report.found[source.kind] = orphans.length;
      report.deleted[source.kind] = 0;
      report.unclaimed[source.kind] = unclaimed.length;
      if (unclaimed.length > 0) {
        log.info(
          { kind: source.kind, ids: unclaimed.slice(0, 20).map((o) => o.id) },
          'LiteLLM objects made before installation ids, whose owner is gone: kept (whose they are cannot be proven); delete them by hand if they are this installation’s',
        );
      }
      for (const orphan of orphans) {
        if (await this.#handle(source, orphan, signal)) report.deleted[source.kind]!++;
      }
    }
    log.info({ mode: this.mode, ...report }, 'orphan collection done');
    return report;
  }

  /** Deletes (or in dry-run logs) one orphan; true when it was deleted. */
  async #handle(
    source: LiteLLMObjectSource,
    orphan: Orphan,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { log, metrics } = this.#options;
    const { kind, id } = orphan.object;
    const owner = [orphan.owner.kind, orphan.owner.namespace, orphan.owner.name]
      .filter(Boolean)
      .join('/');
    const fields = { kind, id, owner, ownerUid: orphan.ownerUid };
    if (this.mode === 'dry-run') {
      log.info(fields, 'orphaned LiteLLM object (dry run: not deleted)');
      return false;
    }
    const verdict = orphanVerdict(
      orphan.object,
      this.#options.owners(),
      this.#options.installationId,
    );
    if (!verdict.orphan) {
      log.info(fields, 'not an orphan any more; kept');
      return false;
    }
    try {
      await source.delete(id, signal);
    } catch (err) {
      // One failure must not stop the pass; the next pass tries again.
      log.warn({ ...fields, err }, 'deleting an orphaned LiteLLM object failed');
      return false;
    }
    metrics.deleted.inc({ kind });
    log.info(fields, 'deleted orphaned LiteLLM object');
    return true;
  }
}
