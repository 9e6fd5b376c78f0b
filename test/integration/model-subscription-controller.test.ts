// The ModelSubscription controller end to end: the real API server with our CRDs, the
// LiteLLM-compatible test server, and a Manager running the Team controller, the model
// catalog refresh (short interval) and the ModelSubscription controller. The effect that
// matters is in LiteLLM: the models of the Team's LiteLLM team. Every expectation polls.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSubscription, Team } from '../../crds/api/index.ts';
import { MODEL_SUBSCRIPTION_FIELD_MANAGER } from '../../operator/src/controllers/model-subscription/reconciler.ts';
import { TEAM_TARGET } from '../../operator/src/controllers/shared/kinds.ts';
import { NO_MODELS } from '../../operator/src/controllers/team/litellm-team.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer, type ModelConfig } from '../litellm-server/server.ts';
import {
  idle,
  reconcileCount,
  startSubscriptionOperator,
  stateOf,
  Subscriptions,
  type SubscriptionOperator,
} from './support/subscription-operator.ts';
import { Objects, poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const REFRESH_MS = 300;
const PRICED: ModelConfig = {
  model_name: 'priced-chat',
  input_cost_per_token: 1e-7,
  output_cost_per_token: 1.5e-6,
  max_tokens: 4096,
  max_input_tokens: 128000,
};

describe('ModelSubscription controller', () => {
  const run = suffix();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: SubscriptionOperator;
  let objects: Objects;
  let subscriptions: Subscriptions;
  const served: (string | ModelConfig)[] = ['granite-3-8b', 'llama-3-8b', PRICED];
  const n = (name: string) => `${name}-${run}`;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-msub-test', models: served });
    const labels = { [TEST_RUN_LABEL]: run };
    objects = new Objects(kc, labels);
    subscriptions = new Subscriptions(kc, labels);
    operator = await startSubscriptionOperator({
      kc,
      litellm,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      catalogRefreshIntervalMs: REFRESH_MS,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });
  // A failed test must not leave LiteLLM failing for the next one.
  afterEach(() => litellm.faults.clear());

  const state = (namespace: string, name: string) => async () =>
    stateOf(await subscriptions.get(namespace, name));
  const teamModels = (team: string) => () => litellm.store.teams.get(team)?.models;
  /** LiteLLM starts serving `model` too (as after a config reload). */
  const serve = (model: string) => {
    served.push(model);
    litellm.setModels(served);
  };

  it('denies a subscription in a namespace no Team claims', async () => {
    const namespace = n('unclaimed');
    await subscriptions.create(namespace, 'granite', { model: 'granite-3-8b' });

    await expect.poll(state(namespace, 'granite'), poll).toBe('Denied False/NoTeam');
    const stored = (await subscriptions.get(namespace, 'granite'))!;
    expect(stored.status?.team).toBeUndefined();
    expect(stored.status?.observedGeneration).toBe(stored.metadata.generation);
    const ready = stored.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.message).toContain(`no Team claims namespace ${namespace}`);
    expect(ready.observedGeneration).toBe(stored.metadata.generation);
    expect(stored.metadata.managedFields?.map((f) => f.manager)).toContain(
      MODEL_SUBSCRIPTION_FIELD_MANAGER,
    );
    await expect
      .poll(() => subscriptions.events(namespace, 'granite'), poll)
      .toEqual([expect.stringMatching(/^Warning NoTeam: no Team claims namespace/)]);
  });

  it('waits for approval, then activates as soon as a Team admin adds the model', async () => {
    const team = n('approve');
    const namespace = team;
    await objects.createTeam(team, { namespaces: [namespace], models: ['llama-3-8b'] });
    await subscriptions.create(namespace, 'llama', { model: 'llama-3-8b' });
    await subscriptions.create(namespace, 'priced', { model: 'priced-chat' });

    await expect.poll(state(namespace, 'priced'), poll).toBe('Pending False/NotApproved');
    await expect.poll(state(namespace, 'llama'), poll).toBe('Active True/Active');
    await expect.poll(teamModels(team), poll).toEqual(['llama-3-8b']);
    const pending = (await subscriptions.get(namespace, 'priced'))!;
    expect(pending.status?.team).toBe(team);
    expect(pending.status!.conditions![0]!.message).toBe(
      `model priced-chat is not in Team ${team}'s spec.models; a Team admin approves it by adding it there`,
    );

    await objects.patchTeam(team, { spec: { models: ['llama-3-8b', 'priced-chat'] } });
    await expect.poll(state(namespace, 'priced'), poll).toBe('Active True/Active');
    const active = (await subscriptions.get(namespace, 'priced'))!;
    expect(active.status).toMatchObject({
      team,
      observedGeneration: active.metadata.generation,
      modelInfo: {
        provider: 'openai',
        mode: 'chat',
        maxInputTokens: 128000,
        maxOutputTokens: 4096,
        inputCostPerToken: '0.0000001',
        outputCostPerToken: '0.0000015',
      },
    });
    await expect.poll(teamModels(team), poll).toEqual(['llama-3-8b', 'priced-chat']);
    await expect
      .poll(() => subscriptions.events(namespace, 'priced'), poll)
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^Warning NotApproved: model priced-chat is not in Team/),
          `Normal Activated: Team ${team} may use model priced-chat through this subscription`,
        ]),
      );
  });

  it('is Pending while LiteLLM does not serve the model, and Active once it does', async () => {
    const team = n('later');
    const namespace = team;
    const model = `new-model-${run}`;
    await objects.createTeam(team, { namespaces: [namespace], models: ['*'] });
    await subscriptions.create(namespace, 'new', { model });

    await expect.poll(state(namespace, 'new'), poll).toBe('Pending False/ModelNotFound');
    const pending = (await subscriptions.get(namespace, 'new'))!;
    expect(pending.status?.team).toBe(team);
    expect(pending.status!.conditions![0]!.message).toBe(`model ${model} is not served by LiteLLM`);
    expect(pending.status?.modelInfo).toBeUndefined();
    await expect.poll(teamModels(team), poll).toEqual([NO_MODELS]);

    serve(model);
    await expect.poll(state(namespace, 'new'), poll).toBe('Active True/Active');
    await expect.poll(teamModels(team), poll).toEqual([model]);
    expect((await subscriptions.get(namespace, 'new'))!.status?.modelInfo).toMatchObject({
      provider: 'openai',
      mode: 'chat',
      inputCostPerToken: '0.000001',
    });
  });

  it('takes the model from the LiteLLM team when suspended, and when deleted', async () => {
    const team = n('suspend');
    const namespace = team;
    await objects.createTeam(team, { namespaces: [namespace], models: ['*'] });
    await subscriptions.create(namespace, 'granite', { model: 'granite-3-8b' });
    await subscriptions.create(namespace, 'llama', { model: 'llama-3-8b' });
    await expect.poll(teamModels(team), poll).toEqual(['granite-3-8b', 'llama-3-8b']);

    await subscriptions.patch(namespace, 'granite', { spec: { suspended: true } });
    await expect.poll(state(namespace, 'granite'), poll).toBe('Suspended False/Suspended');
    await expect.poll(teamModels(team), poll).toEqual(['llama-3-8b']);
    expect((await subscriptions.get(namespace, 'granite'))!.status?.team).toBe(team);

    await subscriptions.patch(namespace, 'granite', { spec: { suspended: false } });
    await expect.poll(state(namespace, 'granite'), poll).toBe('Active True/Active');
    await expect.poll(teamModels(team), poll).toEqual(['granite-3-8b', 'llama-3-8b']);

    await subscriptions.delete(namespace, 'llama');
    await expect.poll(teamModels(team), poll).toEqual(['granite-3-8b']);
    await subscriptions.delete(namespace, 'granite');
    await expect.poll(teamModels(team), poll).toEqual([NO_MODELS]);
  });

  it('denies a namespace two Teams claim, naming both, until one is deleted', async () => {
    const [a, b] = [n('claim-a'), n('claim-b')];
    const namespace = n('claimed');
    await objects.createTeam(a, { namespaces: [namespace], models: ['*'] });
    await subscriptions.create(namespace, 'granite', { model: 'granite-3-8b' });
    await expect.poll(state(namespace, 'granite'), poll).toBe('Active True/Active');
    await expect.poll(teamModels(a), poll).toEqual(['granite-3-8b']);

    await objects.createTeam(b, { namespaces: [namespace], models: ['*'] });
    await expect.poll(state(namespace, 'granite'), poll).toBe('Denied False/NamespaceConflict');
    const denied = (await subscriptions.get(namespace, 'granite'))!;
    expect(denied.status?.team).toBeUndefined();
    expect(denied.status!.conditions![0]!.message).toContain(
      `namespace ${namespace} is claimed by Teams ${a} and ${b}`,
    );
    await expect.poll(teamModels(a), poll).toEqual([NO_MODELS]);
    await expect.poll(teamModels(b), poll).toEqual([NO_MODELS]);

    // A Team being deleted claims nothing any more.
    await objects.deleteTeam(b);
    await expect.poll(state(namespace, 'granite'), poll).toBe('Active True/Active');
    expect((await subscriptions.get(namespace, 'granite'))!.status?.team).toBe(a);
    await expect.poll(teamModels(a), poll).toEqual(['granite-3-8b']);
  });

  it('writes nothing for a converged subscription when it is checked again', async () => {
    const team = n('converged');
    const namespace = team;
    await objects.createTeam(team, { namespaces: [namespace], models: ['granite-3-8b'] });
    await subscriptions.create(namespace, 'granite', { model: 'granite-3-8b' });
    await expect.poll(state(namespace, 'granite'), poll).toBe('Active True/Active');
    await expect.poll(() => idle(operator.controller), poll).toBe(true);
    const before = (await subscriptions.get(namespace, 'granite'))!;
    const reconcilesBefore = await reconcileCount(operator.manager);

    // A catalog change re-checks every subscription (enqueued before this listener runs) ...
    let catalogChanged = false;
    const off = operator.catalog.onChange(() => (catalogChanged = true));
    try {
      serve(`unrelated-${run}`);
      await expect.poll(() => catalogChanged, poll).toBe(true);
    } finally {
      off();
    }
    await expect.poll(() => idle(operator.controller), poll).toBe(true);
    // ... and so does an edit of the Team that changes nothing for this subscription.
    const patched = await objects.patchTeam(team, {
      spec: { models: ['granite-3-8b', 'llama-3-8b'] },
    });
    const teams = operator.manager.informers.informerFor<Team>({
      ...TEAM_TARGET,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
    }).store;
    // The cache has seen the edit (the Team controller may have written status since).
    await expect
      .poll(() => teams.getByName(team)?.metadata.generation, poll)
      .toBe(patched.metadata.generation);
    await expect.poll(() => idle(operator.controller), poll).toBe(true);

    expect(await reconcileCount(operator.manager)).toBeGreaterThanOrEqual(reconcilesBefore + 2);
    const after = (await subscriptions.get(namespace, 'granite'))!;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.status).toEqual(before.status);
  });

  it('reports ModelCatalogUnavailable while LiteLLM has never answered, then recovers', async () => {
    // An operator of its own, started while its LiteLLM fails GET /model/info.
    const down = await start({ masterKey: 'sk-master-msub-down', models: ['granite-3-8b'] });
    down.faults.add({ route: '/model/info', status: 503 });
    const run2 = suffix();
    const labels = { [TEST_RUN_LABEL]: run2 };
    let second: SubscriptionOperator | undefined;
    try {
      second = await startSubscriptionOperator({
        kc,
        litellm: down,
        labelSelector: `${TEST_RUN_LABEL}=${run2}`,
        catalogRefreshIntervalMs: REFRESH_MS,
      });
      const team = `down-${run2}`;
      const namespace = team;
      await new Objects(kc, labels).createTeam(team, { namespaces: [namespace], models: ['*'] });
      const mine = new Subscriptions(kc, labels);
      await mine.create(namespace, 'granite', { model: 'granite-3-8b' });

      const current = async () => (await mine.get(namespace, 'granite')) as ModelSubscription;
      await expect
        .poll(async () => stateOf(await current()), poll)
        .toBe('Pending Unknown/ModelCatalogUnavailable');
      const unavailable = (await current()).status!;
      expect(unavailable.team).toBe(team);
      expect(unavailable.conditions![0]!.message).toMatch(
        /^cannot tell whether LiteLLM serves model granite-3-8b: GET \/model\/info: /,
      );
      expect(second.catalog.state).toBe('unavailable');

      down.faults.clear();
      await expect.poll(async () => stateOf(await current()), poll).toBe('Active True/Active');
      await expect.poll(() => down.store.teams.get(team)?.models, poll).toEqual(['granite-3-8b']);
      await expect
        .poll(() => mine.events(namespace, 'granite'), poll)
        .toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^Warning ModelCatalogUnavailable: cannot tell whether/),
            `Normal Activated: Team ${team} may use model granite-3-8b through this subscription`,
          ]),
        );
    } finally {
      await second?.stop();
      await down.stop();
    }
  });
});
