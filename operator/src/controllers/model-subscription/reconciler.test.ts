// The ModelSubscription reconciler against the fake KubeClient: its status writes, its
// Events and its conflict and not-found handling, without an API server.
import { describe, expect, it } from 'vitest';
import type { ModelSubscription, Team } from '../../../../crds/api/index.ts';
import { aModelSubscription, aTeam } from '../../../../test/fixtures/builders.ts';
import { EVENT_RESOURCE, EventRecorder } from '../../runtime/events.ts';
import { FakeKubeClient } from '../../runtime/fake-kube-client.ts';
import { KubeApiError } from '../../runtime/kube-http.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { MODEL_SUBSCRIPTION_TARGET, TEAM_TARGET } from '../shared/kinds.ts';
import { MODEL_SUBSCRIPTION_FIELD_MANAGER, ModelSubscriptionReconciler } from './reconciler.ts';
import type { SubscriptionStores } from './watches.ts';

const MODEL = 'granite-3-8b';
const request = { namespace: 'ns-a', name: 'granite' };
const context = () => ({ signal: new AbortController().signal, log: silentLogger });

function bed(teams: Team[] = [aTeam('ml').with('spec.namespaces', ['ns-a']).build<Team>()]) {
  const kube = new FakeKubeClient();
  for (const team of teams) kube.seed(team);
  kube.seed(aModelSubscription('granite').inNamespace('ns-a').build<ModelSubscription>());
  const stores: SubscriptionStores = {
    subscriptions: kube.storeFor<ModelSubscription>(MODEL_SUBSCRIPTION_TARGET),
    teams: kube.storeFor<Team>(TEAM_TARGET),
  };
  const reconciler = new ModelSubscriptionReconciler({
    kube,
    stores,
    catalog: {
      state: 'loaded',
      get: (model) => (model === MODEL ? { provider: 'openai', mode: 'chat' } : undefined),
      lastError: undefined,
    },
    recorder: new EventRecorder(kube, { reportingController: 'llmtenancy.dev/operator' }),
  });
  const subscription = () => stores.subscriptions.getByName(request.name, request.namespace)!;
  const events = async () => {
    await new Promise((resolve) => setImmediate(resolve)); // recording is not awaited
    return kube.objectsOf<KubeObject & { reason?: string; type?: string }>(EVENT_RESOURCE);
  };
  return { kube, reconciler, subscription, events };
}

describe('ModelSubscriptionReconciler against the fake client', () => {
  it('activates an approved, served model through /status, with one Event', async () => {
    const { kube, reconciler, subscription, events } = bed();
    expect(await reconciler.reconcile(request, context())).toEqual({});
    expect(subscription().status?.phase).toBe('Active');
    expect(subscription().status?.team).toBe('ml');
    expect(kube.writes.filter((w) => w.kind === 'ModelSubscription')).toEqual([
      {
        verb: 'replaceStatus',
        kind: 'ModelSubscription',
        key: 'ns-a/granite',
        fieldManager: MODEL_SUBSCRIPTION_FIELD_MANAGER,
      },
    ]);
    expect((await events()).map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal Activated']);
  });

  it('writes nothing when the subscription has converged', async () => {
    const { kube, reconciler } = bed();
    await reconciler.reconcile(request, context());
    const before = kube.writes.length;
    await reconciler.reconcile(request, context());
    expect(kube.writes.slice(before)).toEqual([]);
  });

  it('decides again from the fresh object after a 409, and writes once', async () => {
    const { kube, reconciler, subscription } = bed();
    kube.failNext(
      'replaceStatus',
      new KubeApiError(409, { reason: 'Conflict', code: 409 }, 'stale'),
      'ModelSubscription',
    );
    await reconciler.reconcile(request, context());
    expect(subscription().status?.phase).toBe('Active');
    expect(kube.writes.filter((w) => w.verb === 'replaceStatus')).toHaveLength(1);
  });

  it('records nothing for a subscription deleted while it was reconciled (404)', async () => {
    const { kube, reconciler, events } = bed();
    kube.failNext(
      'replaceStatus',
      new KubeApiError(404, { reason: 'NotFound', code: 404 }, 'gone'),
      'ModelSubscription',
    );
    expect(await reconciler.reconcile(request, context())).toEqual({});
    expect(await events()).toEqual([]);
  });

  it('denies a subscription in a namespace no Team claims, with a Warning', async () => {
    const { reconciler, subscription, events } = bed([]);
    await reconciler.reconcile(request, context());
    expect(subscription().status?.phase).toBe('Denied');
    expect((await events()).map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning NoTeam']);
  });
});
