import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kinds, type Team } from '../../../../crds/api/index.ts';
import type { StoreIndex } from '../../runtime/cache.ts';
import { InformerFactory } from '../../runtime/informer-factory.ts';
import { TEAMS_BY_NAMESPACE } from './indexes.ts';
import {
  MODEL_SUBSCRIPTION_RESOURCE,
  resourceOf,
  selecting,
  TEAM_RESOURCE,
  TEAM_TARGET,
  USER_RESOURCE,
  VIRTUAL_KEY_RESOURCE,
} from './kinds.ts';

const team = (name: string, namespaces: string[]): Team => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  metadata: { name, resourceVersion: '1' },
  spec: { namespaces, membershipMode: 'Authoritative', deletionPolicy: 'Delete' } as Team['spec'],
});

describe('kind descriptors', () => {
  it('are the API kind definitions’ kind, plural and scope', () => {
    expect(TEAM_RESOURCE).toEqual({
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'Team',
      plural: 'teams',
      namespaced: false,
    });
    expect(USER_RESOURCE).toMatchObject({ kind: 'User', plural: 'users', namespaced: false });
    expect(MODEL_SUBSCRIPTION_RESOURCE).toMatchObject({
      kind: 'ModelSubscription',
      plural: 'modelsubscriptions',
      namespaced: true,
    });
    expect(VIRTUAL_KEY_RESOURCE).toMatchObject({
      kind: 'VirtualKey',
      plural: 'virtualkeys',
      namespaced: true,
    });
    for (const kind of kinds) expect(resourceOf(kind).plural).toBe(kind.plural);
  });
});

describe('shared indexes', () => {
  it('index a store once, whichever controller asks for it first, in either order', () => {
    const informers = new InformerFactory(new KubeConfig());
    // The Team controller's target, then the subscription controller's copy of it.
    const first = informers.informerFor<Team>(TEAM_TARGET);
    const second = informers.informerFor<Team>({ ...TEAM_TARGET });
    expect(second).toBe(first);
    first.store.set(team('ml', ['apps']));
    expect(second.store.byIndex(TEAMS_BY_NAMESPACE, 'apps').map((t) => t.metadata.name)).toEqual([
      'ml',
    ]);
    // A selected store of the same kind has the same indexes.
    const scoped = informers.informerFor<Team>(selecting(TEAM_TARGET, 'run=a')).store;
    scoped.set(team('nlp', ['batch']));
    expect(scoped.byIndex(TEAMS_BY_NAMESPACE, 'batch')).toHaveLength(1);
  });

  it('refuses a second definition under a name already taken', () => {
    const informers = new InformerFactory(new KubeConfig());
    const { store } = informers.informerFor<Team>(TEAM_TARGET);
    const impostor: StoreIndex<Team> = { name: TEAMS_BY_NAMESPACE.name, values: () => ['x'] };
    expect(() => store.addIndex(impostor)).toThrow(/already exists with another definition/);
    expect(() => store.byIndex(impostor, 'x')).toThrow(/no index/);
  });
});
