import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/logger.ts';
import { ownerMetadata } from '../shared/ownership.ts';
import type { LiteLLMObjectSource } from './litellm-objects.ts';
import { OrphanCollector, type OrphanCollectionMode } from './orphan-collector.ts';
import { orphanMetrics } from './orphan-metrics.ts';
import type { LiteLLMObject, Owners } from './orphan-selection.ts';

/** A source over an in-memory list, recording deletions (and failing for `failing`). */
function fakeSource(objects: LiteLLMObject[], failing: string[] = []) {
  const deleted: string[] = [];
  const source: LiteLLMObjectSource = {
    kind: 'user',
    list: async () => objects.filter((o) => !deleted.includes(o.id)),
    delete: async (id) => {
      if (failing.includes(id)) throw new Error('LiteLLM said no');
      deleted.push(id);
    },
  };
  return { source, deleted };
}

const user = (id: string, owner?: string): LiteLLMObject => ({
  kind: 'user',
  id,
  metadata: owner
    ? ownerMetadata({ kind: 'User', name: owner, uid: `uid-${owner}`, installation: 'install-a' })
    : {},
});

function collector(
  mode: OrphanCollectionMode,
  source: LiteLLMObjectSource,
  owners: () => Owners,
  synced = true,
) {
  const registry = new Registry();
  const metrics = orphanMetrics(registry, ['user']);
  const c = new OrphanCollector({
    mode,
    installationId: 'install-a',
    sources: [source],
    owners,
    cachesSynced: () => synced,
    metrics,
    log: silentLogger,
  });
  const found = async () => (await metrics.found.get()).values[0]?.value;
  return { c, found };
}

const existing = (...names: string[]): Owners => ({
  watches: (kind) => kind === 'User',
  exists: (o) => names.includes(o.name),
  uidExists: (_kind, uid) => names.some((n) => `uid-${n}` === uid),
});

const signal = new AbortController().signal;

describe('OrphanCollector', () => {
  const objects = [user('alice', 'alice'), user('ghost', 'ghost'), user('manual')];

  it('in dry-run only counts', async () => {
    const { source, deleted } = fakeSource(objects);
    const { c, found } = collector('dry-run', source, () => existing('alice'));
    expect(await c.collect(signal)).toEqual({
      found: { user: 1 },
      deleted: { user: 0 },
      unclaimed: { user: 0 },
    });
    expect(deleted).toEqual([]);
    expect(await found()).toBe(1);
  });

  it('when on deletes the orphans, and the next pass finds none', async () => {
    const { source, deleted } = fakeSource(objects);
    const { c, found } = collector('on', source, () => existing('alice'));
    expect(await c.collect(signal)).toEqual({
      found: { user: 1 },
      deleted: { user: 1 },
      unclaimed: { user: 0 },
    });
    expect(deleted).toEqual(['ghost']);
    await c.collect(signal);
    expect(await found()).toBe(0);
  });

  it('spares an orphan whose owner appeared since the listing', async () => {
    const { source, deleted } = fakeSource(objects);
    let calls = 0;
    // The first look (selection) misses ghost; the second (just before deleting) sees it.
    const { c } = collector('on', source, () =>
      calls++ === 0 ? existing('alice') : existing('alice', 'ghost'),
    );
    expect(await c.collect(signal)).toEqual({
      found: { user: 1 },
      deleted: { user: 0 },
      unclaimed: { user: 0 },
    });
    expect(deleted).toEqual([]);
  });

  it('goes on after a failed deletion', async () => {
    const { source, deleted } = fakeSource(
      [user('ghost', 'ghost'), user('ghost2', 'ghost2')],
      ['ghost'],
    );
    const { c } = collector('on', source, () => existing());
    expect(await c.collect(signal)).toEqual({
      found: { user: 2 },
      deleted: { user: 1 },
      unclaimed: { user: 0 },
    });
    expect(deleted).toEqual(['ghost2']);
  });

  it('does nothing while the caches are not synced (everything would look orphaned)', async () => {
    const { source, deleted } = fakeSource(objects);
    const { c } = collector('on', source, () => existing(), false);
    expect(await c.collect(signal)).toEqual({ found: {}, deleted: {}, unclaimed: {} });
    expect(deleted).toEqual([]);
  });
});
