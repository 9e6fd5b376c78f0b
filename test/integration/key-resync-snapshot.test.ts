// What a VirtualKey costs once it exists, counted at the servers: a new key is reconciled
// once (not again for the finalizer and the Secret it wrote itself), and with the resync's
// snapshot (key-snapshot.ts) a no-change resync reads LiteLLM in pages, with no /key/info
// per key, while a key changed in LiteLLM behind the operator's back is still corrected.
import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { VIRTUAL_KEY_CONTROLLER } from '../../operator/src/controllers/virtual-key/controller.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const MODELS = ['granite-3-8b', 'llama-3-8b'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reconciles the VirtualKey controller has finished, whatever their result. */
async function keyReconciles(operator: KeyOperator): Promise<number> {
  const metric = operator.manager.metrics.registry.getSingleMetric(
    'controller_runtime_reconcile_total',
  );
  const values = (await metric?.get())?.values ?? [];
  return values
    .filter((v) => v.labels.controller === VIRTUAL_KEY_CONTROLLER)
    .reduce((total, v) => total + v.value, 0);
}

function suite(resyncIntervalMs: number) {
  const run = suffix();
  const ctx = {} as {
    kc: KubeConfig;
    litellm: LiteLLMTestServer;
    operator: KeyOperator;
    objects: KeyObjects;
    namespace: string;
  };
  beforeAll(async () => {
    ctx.kc = kubeConfigFromInject();
    ctx.litellm = await start({ masterKey: 'sk-master-key-for-tests', models: MODELS });
    ctx.objects = new KeyObjects(ctx.kc, { [TEST_RUN_LABEL]: run });
    ctx.operator = await startKeyOperator({
      kc: ctx.kc,
      litellm: ctx.litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs,
      keySnapshot: true,
    });
    ctx.namespace = `snapshot-${run}`;
    await ctx.objects.namespace(ctx.namespace);
    await ctx.objects.teams.create(ctx.namespace, {
      namespaces: [ctx.namespace],
      models: ['*'],
      members: [],
    });
    await ctx.objects.subscription(ctx.namespace, 'granite-3-8b', { model: 'granite-3-8b' });
    // expect.poll is for tests only: wait by hand for the Team to have the model.
    for (const deadline = Date.now() + poll.timeout; ; await sleep(poll.interval)) {
      const models = (await ctx.objects.teams.get(ctx.namespace))?.status?.models ?? [];
      if (models.includes('granite-3-8b')) break;
      if (Date.now() > deadline) throw new Error('the Team never had granite-3-8b');
    }
  });
  afterAll(async () => {
    await ctx.operator?.stop();
    await ctx.litellm?.stop();
  });
  return ctx;
}

async function readyKeys(ctx: ReturnType<typeof suite>, names: string[]) {
  await Promise.all(names.map((name) => ctx.objects.key(ctx.namespace, name, {})));
  const hashes: string[] = [];
  for (const name of names) {
    await expect
      .poll(async () => condition(await ctx.objects.getKey(ctx.namespace, name)), poll)
      .toBe('True/KeyReady');
    const key = (await ctx.objects.getKey(ctx.namespace, name))!;
    hashes.push(
      hashKey(secretKey(await ctx.objects.secret(ctx.namespace, key.status!.secretName!))),
    );
  }
  return hashes;
}

describe('a new VirtualKey', () => {
  // No resync inside the test: every reconcile counted is one an event asked for.
  const ctx = suite(10 * 60_000);

  it('is reconciled once: its own finalizer, status and Secret writes do not come back', async () => {
    const before = await keyReconciles(ctx.operator);
    const names = ['one-a', 'one-b', 'one-c', 'one-d'];
    await readyKeys(ctx, names);
    await sleep(1_500); // anything those writes set off arrives meanwhile
    expect((await keyReconciles(ctx.operator)) - before).toBe(names.length);
  });

  it('is still reconciled when a tenant edits or deletes its Secret', async () => {
    const [hash] = await readyKeys(ctx, ['edited']);
    const key = (await ctx.objects.getKey(ctx.namespace, 'edited'))!;
    const secretName = key.status!.secretName!;
    const before = await keyReconciles(ctx.operator);
    await ctx.objects.core.patchNamespacedSecret(
      {
        namespace: ctx.namespace,
        name: secretName,
        body: { stringData: { OPENAI_API_KEY: 'sk-a-value-the-operator-never-minted-000' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // The foreign value is replaced by a key of the operator's.
    await expect
      .poll(async () => {
        const current = await ctx.objects.getKey(ctx.namespace, 'edited');
        return current?.status?.keyId !== hash && condition(current) === 'True/KeyReady';
      }, poll)
      .toBe(true);
    // (status records the new key before that reconcile ends and is counted)
    await expect
      .poll(async () => (await keyReconciles(ctx.operator)) - before, poll)
      .toBeGreaterThan(0);

    const replaced = (await ctx.objects.getKey(ctx.namespace, 'edited'))!.status!.keyId;
    await ctx.objects.core.deleteNamespacedSecret({ namespace: ctx.namespace, name: secretName });
    await expect
      .poll(async () => {
        const secret = await ctx.objects.secret(ctx.namespace, secretName);
        const current = await ctx.objects.getKey(ctx.namespace, 'edited');
        return secret !== undefined && current?.status?.keyId !== replaced;
      }, poll)
      .toBe(true);
  });
});

describe('a no-change resync with the key snapshot', () => {
  const RESYNC_MS = 1_500;
  const ctx = suite(RESYNC_MS);

  it('reads LiteLLM in pages, with no /key/info per key and no write', async () => {
    await readyKeys(ctx, ['quiet-a', 'quiet-b', 'quiet-c']);
    // Two snapshots later, every key's last write is older than the snapshot.
    await sleep(3 * RESYNC_MS);
    const calls = ctx.litellm.calls.snapshot();
    const reconciles = await keyReconciles(ctx.operator);
    await sleep(3 * RESYNC_MS);
    const after = ctx.litellm.calls.snapshot();
    const delta = (route: string) => (after.calls[route] ?? 0) - (calls.calls[route] ?? 0);
    expect((await keyReconciles(ctx.operator)) - reconciles).toBeGreaterThanOrEqual(3 * 2);
    expect(delta('GET /key/info')).toBe(0);
    expect(delta('GET /key/list')).toBeGreaterThan(0);
    expect(after.writes - calls.writes).toBe(0);
  });

  it('still corrects a key changed or deleted in LiteLLM behind its back', async () => {
    const [changed, deleted] = await readyKeys(ctx, ['drift-a', 'drift-b']);
    await sleep(2 * RESYNC_MS); // a snapshot that shows both as they should be
    ctx.litellm.store.keys.get(changed!)!.models = ['llama-3-8b'];
    ctx.litellm.store.keys.get(changed!)!.blocked = true;
    ctx.litellm.store.archiveKeys([deleted!]);
    await expect
      .poll(() => ctx.litellm.store.keys.get(changed!)?.models, poll)
      .toEqual(['granite-3-8b']);
    await expect.poll(() => ctx.litellm.store.keys.get(changed!)?.blocked, poll).toBe(false);
    // A key LiteLLM deleted is replaced by a new value (never the old one again).
    await expect
      .poll(async () => {
        const key = await ctx.objects.getKey(ctx.namespace, 'drift-b');
        const id = key?.status?.keyId;
        return id !== deleted && id !== undefined && ctx.litellm.store.keys.has(id);
      }, poll)
      .toBe(true);
  });
});
