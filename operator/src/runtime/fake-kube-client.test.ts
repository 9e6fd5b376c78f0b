import { describe, expect, it } from 'vitest';
import { CONFIG_MAPS, kubeClientContract } from '../../../test/fixtures/kube-client-contract.ts';
import { FakeKubeClient } from './fake-kube-client.ts';
import { isConflict } from './kube-client.ts';
import type { KubeObject } from './object.ts';

kubeClientContract('FakeKubeClient', () => ({
  kube: new FakeKubeClient(),
  namespace: async () => 'default',
}));

const TEAMS = {
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  plural: 'teams',
  namespaced: false,
};

describe('FakeKubeClient', () => {
  it('bumps the generation for spec changes only, and keeps status out of a replace', async () => {
    const kube = new FakeKubeClient();
    const team = await kube.create<KubeObject & { spec?: unknown }>(TEAMS, {
      metadata: { name: 'a' },
      spec: { namespaces: ['x'] },
    });
    expect(team.metadata?.generation).toBe(1);
    const withStatus = await kube.replaceStatus(TEAMS, { ...team, status: { phase: 'Ready' } });
    expect(withStatus.metadata?.generation).toBe(1);
    const relabelled = await kube.mergePatch(
      TEAMS,
      { name: 'a' },
      { metadata: { labels: { l: '1' } } },
    );
    expect(relabelled.metadata?.generation).toBe(1);
    const respecced = await kube.replace(TEAMS, {
      ...relabelled,
      spec: { namespaces: ['y'] },
      status: { phase: 'ignored' },
    });
    expect(respecced.metadata?.generation).toBe(2);
    expect((respecced as { status?: unknown }).status).toEqual({ phase: 'Ready' });
  });

  it('merge-patches status alone through mergePatchStatus, as the /status subresource does', async () => {
    const kube = new FakeKubeClient();
    const team = await kube.create<KubeObject & { spec?: unknown }>(TEAMS, {
      metadata: { name: 'a' },
      spec: { namespaces: ['x'] },
    });
    await kube.replaceStatus(TEAMS, { ...team, status: { phase: 'Ready', spend: '1' } });
    const patched = await kube.mergePatchStatus<KubeObject & { spec?: unknown; status?: unknown }>(
      TEAMS,
      { name: 'a' },
      { spec: { namespaces: ['ignored'] }, status: { spend: '2', budget: { maxBudget: '5' } } },
    );
    expect(patched.spec).toEqual({ namespaces: ['x'] });
    expect(patched.status).toEqual({ phase: 'Ready', spend: '2', budget: { maxBudget: '5' } });
    expect(patched.metadata?.generation).toBe(1);
    const stale = { metadata: { resourceVersion: team.metadata?.resourceVersion }, status: {} };
    await expect(kube.mergePatchStatus(TEAMS, { name: 'a' }, stale)).rejects.toSatisfy(isConflict);
    await expect(
      kube.mergePatchStatus(TEAMS, { name: 'gone' }, { status: {} }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it('keeps a store equal to what a target selects, and lists the writes it answered', async () => {
    const kube = new FakeKubeClient();
    const store = kube.storeFor({ ...CONFIG_MAPS, labelSelector: 'app=x' });
    await kube.create(CONFIG_MAPS, {
      metadata: { name: 'in', namespace: 'n', labels: { app: 'x' } },
    });
    await kube.create(CONFIG_MAPS, {
      metadata: { name: 'out', namespace: 'n', labels: { app: 'y' } },
    });
    expect(store.keys()).toEqual(['n/in']);
    await kube.mergePatch(
      CONFIG_MAPS,
      { namespace: 'n', name: 'in' },
      { metadata: { labels: { app: 'z' } } },
    );
    expect(store.size).toBe(0);
    expect(kube.writes.map((w) => `${w.verb} ${w.key}`)).toEqual([
      'create n/in',
      'create n/out',
      'mergePatch n/in',
    ]);
  });

  it('hands out copies: editing one changes nothing stored', async () => {
    const kube = new FakeKubeClient();
    const created = await kube.create(CONFIG_MAPS, {
      metadata: { name: 'c', namespace: 'n' },
      data: { a: '1' },
    });
    (created as { data: Record<string, string> }).data.a = 'edited';
    const read = await kube.read<typeof created>(CONFIG_MAPS, { namespace: 'n', name: 'c' });
    expect((read as { data?: unknown }).data).toEqual({ a: '1' });
  });

  it('fails the next matching call with the error it was given, once', async () => {
    const kube = new FakeKubeClient();
    const boom = new Error('apiserver down');
    kube.failNext('create', boom, 'ConfigMap');
    await expect(
      kube.create(CONFIG_MAPS, { metadata: { name: 'c', namespace: 'n' } }),
    ).rejects.toBe(boom);
    await expect(
      kube.create(CONFIG_MAPS, { metadata: { name: 'c', namespace: 'n' } }),
    ).resolves.toBeTruthy();
    const again = await kube
      .create(CONFIG_MAPS, { metadata: { name: 'c', namespace: 'n' } })
      .catch((e: unknown) => e);
    expect(isConflict(again)).toBe(true);
  });
});
