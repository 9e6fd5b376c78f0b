// The operator's second line behind the admission policy on spec.user, on an API server of
// this file's own that starts WITHOUT the policy (a cluster where nobody installed
// crds/admission/), so the shared bed of the other suites keeps its policy throughout:
//
//   - without the policy, personal keys are refused (AdmissionPolicyMissing), service keys work;
//   - every minted key is limited to LiteLLM's LLM API routes (no management route);
//   - installing it lets them through, removing its binding blocks them again, each at once
//     (a watch, not the resync: the resync here is ten minutes);
//   - Users with role viewer get no keys, admin-role Users no personal keys, and a User whose
//     role changes to admin has their key blocked;
//   - the platform-admin groups are configured by the README's kubectl patch of the policy.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  VIRTUAL_KEY_USER_BINDING,
  VIRTUAL_KEY_USER_POLICY,
} from '../../crds/admission/virtual-key-user.ts';
import { installAdmissionPolicies } from '../harness/crds.ts';
import { ourAdmissionFiles, startTestBed, type TestBed } from '../harness/test-bed.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  litellmKeysOf,
  routingRecord,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { impersonatingWith } from './support/principals.ts';
import { GROUP, poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const run = promisify(execFile);

const MODEL = 'granite-3-8b';

describe('personal keys, the operator as second line', () => {
  const id = suffix();
  const A = `second-line-${id}`;
  const labels = { [TEST_RUN_LABEL]: id };
  let bed: TestBed;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let admin: KeyObjects;
  let redis: Redis;

  const ready = async (name: string) => condition(await admin.getKey(A, name));
  const kubectl = (...args: string[]) =>
    run(bed.kubectlPath ?? 'kubectl', ['--kubeconfig', bed.kubeconfigPath!, ...args]);

  beforeAll(async () => {
    [bed, litellm] = await Promise.all([
      startTestBed({ kube: { admissionPolicy: false }, redis: false, oidc: false }),
      start({ masterKey: 'sk-master-second-line', models: [MODEL] }),
    ]);
    const kc = bed.kubeConfig!;
    admin = new KeyObjects(kc, labels);
    redis = new Redis(inject('redisUrl'));
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${id}:`,
      labelSelector: `${TEST_RUN_LABEL}=${id}`,
      resyncIntervalMs: 600_000,
    });
    await admin.namespace(A);
    for (const user of ['alice', 'vera', 'ada']) await admin.readyUser(user);
    await admin.users.patch('vera', { spec: { role: 'viewer' } });
    await admin.users.patch('ada', { spec: { role: 'admin' } });
    await admin.teams.create(A, {
      namespaces: [A],
      models: [MODEL],
      members: [{ user: 'alice' }, { user: 'vera' }, { user: 'ada' }],
    });
    await admin.subscription(A, 'granite', { model: MODEL });
    await vi.waitFor(async () => {
      const models = (await admin.teams.get(A))?.status?.models;
      if (models?.[0] !== MODEL) throw new Error(`Team ${A} has models ${models}`);
    }, poll);
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    redis?.disconnect();
    await Promise.all([bed?.stop(), litellm?.stop()]);
  });

  it('without the policy: a personal key is refused with AdmissionPolicyMissing, a service key works', async () => {
    await admin.key(A, 'alices', { user: 'alice' });
    await admin.key(A, 'service', {});
    await expect.poll(() => ready('service'), poll).toBe('True/KeyReady');
    await expect.poll(() => ready('alices'), poll).toBe('False/AdmissionPolicyMissing');
    const message = (await admin.getKey(A, 'alices'))?.status?.conditions?.find(
      (c) => c.type === 'Ready',
    )?.message;
    expect(message).toContain(
      `ValidatingAdmissionPolicy ${VIRTUAL_KEY_USER_POLICY} does not exist`,
    );
    expect(litellmKeysOf(litellm, A, 'alices')).toHaveLength(0);
    expect(await admin.secret(A, 'alices')).toBeUndefined();
  });

  it('mints every key for the LLM API routes only: its value cannot call a management route', async () => {
    await expect.poll(() => ready('service'), poll).toBe('True/KeyReady');
    const [row] = litellmKeysOf(litellm, A, 'service');
    expect(row?.allowed_routes).toEqual(['llm_api_routes']);
    expect(row?.key_type).toBe('llm_api');
    const value = secretKey(await admin.secret(A, 'service'));
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${litellm.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${value}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const chat = await call('POST', '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/key/generate', { key_alias: 'escalate', models: [] }],
      ['POST', '/user/new', { user_id: 'escalate', user_role: 'proxy_admin' }],
      ['POST', '/team/new', { team_id: 'escalate' }],
      ['GET', '/key/info', undefined],
    ] as const) {
      const res = await call(method, path, body);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toContain(
        `Only allowed to call routes: ['llm_api_routes']. Tried to call route: ${path}`,
      );
    }
    expect(litellm.store.users.has('escalate')).toBe(false);
    expect(litellm.store.teams.has('escalate')).toBe(false);

    // A key LiteLLM holds without the limit (minted before it, or widened behind our back)
    // converges on the next reconcile.
    row!.allowed_routes = [];
    await admin.patchKey(A, 'service', { spec: { limits: { rpm: 100 } } });
    await expect
      .poll(() => litellmKeysOf(litellm, A, 'service')[0]?.allowed_routes, poll)
      .toEqual(['llm_api_routes']);
    expect((await call('POST', '/key/generate', {})).status).toBe(403);
  });

  it('installing the policy lets the personal key through; deleting its binding blocks it again', async () => {
    await installAdmissionPolicies(bed.kubeConfig!, await ourAdmissionFiles(), {
      policyName: VIRTUAL_KEY_USER_POLICY,
    });
    await expect.poll(() => ready('alices'), poll).toBe('True/KeyReady');
    const [key] = litellmKeysOf(litellm, A, 'alices');
    expect(key?.user_id).toBe('alice');
    expect(key?.blocked).not.toBe(true);

    await KubernetesObjectApi.makeApiClient(bed.kubeConfig!).delete({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: VIRTUAL_KEY_USER_BINDING },
    });
    await expect.poll(() => ready('alices'), poll).toBe('False/AdmissionPolicyMissing');
    await expect.poll(() => litellmKeysOf(litellm, A, 'alices')[0]?.blocked, poll).toBe(true);
    // And the gateway refuses it, saying why.
    const value = secretKey(await admin.secret(A, 'alices'));
    expect(await routingRecord(redis, `test-${id}:`, value)).toMatchObject({
      suspended: true,
      suspendedReason: 'AdmissionPolicyMissing',
    });
    expect(await ready('service')).toBe('True/KeyReady');

    // Back for the tests below, the way an admin installs it.
    await kubectl('apply', '-f', fileURLToPath(new URL('../../crds/admission/', import.meta.url)));
    await expect.poll(() => ready('alices'), poll).toBe('True/KeyReady');
    expect(litellmKeysOf(litellm, A, 'alices')[0]?.blocked).not.toBe(true);
  });

  it('a viewer gets no key, an admin no personal key; a User made admin has their key blocked', async () => {
    await admin.key(A, 'veras', { user: 'vera' });
    await admin.key(A, 'adas', { user: 'ada' });
    await expect.poll(() => ready('veras'), poll).toBe('False/UserRoleCannotHaveKeys');
    await expect.poll(() => ready('adas'), poll).toBe('False/UserRoleCannotHaveKeys');
    expect(litellmKeysOf(litellm, A, 'veras')).toHaveLength(0);
    expect(litellmKeysOf(litellm, A, 'adas')).toHaveLength(0);

    await admin.users.patch('alice', { spec: { role: 'admin' } });
    await expect.poll(() => ready('alices'), poll).toBe('False/UserRoleCannotHaveKeys');
    await expect.poll(() => litellmKeysOf(litellm, A, 'alices')[0]?.blocked, poll).toBe(true);
  });

  it("names other platform-admin groups through the README's kubectl patch", async () => {
    const kc = bed.kubeConfig!;
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `key-creators-${id}` },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'sam' }],
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `key-creators-${id}`,
      },
    } as KubernetesObject);
    await objects.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `key-creators-${id}` },
      rules: [{ apiGroups: [GROUP], resources: ['virtualkeys'], verbs: ['create'] }],
    } as KubernetesObject);
    const as = (group: string) =>
      new KeyObjects(impersonatingWith(kc, { user: 'sam', group }), labels);
    await vi.waitFor(
      () => as('llm-tenancy-admins').key(A, 'by-default-admin', { user: 'bob' }),
      poll,
    );

    await kubectl(
      'patch',
      'validatingadmissionpolicy',
      VIRTUAL_KEY_USER_POLICY,
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/variables/0/expression","value":"[\\"platform-admins\\", \\"sre\\"]"}]',
    );
    // The admission plugin sees the change a moment later.
    await vi.waitFor(() => as('sre').key(A, 'by-sre', { user: 'bob' }), poll);
    const refused = await as('llm-tenancy-admins')
      .key(A, 'by-former-admin', { user: 'bob' })
      .then(
        () => 'allowed',
        (err: { code?: number; body?: unknown }) => `${err.code} ${String(err.body)}`,
      );
    expect(refused).toMatch(
      /^403 .*spec\.user may name only yourself: sam is not User bob\..*platform-admins, sre/,
    );
  });
});
