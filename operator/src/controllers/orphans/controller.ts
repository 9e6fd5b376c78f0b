// The orphan collector, a singleton loop (runtime/singleton-loop.ts):
//
//   manager.add(new SingletonLoop(manager, orphanCollection({ manager, litellm, … })), { leaderOnly: true })
//
// Each pass collects; the next runs after the interval. It is leader-only, so only one replica
// ever collects; a failed pass (LiteLLM down) is retried with the usual backoff.
import type { LiteLLMClient } from '../../litellm/client.ts';
import { jittered } from '../../runtime/backoff.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { SingletonLoopOptions } from '../../runtime/singleton-loop.ts';
import {
  selecting,
  TEAM_TARGET,
  USER_TARGET,
  VIRTUAL_KEY_TARGET,
  type KindSelectors,
} from '../shared/kinds.ts';
import { cachedOwners } from './cached-owners.ts';
import { keySource, teamSource, userSource } from './litellm-objects.ts';
import { OrphanCollector, type OrphanCollectionMode } from './orphan-collector.ts';
import { orphanMetrics } from './orphan-metrics.ts';

export const ORPHAN_COLLECTOR = 'orphan-collector';

export interface OrphanCollectionDeps {
  /** Its informers (the owners' caches), metrics registry and logger. */
  manager: Pick<Manager, 'informers' | 'metrics' | 'log'>;
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
  labelSelectors?: KindSelectors;
}

export function orphanCollection(deps: OrphanCollectionDeps): SingletonLoopOptions {
  const { manager } = deps;
  const selectors = deps.labelSelectors ?? {};
  // The kinds that own LiteLLM objects, read from the informers the controllers share.
  const ownerStore = (target: typeof TEAM_TARGET) =>
    manager.informers.informerFor(selecting(target, selectors[target.kind as keyof KindSelectors]))
      .store;
  const owners = new Map<string, ObjectStore<KubeObject>>([
    ['Team', ownerStore(TEAM_TARGET)],
    ['User', ownerStore(USER_TARGET)],
    ['VirtualKey', ownerStore(VIRTUAL_KEY_TARGET)],
  ]);
  const sources = [teamSource(deps.litellm), userSource(deps.litellm), keySource(deps.litellm)];
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
    log: manager.log.child({ controller: ORPHAN_COLLECTOR }),
  });
  return {
    name: ORPHAN_COLLECTOR,
    pass: async ({ signal }) => {
      await collector.collect(signal);
      return jittered(deps.intervalMs, 0.1);
    },
  };
}
