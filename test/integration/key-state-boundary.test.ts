// The VirtualKey reconciler's state boundary, on the real kube-apiserver (RBAC on) with an
// operator running, acting as tenants (impersonation, examples/tenant-rbac.yaml applied):
// what a tenant may write (a Secret in its own namespace) never decides which LiteLLM key
// the operator updates, blocks or deletes, nor which value becomes a key; cleanup works from
// status alone when a namespace's deletion removed the Secret first; a deleted key's
// finalizer does not wait for Redis; a SecretConflict confirms nothing a tenant can't read.
//
// Team A's namespace has an editor (a namespace editor: the Secret rights the built-in edit
// role aggregates) and a tenant with only the example's minimal Role. Team B is the victim.
// Every expectation that waits polls; the operator's clock (shared with the LiteLLM test
// server) is moved forward by hand for rotations.
import {
  AuthorizationV1Api,
  EventsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { VirtualKey } from '../../crds/api/index.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  litellmKeysOf,
  routingRecord,
  secretKey,
  ShiftedClock,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';
import { GROUP, poll, suffix, TEST_RUN_LABEL, VERSION } from './support/team-operator.ts';
import {
  adaptExample,
  asTenant,
  exampleObjects,
  outcome,
  type RbacObject,
  type Tenant,
} from './support/tenant-rbac.ts';

const MODEL = 'granite-3-8b';
const HOUR = 3_600_000;
const LEGACY_PREVIOUS_HASH = 'llmtenancy.dev/previous-key-hash';
const LEGACY_PREVIOUS_UNTIL = 'llmtenancy.dev/previous-key-valid-until';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('VirtualKey state boundary', () => {
  const run = suffix();
  const prefix = `test-${run}:`;
  const labels = { [TEST_RUN_LABEL]: run };
  const clock = new ShiftedClock();
  const n = (name: string) => `${name}-${run}`;
  /** Team A's tenant with the example's minimal Role only (no Secret but the named one). */
  const tenantA: Tenant = { namespace: n('state-a'), group: n('a-devs'), user: n('dev-a') };
  /** Team A's namespace editor: may write any Secret in A. */
  const editorA: Tenant = { namespace: tenantA.namespace, group: n('a-edit'), user: n('ed-a') };
  const A = tenantA.namespace;
  const B = n('state-b');
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let redis: Redis;
  let redisProxy: TcpProxy;
  let operator: KeyOperator;
  let admin: KeyObjects;
  let asTenantA: KeyObjects;
  let asEditorA: KeyObjects;
  let rbac: RbacObject[];

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({
      masterKey: 'sk-master-state-boundary',
      models: [MODEL],
      now: () => new Date(clock.now()),
    });
    redis = new Redis(inject('redisUrl'));
    const redisUrl = new URL(inject('redisUrl'));
    // The operator reaches Redis through a proxy the Redis-down test can close.
    redisProxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });
    admin = new KeyObjects(kc, labels);
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
      clock,
    });

    for (const namespace of [A, B]) await admin.namespace(namespace);
    rbac = adaptExample(await exampleObjects(), run, [tenantA]);
    // No controller-manager aggregates the built-in edit role here: bind the part of it that
    // writes Secrets, as a namespace editor holds it.
    rbac.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: n('editor'), namespace: A },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: editorA.group }],
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'system:aggregate-to-edit',
      },
    });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac) await objects.create(object);
    for (const namespace of [A, B]) {
      await admin.teams.create(namespace, { namespaces: [namespace], models: ['*'] });
      await admin.subscription(namespace, 'granite', { model: MODEL });
    }
    for (const namespace of [A, B]) {
      await vi.waitFor(async () => {
        const models = (await admin.teams.get(namespace))?.status?.models;
        if (models?.[0] !== MODEL) throw new Error(`Team ${namespace} not synced yet`);
      }, poll);
    }
    asTenantA = new KeyObjects(asTenant(kc, tenantA), labels);
    asEditorA = new KeyObjects(asTenant(kc, editorA), labels);
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const allowed = async (tenant: Tenant, verb: string, resource: string, group = '') =>
      (
        await authz.createSubjectAccessReview({
          body: {
            spec: {
              user: tenant.user,
              groups: [tenant.group],
              resourceAttributes: { namespace: A, verb, group, resource },
            },
          },
        })
      ).status?.allowed ?? false;
    await vi.waitFor(async () => {
      const ready =
        (await allowed(editorA, 'update', 'secrets')) &&
        (await allowed(tenantA, 'create', 'virtualkeys', GROUP));
      if (!ready) throw new Error('RBAC not in effect yet');
    }, poll);
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
    await redisProxy?.close();
    redis?.disconnect();
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await objects.delete(object).catch(() => {});
    }
  });

  async function readyKey(namespace: string, name: string) {
    await expect
      .poll(async () => condition(await admin.getKey(namespace, name)), poll)
      .toBe('True/KeyReady');
    const key = (await admin.getKey(namespace, name))!;
    const value = secretKey(await admin.secret(namespace, key.status!.secretName!));
    await expect.poll(() => litellm.store.keys.get(hashKey(value))?.token, poll).toBeDefined();
    return { key, value, hash: hashKey(value) };
  }

  /** What of a LiteLLM key the operator could change: compared before and after an attack. */
  const rowOf = (hash: string) => {
    const row = litellm.store.keys.get(hash);
    return (
      row && {
        team_id: row.team_id,
        key_alias: row.key_alias,
        models: row.models,
        metadata: row.metadata,
        expires: row.expires,
        blocked: row.blocked,
      }
    );
  };

  const eventsOf = async (namespace: string, key: VirtualKey) =>
    (await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace })).items.filter(
      (e) => e.regarding?.uid === key.metadata.uid,
    );

  /** Whether the operator has rewritten the Secret since the editor's annotations. */
  const annotationsRemoved = async (namespace: string, name: string) => {
    const annotations = (await admin.secret(namespace, name))?.metadata?.annotations ?? {};
    return !(LEGACY_PREVIOUS_HASH in annotations) && !(LEGACY_PREVIOUS_UNTIL in annotations);
  };

  // ---- item 2: rotation state a tenant cannot write ------------------------------------

  it("ignores another team's key id written into a Secret's rotation annotations: B's key is neither moved, updated nor deleted", async () => {
    await admin.key(B, 'victim', {});
    const victim = await readyKey(B, 'victim');
    await asTenantA.key(A, 'thief', { rotation: { every: '24h', gracePeriod: '1h' } });
    await asTenantA.key(A, 'killer', {});
    await readyKey(A, 'thief');
    await readyKey(A, 'killer');
    const before = rowOf(victim.hash);
    expect(before?.team_id).toBe(B);

    // B's keyId is readable; A's editor writes it into A's Secrets as "the previous key":
    // still in its grace period (sync it: into Team A), and past it (delete it).
    const stamp = (name: string, until: Date) =>
      asEditorA.core.patchNamespacedSecret(
        {
          namespace: A,
          name,
          body: {
            metadata: {
              annotations: {
                [LEGACY_PREVIOUS_HASH]: victim.hash,
                [LEGACY_PREVIOUS_UNTIL]: until.toISOString(),
              },
            },
          },
        },
        mergePatch,
      );
    await stamp('thief', new Date(clock.now() + HOUR));
    await stamp('killer', new Date(clock.now() - HOUR));

    // Once the operator rewrote a Secret (at a resync) without the annotations, B's key is
    // as it was, in LiteLLM and the gateway.
    await expect.poll(() => annotationsRemoved(A, 'killer'), poll).toBe(true);
    expect(litellm.store.deletedKeys.get(victim.hash)).toBeUndefined();
    await expect.poll(() => annotationsRemoved(A, 'thief'), poll).toBe(true);
    expect(rowOf(victim.hash)).toEqual(before);
    expect((await routingRecord(redis, prefix, victim.hash))?.owner.namespace).toBe(B);
    expect((await admin.getKey(A, 'thief'))?.status?.previousKey).toBeUndefined();
  });

  it('never updates or deletes a key status names that LiteLLM says is another VirtualKey’s, even on cleanup', async () => {
    await admin.key(B, 'stale-victim', {});
    const victim = await readyKey(B, 'stale-victim');
    await admin.key(A, 'stale', {});
    const stale = await readyKey(A, 'stale');
    const before = rowOf(victim.hash);
    // A record gone wrong (a status restored from a backup of another object, say) names
    // B's key as A's previous key. Only the operator can write status; the test acts for it.
    await admin.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualkeys',
        namespace: A,
        name: 'stale',
        body: {
          status: {
            previousKey: {
              keyId: victim.hash,
              validUntil: new Date(clock.now() + HOUR).toISOString().replace(/\.\d+Z$/, 'Z'),
            },
          },
        },
      },
      mergePatch,
    );
    // The operator stops naming it (it is not this VirtualKey's) without touching it.
    await expect
      .poll(async () => (await eventsOf(A, stale.key)).map((e) => e.reason), poll)
      .toContain('KeyNotOwned');
    await expect
      .poll(async () => (await admin.getKey(A, 'stale'))?.status?.previousKey, poll)
      .toBeUndefined();
    expect(rowOf(victim.hash)).toEqual(before);

    // Again, and now the VirtualKey is deleted: cleanup deletes only what is its own.
    await admin.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualkeys',
        namespace: A,
        name: 'stale',
        body: {
          status: {
            previousKey: { keyId: victim.hash, validUntil: '2000-01-01T00:00:00Z' },
          },
        },
      },
      mergePatch,
    );
    await admin.deleteKey(A, 'stale');
    await expect.poll(() => admin.getKey(A, 'stale'), poll).toBeUndefined();
    expect(litellm.store.keys.get(stale.hash)).toBeUndefined();
    expect(rowOf(victim.hash)).toEqual(before);
    expect(litellm.store.deletedKeys.get(victim.hash)).toBeUndefined();
    // Nor its gateway record, which is B's.
    expect((await routingRecord(redis, prefix, victim.hash))?.owner.name).toBe('stale-victim');
  });

  // ---- item 3: key values are always the operator's ------------------------------------

  it("replaces a value a tenant wrote into the Secret with a fresh key, never registers the tenant's, and keeps the old key for the grace period", async () => {
    await asTenantA.key(A, 'own-value', { rotation: { every: '24h', gracePeriod: '2h' } });
    const first = await readyKey(A, 'own-value');
    const chosen = 'sk-thirteenchars'; // 13 characters after sk-: LiteLLM takes it as a key
    await asEditorA.core.patchNamespacedSecret(
      { namespace: A, name: 'own-value', body: { data: { OPENAI_API_KEY: b64(chosen) } } },
      mergePatch,
    );

    await expect
      .poll(async () => {
        const value = secretKey(await admin.secret(A, 'own-value'));
        return value !== chosen && value !== first.value;
      }, poll)
      .toBe(true);
    const second = await readyKey(A, 'own-value');
    expect(second.key.status?.keyId).toBe(second.hash);
    // The tenant's value never reached LiteLLM or the gateway.
    expect(litellm.store.keys.get(hashKey(chosen))).toBeUndefined();
    expect(litellm.store.deletedKeys.get(hashKey(chosen))).toBeUndefined();
    expect(await routingRecord(redis, prefix, chosen)).toBeUndefined();
    // The old key works on for the grace period, and LiteLLM ends it then by itself.
    expect(second.key.status?.previousKey?.keyId).toBe(first.hash);
    const validUntil = Date.parse(second.key.status!.previousKey!.validUntil);
    expect(validUntil).toBeGreaterThan(clock.now() + HOUR);
    await expect
      .poll(() => litellm.store.keys.get(first.hash)?.key_alias, poll)
      .toBe(`${A}/own-value/previous`);
    const expires = Date.parse(litellm.store.keys.get(first.hash)!.expires!);
    expect(Math.abs(expires - validUntil)).toBeLessThanOrEqual(60_000);
    expect(
      litellmKeysOf(litellm, A, 'own-value')
        .map((k) => k.token)
        .sort(),
    ).toEqual([first.hash, second.hash].sort());
    // And the operator said why, where the tenant looks.
    await expect
      .poll(async () => (await eventsOf(A, second.key)).map((e) => e.reason), poll)
      .toContain('KeyValueReplaced');
    const event = (await eventsOf(A, second.key)).find((e) => e.reason === 'KeyValueReplaced')!;
    expect(event.type).toBe('Warning');
    expect(event.note).not.toContain(chosen);
  });

  it('recovers a rotation whose Secret write never landed: the key in use keeps its grace period', async () => {
    await admin.key(A, 'half-rotated', { rotation: { every: '24h', gracePeriod: '1h' } });
    const first = await readyKey(A, 'half-rotated');
    // What a crash between recording a rotation in status and writing the Secret leaves:
    // status names a new key nobody was given, and the Secret's key as the previous one.
    const validUntil = new Date(clock.now() + HOUR).toISOString().replace(/\.\d+Z$/, 'Z');
    await admin.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualkeys',
        namespace: A,
        name: 'half-rotated',
        body: {
          status: {
            keyId: hashKey('sk-never-written-to-the-secret'),
            previousKey: { keyId: first.hash, validUntil },
          },
        },
      },
      mergePatch,
    );
    await expect
      .poll(async () => secretKey(await admin.secret(A, 'half-rotated')), poll)
      .not.toBe(first.value);
    const second = await readyKey(A, 'half-rotated');
    // The key Pods hold still works, until the grace period recorded for it.
    expect(second.key.status?.previousKey).toEqual({ keyId: first.hash, validUntil });
    await expect
      .poll(() => litellm.store.keys.get(first.hash)?.key_alias, poll)
      .toBe(`${A}/half-rotated/previous`);
    expect(
      litellmKeysOf(litellm, A, 'half-rotated')
        .map((k) => k.token)
        .sort(),
    ).toEqual([first.hash, second.hash].sort());
  });

  // ---- item 4: nothing outlives a deleted namespace -----------------------------------

  /** A key of its own namespace, rotated once: both keys live, the previous in its grace period. */
  async function rotatedKey(name: string) {
    const namespace = n(name);
    await admin.namespace(namespace);
    await admin.teams.create(namespace, { namespaces: [namespace], models: ['*'] });
    await admin.subscription(namespace, 'granite', { model: MODEL });
    await admin.key(namespace, 'app', { rotation: { every: '2h', gracePeriod: '1h' } });
    const first = await readyKey(namespace, 'app');
    clock.offsetMs += 2 * HOUR + 1_000; // past the rotation time
    await admin.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '1' } } });
    await expect
      .poll(async () => secretKey(await admin.secret(namespace, 'app')), poll)
      .not.toBe(first.value);
    const second = await readyKey(namespace, 'app');
    await expect
      .poll(() => litellm.store.keys.get(first.hash)?.key_alias, poll)
      .toBe(`${namespace}/app/previous`);
    return { namespace, first, second };
  }

  it("gives the previous key its grace period's end as LiteLLM expiry at rotation", async () => {
    const { first, second } = await rotatedKey('expiring');
    // LiteLLM ends it then, even if the operator never comes back.
    await expect
      .poll(() => litellm.store.keys.get(first.hash)?.expires ?? undefined, poll)
      .toBeDefined();
    const expires = Date.parse(litellm.store.keys.get(first.hash)!.expires!);
    const key = (await admin.getKey(second.key.metadata.namespace!, 'app'))!;
    expect(key.status?.previousKey?.keyId).toBe(first.hash);
    const validUntil = Date.parse(key.status!.previousKey!.validUntil);
    expect(Math.abs(expires - validUntil)).toBeLessThanOrEqual(60_000);
    expect(litellm.store.keys.get(second.hash)?.expires ?? null).toBeNull();
  });

  it("adopts, once, the previous key an earlier version's annotations name when it is this VirtualKey's own, for at most a grace period", async () => {
    const { namespace, first } = await rotatedKey('upgraded');
    // How an earlier version left a key in its grace period: status names no previous key,
    // the Secret's annotations do (with a valid-until a tenant could have pushed out).
    await admin.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualkeys',
        namespace,
        name: 'app',
        body: { status: { previousKey: null } },
      },
      mergePatch,
    );
    await admin.core.patchNamespacedSecret(
      {
        namespace,
        name: 'app',
        body: {
          metadata: {
            annotations: {
              [LEGACY_PREVIOUS_HASH]: first.hash,
              [LEGACY_PREVIOUS_UNTIL]: new Date(clock.now() + 5 * HOUR).toISOString(),
            },
          },
        },
      },
      mergePatch,
    );
    await expect.poll(() => annotationsRemoved(namespace, 'app'), poll).toBe(true);
    await expect
      .poll(async () => (await admin.getKey(namespace, 'app'))?.status?.previousKey?.keyId, poll)
      .toBe(first.hash);
    const adopted = (await admin.getKey(namespace, 'app'))!.status!.previousKey!;
    expect(Date.parse(adopted.validUntil)).toBeLessThanOrEqual(clock.now() + HOUR);

    // And it ends when due, instead of living on.
    clock.offsetMs += HOUR + 1_000;
    await admin.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '2' } } });
    await expect.poll(() => litellm.store.keys.get(first.hash), poll).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, 'app')).toHaveLength(1);
  });

  it('deletes both keys of a rotation in its grace period when the namespace goes, the Secret first', async () => {
    const { namespace, first, second } = await rotatedKey('doomed');
    // Namespace deletion, as the namespace controller does it (none runs in this test bed):
    // the namespace goes Terminating (no new objects in it), its Secrets are deleted at once,
    // the VirtualKey waits on its finalizer.
    await admin.core.deleteNamespace({ name: namespace });
    await admin.core.deleteNamespacedSecret({ namespace, name: 'app' });
    await admin.deleteKey(namespace, 'app');

    await expect.poll(() => admin.getKey(namespace, 'app'), poll).toBeUndefined();
    expect(litellm.store.keys.get(first.hash)).toBeUndefined();
    expect(litellm.store.keys.get(second.hash)).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, 'app')).toHaveLength(0);
  });

  // ---- item 6: cleanup does not wait for Redis ----------------------------------------

  it('releases a deleted key while Redis is down; the routing prune removes its record later', async () => {
    await admin.key(A, 'no-redis', {});
    const { hash } = await readyKey(A, 'no-redis');
    await expect.poll(() => routingRecord(redis, prefix, hash), poll).toBeDefined();

    redisProxy.refuse(true);
    try {
      await admin.deleteKey(A, 'no-redis');
      await expect.poll(() => admin.getKey(A, 'no-redis'), poll).toBeUndefined();
      expect(litellm.store.keys.get(hash)).toBeUndefined();
      // The record is still there: nothing could remove it.
      expect(await routingRecord(redis, prefix, hash)).toBeDefined();
    } finally {
      redisProxy.refuse(false);
    }
    await expect.poll(() => routingRecord(redis, prefix, hash), poll).toBeUndefined();
  });

  // ---- item 11: don't confirm what a tenant can't read --------------------------------

  it('reports a Secret name it may not use without confirming that a Secret of that name exists', async () => {
    await admin.core.createNamespacedSecret({
      namespace: A,
      body: { metadata: { name: 'database-password' }, stringData: { password: 'hunter2' } },
    });
    // The tenant with the minimal Role cannot read it…
    expect(
      await outcome(
        asTenantA.core.readNamespacedSecret({ namespace: A, name: 'database-password' }),
      ),
    ).toBe(403);
    // …and a VirtualKey naming it tells them no more than that the name is not available.
    await asTenantA.key(A, 'probe', { secret: { name: 'database-password' } });
    await expect
      .poll(async () => condition(await asTenantA.getKey(A, 'probe')), poll)
      .toBe('False/SecretConflict');
    const ready = (await asTenantA.getKey(A, 'probe'))!.status!.conditions!.find(
      (c) => c.type === 'Ready',
    )!;
    expect(ready.message).toBe(
      'Secret name database-password is not available to this VirtualKey: the operator writes a key only into a Secret it created for this VirtualKey; choose another spec.secret.name',
    );
    expect(ready.message).not.toMatch(/exist|belong|delete/i);
    const events = await eventsOf(A, (await asTenantA.getKey(A, 'probe'))!);
    for (const event of events) expect(event.note ?? '').not.toMatch(/exist|belong/i);
    // The Secret is untouched.
    const secret = await admin.secret(A, 'database-password');
    expect(Object.keys(secret?.data ?? {})).toEqual(['password']);
  });
});
