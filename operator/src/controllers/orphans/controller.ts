// The orphan collector in the Manager: a controller with a single request that runs a pass
// and asks to run again after the interval. Controllers run only on the leader, so only one
// replica ever collects; a failed pass (LiteLLM down) is retried with the usual backoff.
import type { LiteLLMClient } from '../../litellm/client.ts';
import { jittered } from '../../runtime/backoff.ts';
import type { Controller } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import { TEAM_TARGET, USER_TARGET } from '../shared/kinds.ts';
import { cachedOwners } from './cached-owners.ts';
import { keySource, teamSource, userSource } from './litellm-objects.ts';
import { VIRTUAL_KEY_TARGET } from '../virtual-key/targets.ts';
import { OrphanCollector, type OrphanCollectionMode } from './orphan-collector.ts';
import { orphanMetrics } from './orphan-metrics.ts';

export const ORPHAN_COLLECTOR = 'orphan-collector';

export interface OrphanCollectorDeps {
  manager: Manager;
  litellm: LiteLLMClient;
  mode: OrphanCollectionMode;
  /** This installation's id (operator/src/installation.ts): only its objects are collected. */
  installationId: string;
  /** Time between passes (+ up to 10 %). */
  intervalMs: number;
  /**
   * Only owners with these labels count as existing: for tests whose LiteLLM holds only
   * labelled objects' entities. In production every owner must be visible, or its LiteLLM
   * objects would look orphaned. Default: all.
   */
  labelSelector?: string;
}

export function orphanCollector(deps: OrphanCollectorDeps): {
  controller: Controller;
  collector: OrphanCollector;
} {
  const { manager } = deps;
  // The kinds that own LiteLLM objects, read from the informers the controllers share.
  const labelSelector = deps.labelSelector;
  const owners = new Map<string, ObjectStore<KubeObject>>([
    ['Team', manager.informers.informerFor({ ...TEAM_TARGET, labelSelector }).store],
    ['User', manager.informers.informerFor({ ...USER_TARGET, labelSelector }).store],
    ['VirtualKey', manager.informers.informerFor({ ...VIRTUAL_KEY_TARGET, labelSelector }).store],
  ]);
  const sources = [teamSource(deps.litellm), userSource(deps.litellm), keySource(deps.litellm)];
  const log = manager.log.child({ controller: ORPHAN_COLLECTOR });
  const collector = new OrphanCollector({
    mode: deps.mode,
    installationId: deps.installationId,
    sources,
    owners: () => cachedOwners(owners),
    cachesSynced: () => manager.informers.hasSynced(),
    metrics: orphanMetrics(
      manager.metrics.registry,
      sources.map((s) => s.kind),
    ),
    log,
  });
  const controller = manager.addController({
    name: ORPHAN_COLLECTOR,
    reconciler: async (_request, { signal }) => {
      await collector.collect(signal);
      return { requeueAfter: jittered(deps.intervalMs, 0.1) };
    },
  });
  controller.enqueue({ name: 'litellm' });
  return { controller, collector };
}
