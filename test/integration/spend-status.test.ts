// Spend and budget on a VirtualKey, written by the operator's spend sync into the status
// subresource against the real API server, with tenants as examples/tenant-rbac.yaml makes
// them: a tenant cannot write those figures (the status subresource is not theirs; status in
// a write of the object itself is dropped), and the figures survive a tenant's edit of spec,
// which makes the VirtualKey controller write status of its own.
import {
  ApiException,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VirtualKey } from '../../crds/api/index.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { createAll, impersonatingWith } from './support/principals.ts';
import { GROUP, poll, suffix, TEST_RUN_LABEL, VERSION } from './support/team-operator.ts';
import { rbacInEffect, tenantRbac, type RbacObject, type Tenant } from './support/tenant-rbac.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function outcome(call: Promise<unknown>): Promise<'allowed' | number> {
  try {
    await call;
    return 'allowed';
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describe('spend and budget in status', () => {
  const run = suffix();
  const namespace = `spend-${run}`;
  const tenant: Tenant = { namespace, group: `spend-devs-${run}`, user: `dev-${run}` };
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let rbac: RbacObject[];

  const keyOf = async (name: string) => (await objects.getKey(namespace, name))!;
  const litellmKey = (key: VirtualKey) => litellm.store.keys.get(key.status!.keyId!)!;
  const tenantApi = () =>
    impersonatingWith(kc, { user: tenant.user, group: tenant.group }).makeApiClient(
      CustomObjectsApi,
    );
  const ref = (name: string) => ({
    group: GROUP,
    version: VERSION,
    plural: 'virtualkeys',
    namespace,
    name,
  });

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-key-for-tests', models: ['granite-3-8b'] });
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 10 * 60_000,
      spendSyncIntervalMs: 300,
    });
    await objects.namespace(namespace);
    rbac = await tenantRbac(run, [tenant]);
    await createAll(kc, rbac);
    await rbacInEffect(kc, { user: tenant.user, groups: [tenant.group] }, namespace);
    await objects.teams.create(namespace, {
      namespaces: [namespace],
      models: ['*'],
      members: [],
      limits: { maxBudget: 500, budgetDuration: '7d' },
    });
    await objects.subscription(namespace, 'granite-3-8b', { model: 'granite-3-8b' });
    for (const deadline = Date.now() + poll.timeout; ; await sleep(poll.interval)) {
      const models = (await objects.teams.get(namespace))?.status?.models ?? [];
      if (models.includes('granite-3-8b')) break;
      if (Date.now() > deadline) throw new Error('the Team never had granite-3-8b');
    }
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
    const api = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? [])
      await api.delete(object).catch(() => {});
  });

  async function spentKey(name: string) {
    await objects.key(namespace, name, { limits: { maxBudget: 10, budgetDuration: '30d' } });
    await expect.poll(async () => condition(await keyOf(name)), poll).toBe('True/KeyReady');
    litellmKey(await keyOf(name)).spend = 2.5; // calls made through LiteLLM
    await expect
      .poll(async () => (await keyOf(name)).status?.budget?.usedFraction, poll)
      .toBe('0.2500');
    return keyOf(name);
  }

  it("reports LiteLLM's spend and the budget, with its period", async () => {
    const key = await spentKey('reported');
    const resetsAt = litellmKey(key).budget_reset_at!;
    expect(key.status).toMatchObject({
      spend: '2.5',
      budget: {
        maxBudget: '10',
        usedFraction: '0.2500',
        resetsAt: new Date(resetsAt).toISOString().replace(/\.000Z$/, 'Z'),
      },
    });
    const period =
      Date.parse(key.status!.budget!.resetsAt!) - Date.parse(key.status!.budget!.periodStart!);
    expect(period).toBe(30 * 86_400_000);
    // The spend sync owns exactly these fields (managedFields name it for them).
    const owners = (
      key.metadata as {
        managedFields?: { manager: string; subresource?: string; fieldsV1?: object }[];
      }
    ).managedFields!.filter((f) => f.manager === 'spend-sync');
    expect(owners).toHaveLength(1);
    expect(owners[0]!.subresource).toBe('status');
    expect(Object.keys((owners[0]!.fieldsV1 as { 'f:status': object })['f:status']).sort()).toEqual(
      ['f:budget', 'f:spend'],
    );
  });

  it('cannot be written by a tenant: the status subresource is not theirs', async () => {
    await spentKey('tenant-write');
    const api = tenantApi();
    expect(
      await outcome(
        api.patchNamespacedCustomObjectStatus(
          { ...ref('tenant-write'), body: { status: { spend: '0', budget: null } } },
          mergePatch,
        ),
      ),
    ).toBe(403);
    // Status in a write of the object itself is dropped by the API server; the spec part
    // of the same patch is the tenant's and goes through.
    expect(
      await outcome(
        api.patchNamespacedCustomObject(
          {
            ...ref('tenant-write'),
            body: { metadata: { annotations: { note: 'x' } }, status: { spend: '0' } },
          },
          mergePatch,
        ),
      ),
    ).toBe('allowed');
    const after = await keyOf('tenant-write');
    expect(after.metadata?.annotations?.note).toBe('x');
    expect(after.status).toMatchObject({ spend: '2.5', budget: { usedFraction: '0.2500' } });
  });

  it("survives a tenant's edit of spec, and follows the new budget", async () => {
    const before = await spentKey('edited');
    await sleep(1_000); // the sync has settled: nothing changes, nothing is written
    const settled = await spendWrites();
    const edit = (limits: Record<string, unknown>) =>
      tenantApi().patchNamespacedCustomObject(
        { ...ref('edited'), body: { spec: { limits } } },
        mergePatch,
      );

    // An edit that leaves the budget alone: the VirtualKey controller reconciles it and
    // writes its status, which keeps the figures, so the sync has nothing to write again.
    await edit({ maxBudget: 10, budgetDuration: '30d', rpm: 100 });
    const generation = (before.metadata?.generation ?? 0) + 1;
    await expect
      .poll(async () => (await keyOf('edited')).status?.observedGeneration, poll)
      .toBe(generation);
    await sleep(1_000);
    expect((await keyOf('edited')).status).toMatchObject({
      spend: '2.5',
      budget: before.status!.budget!,
    });
    expect(await spendWrites()).toBe(settled);

    // A new budget: the sync reads LiteLLM's new max_budget and writes the new fraction.
    await edit({ maxBudget: 20, budgetDuration: '30d', rpm: 100 });
    await expect
      .poll(async () => (await keyOf('edited')).status?.budget, poll)
      .toMatchObject({ maxBudget: '20', usedFraction: '0.1250' });
    expect((await keyOf('edited')).status?.spend).toBe('2.5');
  });

  it('records each budget threshold reached as an Event the tenant sees, once', async () => {
    await objects.key(namespace, 'alerted', { limits: { maxBudget: 10, budgetDuration: '30d' } });
    await expect.poll(async () => condition(await keyOf('alerted')), poll).toBe('True/KeyReady');
    litellmKey(await keyOf('alerted')).spend = 9.5;
    await expect
      .poll(async () => (await keyOf('alerted')).status?.budget?.alertsSent?.thresholds, poll)
      .toEqual([50, 75, 90]);
    const expected = [
      'Normal Spend reached 50% of the budget: $9.5 of $10',
      'Normal Spend reached 75% of the budget: $9.5 of $10',
      'Warning Spend reached 90% of the budget: $9.5 of $10',
    ];
    const tenantEvents = impersonatingWith(kc, { user: tenant.user, group: tenant.group });
    const thresholdEvents = async () =>
      (
        await tenantEvents.makeApiClient(EventsV1Api).listNamespacedEvent({
          namespace,
          fieldSelector: 'regarding.name=alerted',
        })
      ).items
        .filter((e) => e.reason === 'BudgetThresholdReached')
        // A repeat would be a series on the same Event (the recorder's correlation).
        .map(
          (e) =>
            `${e.type} ${e.note?.replace(/; the budget resets at .*$/, '')}${e.series ? ' (repeated)' : ''}`,
        )
        .sort();
    await expect.poll(thresholdEvents, poll).toEqual(expected);
    // More spend, below the next threshold: status is written again, no Event is repeated.
    litellmKey(await keyOf('alerted')).spend = 9.75;
    await expect.poll(async () => (await keyOf('alerted')).status?.spend, poll).toBe('9.75');
    await sleep(1_000);
    expect(await thresholdEvents()).toEqual(expected);
  });

  it("reports the Team's spend and budget, kept when the Team controller writes status", async () => {
    const teamId = (await objects.teams.get(namespace))!.status!.teamId!;
    litellm.store.teams.get(teamId)!.spend = 125;
    await expect
      .poll(async () => (await objects.teams.get(namespace))?.status?.budget, poll)
      .toMatchObject({ maxBudget: '500', usedFraction: '0.2500' });
    const before = (await objects.teams.get(namespace))!;
    expect(before.status?.spend).toBe('125');
    const { periodStart, resetsAt } = before.status!.budget!;
    expect(Date.parse(resetsAt!) - Date.parse(periodStart!)).toBe(7 * 86_400_000);
    await sleep(1_000);
    const settled = await spendWrites();

    // An admin's edit: the Team controller reconciles it and writes its status.
    await objects.teams.patch(namespace, { spec: { displayName: 'Spend test' } });
    await expect
      .poll(async () => (await objects.teams.get(namespace))?.status?.observedGeneration, poll)
      .toBe((before.metadata.generation ?? 0) + 1);
    await sleep(1_000);
    expect((await objects.teams.get(namespace))!.status).toMatchObject({
      spend: '125',
      budget: before.status!.budget!,
    });
    expect(await spendWrites()).toBe(settled);
  });

  async function spendWrites(): Promise<number> {
    const metric = operator.manager.metrics.registry.getSingleMetric(
      'llmtenancy_spend_sync_writes_total',
    );
    return ((await metric?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
  }
});
