// What a new VirtualKey costs the API server, counted at the operator's one connection pool
// (KubeTransport.observe sees every request the operator sends): the finalizer patch, the
// status write that records the key's hash before its value exists anywhere, the Secret,
// the status write that says Ready, and one Event. No Secret GET: the cache of the
// operator's labelled Secrets says there is none yet, and a new key has no value to find.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeTransport } from '../../contracts/kube/kube-transport.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const MODEL = 'granite-3-8b';
const KEYS = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a new VirtualKey', () => {
  const run = suffix();
  const namespace = `requests-${run}`;
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-key-for-tests', models: [MODEL] });
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      // No resync inside the test: every request counted is one a new key asked for.
      resyncIntervalMs: 10 * 60_000,
    });
    await objects.namespace(namespace);
    await objects.teams.create(namespace, { namespaces: [namespace], models: ['*'], members: [] });
    await objects.subscription(namespace, MODEL, { model: MODEL });
    for (const deadline = Date.now() + poll.timeout; ; await sleep(poll.interval)) {
      const models = (await objects.teams.get(namespace))?.status?.models ?? [];
      if (models.includes(MODEL)) break;
      if (Date.now() > deadline) throw new Error(`the Team never had ${MODEL}`);
    }
  });
  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });

  it('costs 5 API requests: finalizer, 2 status writes, the Secret, one Event; no Secret GET', async () => {
    const seen: string[] = [];
    const inNamespace = `/namespaces/${namespace}/`;
    const stop = KubeTransport.of(kc).observe(({ method, path }) => {
      if (!path.includes(inNamespace)) return;
      // "POST secrets", "PUT virtualkeys/status": the collection or object, less its name.
      const [resource, , subresource] = path.split(inNamespace)[1]!.split('/');
      seen.push(`${method} ${resource}${subresource ? `/${subresource}` : ''}`);
    });
    try {
      const names = Array.from({ length: KEYS }, (_, i) => `new-${i}`);
      await Promise.all(names.map((name) => objects.key(namespace, name, {})));
      for (const name of names) {
        await expect
          .poll(async () => condition(await objects.getKey(namespace, name)), poll)
          .toBe('True/KeyReady');
      }
      await sleep(1_500); // the Events are recorded without being waited for
    } finally {
      stop();
    }
    const counts: Record<string, number> = {};
    for (const request of seen) counts[request] = (counts[request] ?? 0) + 1;
    expect(counts).toEqual({
      'PATCH virtualkeys': KEYS,
      'PUT virtualkeys/status': 2 * KEYS,
      'POST secrets': KEYS,
      'POST events': KEYS,
    });
  });
});
