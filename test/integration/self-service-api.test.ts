// The self-service API (/api) against the real API server with RBAC on, the tenant RBAC of
// examples/tenant-rbac.yaml, the VirtualKey admission policy and the key operator running.
// The gateway acts for each person by impersonation. Its own identity here is the test bed's
// admin, who could do everything asked below: so every refusal seen comes from acting as the
// person, and each refusal test shows the same call succeeding as the gateway's own identity.
// One suite runs the API on a ServiceAccount with only the impersonate rights the gateway is
// meant to have, and one on a ServiceAccount without them.
import {
  AuthorizationV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DEFAULT_ADMIN_GROUPS, USER_NAME_EXTRA } from '../../crds/admission/virtual-key-user.ts';
import type { ModelSubscription } from '../../crds/api/index.ts';
import type { AuditRecord } from '../../contracts/audit/audit-record.ts';
import { hashKey } from '../../contracts/routing/key-hash.ts';
import { PersonKube } from '../../gateway/src/kube/person-kube.ts';
import {
  selfServicePlugin,
  type SelfServiceOptions,
} from '../../gateway/src/self-service/self-service-plugin.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { createAll, serviceAccountKubeConfig } from './support/principals.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { stateOf } from './support/subscription-operator.ts';
import { GROUP, poll, suffix, TEST_RUN_LABEL, VERSION } from './support/team-operator.ts';
import {
  EXAMPLE_KEY_SECRET,
  rbacInEffect,
  tenantRbac,
  type RbacObject,
  type Tenant,
} from './support/tenant-rbac.ts';
import {
  masterKey,
  person,
  TEST_PRINCIPAL_HEADER,
  TestPrincipals,
} from './support/test-principal.ts';

const X = 'granite-3-8b'; // subscribed by Team A
const Z = 'mistral-7b'; // allowed to Team A, not subscribed
const Y = 'llama-3-8b'; // Team B's
const rbacGroup = 'rbac.authorization.k8s.io';
const ADMINS = DEFAULT_ADMIN_GROUPS[0];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Record<string, unknown> & {
    error?: { message: string; type: string; param: string | null; code: string };
  };
  text: string;
}

describe('self-service API', () => {
  const run = suffix();
  const labels = { [TEST_RUN_LABEL]: run };
  const tenantA: Tenant = {
    namespace: `ss-a-${run}`,
    group: `ss-a-devs-${run}`,
    user: `alice-${run}`,
  };
  const tenantB: Tenant = {
    namespace: `ss-b-${run}`,
    group: `ss-b-devs-${run}`,
    user: `bob-${run}`,
  };
  const A = tenantA.namespace;
  const B = tenantB.namespace;
  const alice = tenantA.user; // member of Team A (spec.members), in A's group
  const carol = `carol-${run}`; // member of Team A too
  const bob = tenantB.user; // member of Team B only
  const principals = new TestPrincipals();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let rbac: RbacObject[];
  let app: FastifyInstance;
  const apps: FastifyInstance[] = [];
  const kubes: PersonKube[] = [];

  async function gatewayOn(
    kubeConfig: KubeConfig,
    overrides: Partial<Omit<SelfServiceOptions, 'kube'>> = {},
  ): Promise<FastifyInstance> {
    const personKube = new PersonKube(kubeConfig);
    kubes.push(personKube);
    const instance = Fastify();
    principals.install(instance);
    await instance.register(selfServicePlugin, {
      kube: personKube,
      keyLabels: labels,
      keyReadyTimeoutMs: 30_000,
      ...overrides,
    });
    apps.push(instance);
    return instance;
  }

  async function call(
    as: string,
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    on: FastifyInstance = app,
  ): Promise<Answer> {
    const response = await on.inject({
      method,
      url,
      headers: { [TEST_PRINCIPAL_HEADER]: as },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.json(),
      text: response.body,
    };
  }

  const asAdmin = () => kc.makeApiClient(CustomObjectsApi);

  async function allowed(user: string, groups: string[], verb: string, namespace?: string) {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user,
          groups,
          resourceAttributes: { namespace, verb, group: GROUP, resource: 'virtualkeys' },
        },
      },
    });
    return review.status?.allowed ?? false;
  }

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-self-service', models: [X, Y, Z] });
    objects = new KeyObjects(kc, labels);
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
    });
    await objects.namespace(A);
    await objects.namespace(B);
    rbac = await tenantRbac(run, [tenantA, tenantB]);
    // Platform admins (the master key's group) read our kinds everywhere.
    rbac.push(
      {
        apiVersion: `${rbacGroup}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name: `llm-tenancy-admins-${run}` },
        subjects: [{ apiGroup: rbacGroup, kind: 'Group', name: ADMINS }],
        roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: `llm-tenancy-view-${run}` },
      },
      {
        apiVersion: `${rbacGroup}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name: `llm-tenancy-admins-teams-${run}` },
        subjects: [{ apiGroup: rbacGroup, kind: 'Group', name: ADMINS }],
        roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: `llm-tenant-view-${run}` },
      },
    );
    await createAll(kc, rbac);
    for (const user of [alice, carol, bob]) await objects.readyUser(user);
    await objects.teams.create(A, {
      namespaces: [A],
      models: [X, Z],
      members: [{ user: alice }, { user: carol }],
      groups: [tenantA.group],
    });
    await objects.teams.create(B, { namespaces: [B], models: [Y], members: [{ user: bob }] });
    await objects.subscription(A, 'x', { model: X });
    await objects.subscription(B, 'y', { model: Y });
    await vi.waitFor(async () => {
      const sub = (await asAdmin().getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'modelsubscriptions',
        namespace: A,
        name: 'x',
      })) as ModelSubscription;
      expect(stateOf(sub)).toBe('Active True/Active');
    }, poll);
    await rbacInEffect(kc, { user: alice, groups: [tenantA.group] }, A);
    await rbacInEffect(kc, { user: bob, groups: [tenantB.group] }, B);

    principals.add('alice', person({ login: alice, groups: [tenantA.group] }));
    principals.add('carol', person({ login: carol, groups: [tenantA.group] }));
    principals.add('bob', person({ login: bob, groups: [tenantB.group] }));
    principals.add('bob-as-admin', person({ login: bob, groups: [tenantB.group], role: 'admin' }));
    principals.add('master', masterKey(ADMINS));
    app = await gatewayOn(kc);
  });

  afterAll(async () => {
    for (const instance of apps) await instance.close();
    for (const personKube of kubes) await personKube.close();
    await operator?.stop();
    await litellm?.stop();
    const api = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await api.delete(object).catch(() => {});
    }
  });

  it('GET /api/me: the User, role and teams, read as the person', async () => {
    const me = await call('alice', 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    expect(me.body).toMatchObject({
      via: 'session',
      userName: alice,
      role: 'user',
      user: { name: alice, phase: 'Ready' },
      teams: [{ name: A, role: 'member', namespaces: [A], allowedModels: [X, Z] }],
      kubernetes: { username: alice },
      warnings: [],
    });
    expect((me.body.kubernetes as { groups: string[] }).groups).toContain(tenantA.group);
    const bobs = await call('bob', 'GET', '/api/me');
    expect((bobs.body.teams as { name: string }[]).map((t) => t.name)).toEqual([B]);
  });

  it('GET /api/me says when RBAC lets the person read no Teams, and does not widen', async () => {
    principals.add('stranger', person({ login: `stranger-${run}`, groups: [`nobody-${run}`] }));
    const me = await call('stranger', 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.teams).toEqual([]);
    expect(me.body.warnings).toEqual([
      expect.stringContaining('Kubernetes RBAC does not let you read your User'),
      expect.stringContaining('Kubernetes RBAC does not let you list Teams, so none are shown'),
    ]);
    // The gateway's own identity could have listed them.
    const teams = (await asAdmin().listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'teams',
    })) as { items: unknown[] };
    expect(teams.items.length).toBeGreaterThan(0);
  });

  it('GET /api/models: what the teams may use, and where a subscription is missing', async () => {
    const models = await call('alice', 'GET', '/api/models');
    expect(models.status).toBe(200);
    expect(models.body).toMatchObject({
      teams: [
        {
          team: A,
          models: [
            {
              model: X,
              allowed: true,
              active: true,
              missingSubscription: false,
              subscriptions: [{ namespace: A, name: 'x', phase: 'Active' }],
            },
            {
              model: Z,
              allowed: true,
              active: false,
              missingSubscription: true,
              subscriptions: [],
            },
          ],
        },
      ],
      warnings: [],
    });
  });

  describe('a member’s own key', () => {
    let value: string;

    it('POST /api/me/keys creates it as the person and returns the value once', async () => {
      const created = await call('alice', 'POST', '/api/me/keys', {
        namespace: A,
        name: EXAMPLE_KEY_SECRET, // the Secret the example's Role lets the team read
        models: [X],
        budget: '25',
      });
      expect(created.status, created.text).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      expect(created.body).toMatchObject({
        key: {
          namespace: A,
          name: EXAMPLE_KEY_SECRET,
          user: alice,
          phase: 'Ready',
          models: [X],
          budget: '25',
        },
        warnings: [],
      });
      value = created.body.value as string;
      expect(value).toMatch(/^sk-/);
      const key = (await objects.getKey(A, EXAMPLE_KEY_SECRET))!;
      expect(key.spec.user).toBe(alice);
      expect(key.metadata.labels).toMatchObject({
        'app.kubernetes.io/created-by': 'llm-tenancy-gateway',
      });
      expect(hashKey(value)).toBe(key.status?.keyId);
      expect(secretKey(await objects.secret(A, EXAMPLE_KEY_SECRET))).toBe(value);
    });

    it('GET /api/me/keys lists it with status, models and spend, never the value', async () => {
      const list = await call('alice', 'GET', '/api/me/keys');
      expect(list.status).toBe(200);
      expect(list.body.keys).toEqual([
        expect.objectContaining({
          namespace: A,
          name: EXAMPLE_KEY_SECRET,
          phase: 'Ready',
          models: [X],
          budget: '25',
        }),
      ]);
      expect(list.text).not.toContain(value);
      // Carol is in the same team and sees none of Alice's keys as hers.
      expect((await call('carol', 'GET', '/api/me/keys')).body.keys).toEqual([]);
      // Bob's team is B: Alice's key is not among his, and RBAC would not let him list A.
      expect((await call('bob', 'GET', '/api/me/keys')).body.keys).toEqual([]);
      expect(await allowed(bob, [tenantB.group], 'list', A)).toBe(false);
    });

    it("refuses to revoke another person's key: the team's RBAC would allow it", async () => {
      const carolDeletes = await call('carol', 'DELETE', `/api/me/keys/${A}/${EXAMPLE_KEY_SECRET}`);
      expect(carolDeletes.status).toBe(403);
      expect(carolDeletes.body.error).toMatchObject({ type: 'permission_error', code: '403' });
      expect(carolDeletes.body.error!.message).toContain('is not yours');
      expect(await allowed(carol, [tenantA.group], 'delete', A)).toBe(true);
      expect(await objects.getKey(A, EXAMPLE_KEY_SECRET)).toBeDefined();
    });

    it("refuses another team's member to revoke it: RBAC, as the person, says no", async () => {
      const bobDeletes = await call('bob', 'DELETE', `/api/me/keys/${A}/${EXAMPLE_KEY_SECRET}`);
      expect(bobDeletes.status).toBe(403);
      expect(bobDeletes.body.error!.message).toContain(
        `User "${bob}" cannot get resource "virtualkeys"`,
      );
      expect(await objects.getKey(A, EXAMPLE_KEY_SECRET)).toBeDefined(); // the gateway's own identity reads it
    });

    it('DELETE /api/me/keys/{ns}/{name} revokes it', async () => {
      const deleted = await call('alice', 'DELETE', `/api/me/keys/${A}/${EXAMPLE_KEY_SECRET}`);
      expect(deleted.status, deleted.text).toBe(200);
      expect(deleted.body).toEqual({ namespace: A, name: EXAMPLE_KEY_SECRET, deleted: true });
      await vi.waitFor(
        async () => expect(await objects.getKey(A, EXAMPLE_KEY_SECRET)).toBeUndefined(),
        poll,
      );
      // The garbage collector would delete the Secret it owned; none runs in the test bed.
      await objects.core.deleteNamespacedSecret({ namespace: A, name: EXAMPLE_KEY_SECRET });
      expect((await call('alice', 'GET', '/api/me/keys')).body.keys).toEqual([]);
    });
  });

  it('answers 202 without a value, saying why, when the person may not read the Secret', async () => {
    // No name: one is generated, and the example's Role lets the team read only the Secret
    // it names.
    const created = await call('alice', 'POST', '/api/me/keys', { namespace: A, models: [X] });
    expect(created.status, created.text).toBe(202);
    const key = created.body.key as { name: string; phase: string; secretName: string };
    expect(key.name).toMatch(new RegExp(`^${alice}-`));
    expect(key.phase).toBe('Ready');
    expect(created.body.value).toBeNull();
    expect(created.body.warnings).toEqual([
      expect.stringContaining(
        `Kubernetes RBAC does not let you read that Secret, so its value cannot be shown: secrets "${key.secretName}" is forbidden`,
      ),
    ]);
    // The gateway's own identity could have read it.
    expect(secretKey(await objects.secret(A, key.secretName))).toMatch(/^sk-/);
    expect((await call('alice', 'DELETE', `/api/me/keys/${A}/${key.name}`)).status).toBe(200);
  });

  it('answers 202 at once for a key that cannot become Ready, with the operator’s reason', async () => {
    const started = Date.now();
    const created = await call('alice', 'POST', '/api/me/keys', {
      namespace: A,
      name: 'unsubscribed',
      models: [Z],
    });
    expect(created.status, created.text).toBe(202);
    expect(created.body).toMatchObject({
      key: { name: 'unsubscribed', phase: 'NotReady', reason: 'ModelsNotSubscribed' },
      value: null,
    });
    expect(created.body.warnings).toEqual([expect.stringContaining('is not Ready')]);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect((await call('alice', 'DELETE', `/api/me/keys/${A}/unsubscribed`)).status).toBe(200);
  });

  it('answers 202 after the bounded wait when no operator makes the key Ready', async () => {
    // Keys this gateway labels for another run: no operator reconciles them.
    const unwatched = await gatewayOn(kc, {
      keyLabels: { [TEST_RUN_LABEL]: `nobody-${run}` },
      keyReadyTimeoutMs: 1_500,
    });
    const started = Date.now();
    const created = await call(
      'alice',
      'POST',
      '/api/me/keys',
      { namespace: A, name: 'unwatched', models: [X] },
      unwatched,
    );
    const took = Date.now() - started;
    expect(created.status, created.text).toBe(202);
    expect(created.body).toMatchObject({
      key: { name: 'unwatched', phase: 'Pending' },
      value: null,
    });
    expect(created.body.warnings).toEqual([
      expect.stringContaining(`VirtualKey ${A}/unwatched was created but is not Ready after 1.5s`),
    ]);
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(5_000);
    // The key has no finalizer yet (no operator saw it): deleting it removes it at once.
    expect(
      (await call('alice', 'DELETE', `/api/me/keys/${A}/unwatched`, undefined, unwatched)).status,
    ).toBe(200);
  });

  it('stops waiting for the key when the caller goes away', async () => {
    // No operator reconciles these keys, and the wait would last a minute: only the caller
    // going away can end it early.
    const records: AuditRecord[] = [];
    const unwatched = await gatewayOn(kc, {
      keyLabels: { [TEST_RUN_LABEL]: `nobody-${run}` },
      keyReadyTimeoutMs: 60_000,
      audit: { write: (record) => records.push(record) },
    });
    const url = await unwatched.listen({ host: '127.0.0.1', port: 0 });
    const leave = new AbortController();
    const answer = fetch(`${url}/api/me/keys`, {
      method: 'POST',
      headers: { [TEST_PRINCIPAL_HEADER]: 'alice', 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: A, name: 'abandoned', models: [X] }),
      signal: leave.signal,
    }).catch((err: Error) => err.name);
    // The key exists, so the gateway is in its wait, when the caller leaves.
    await expect
      .poll(async () => (await objects.getKey(A, 'abandoned')) !== undefined, poll)
      .toBe(true);
    leave.abort();
    expect(await answer).toBe('AbortError');
    // The request ends (its audit record is written) long before the minute is up.
    await expect
      .poll(() => records.filter((r) => r.action === 'selfservice.key.create'), {
        timeout: 10_000,
        interval: 100,
      })
      .toEqual([
        expect.objectContaining({
          object: expect.objectContaining({ kind: 'VirtualKey', namespace: A, name: 'abandoned' }),
          result: { outcome: 'ok' },
        }),
      ]);
    expect(
      (await call('alice', 'DELETE', `/api/me/keys/${A}/abandoned`, undefined, unwatched)).status,
    ).toBe(200);
  });

  it("refuses a key in a namespace not of the person's teams, with the API server's reason", async () => {
    const created = await call('bob', 'POST', '/api/me/keys', {
      namespace: A,
      name: 'intruder',
      models: [X],
    });
    expect(created.status).toBe(403);
    expect(created.body.error).toMatchObject({ type: 'permission_error', code: '403' });
    expect(created.body.error!.message).toContain(
      `Kubernetes refused to create a VirtualKey in namespace ${A} as you`,
    );
    expect(created.body.error!.message).toContain(
      `User "${bob}" cannot create resource "virtualkeys"`,
    );
    expect(await objects.getKey(A, 'intruder')).toBeUndefined();
    // As itself, the gateway could have made it.
    const direct = await objects.key(A, `intruder-direct`, { user: bob, models: [X] });
    expect(direct.metadata.uid).toBeDefined();
  });

  it('makes a key only for the person: a body naming another user is refused, and so is the admission policy for a forged one', async () => {
    const forOther = await call('carol', 'POST', '/api/me/keys', {
      namespace: A,
      models: [X],
      user: alice,
    });
    expect(forOther.status).toBe(400);
    expect(forOther.body.error).toMatchObject({ type: 'invalid_request_error', param: 'user' });
    // Were the gateway ever to make a key for another User than the person it impersonates
    // (a principal naming Alice's User while acting as Carol), the cluster's admission policy
    // refuses it: the key's spec.user must be the User the impersonated extra names.
    principals.add('carol-claiming-alice', {
      ...person({ login: carol, groups: [tenantA.group] }),
      userName: alice,
    });
    const forged = await call('carol-claiming-alice', 'POST', '/api/me/keys', {
      namespace: A,
      name: 'forged',
      models: [X],
    });
    expect(forged.status).toBe(403);
    expect(forged.body.error!.message).toContain('spec.user may name only yourself');
  });

  it('validates bodies with zod: 400 naming the field', async () => {
    const notArray = await call('alice', 'POST', '/api/me/keys', { namespace: A, models: X });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error).toMatchObject({ type: 'invalid_request_error', param: 'models' });
    const badNamespace = await call('alice', 'POST', '/api/me/keys', {
      namespace: 'Not_A_Namespace',
    });
    expect(badNamespace.body.error).toMatchObject({ param: 'namespace' });
    const badBudget = await call('alice', 'POST', '/api/me/keys', { namespace: A, budget: 'lots' });
    expect(badBudget.body.error).toMatchObject({ param: 'budget' });
  });

  it('shares one keep-alive pool to the API server between people and requests, and reconnects after a cut', async () => {
    const server = new URL(kc.getCurrentCluster()!.server);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
    try {
      const viaProxy = await gatewayOn(proxy.kubeConfig(kc));
      for (let i = 0; i < 10; i++) {
        for (const who of ['alice', 'bob', 'carol']) {
          expect((await call(who, 'GET', '/api/me', undefined, viaProxy)).status).toBe(200);
        }
      }
      // 30 requests of three people, 90 calls to the API server, at most 3 at a time (GET
      // /api/me reads in parallel): a few connections, not one per call as client-node's
      // per-request agent opens.
      expect(
        proxy.connections,
        `${proxy.connections} connections for 90 calls`,
      ).toBeLessThanOrEqual(6);
      proxy.cut(); // a load balancer drops every idle connection
      expect((await call('alice', 'GET', '/api/me', undefined, viaProxy)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  it('answers 401 without a principal', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/me' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toMatchObject({ type: 'auth_error' });
  });

  describe('admin', () => {
    it('lists Teams, Users and keys as the master key’s admin group', async () => {
      for (const [path, field] of [
        ['teams', A],
        ['users', alice],
      ] as const) {
        const list = await call('master', 'GET', `/api/admin/${path}`);
        expect(list.status, list.text).toBe(200);
        expect((list.body[path] as { name: string }[]).map((o) => o.name)).toContain(field);
      }
      const keys = await call('master', 'GET', '/api/admin/keys');
      expect(keys.status, keys.text).toBe(200);
      expect((keys.body.keys as { name: string }[]).map((k) => k.name)).toContain(
        'intruder-direct',
      );
    });

    it('refuses people without role admin, and an admin role RBAC does not back', async () => {
      const notAdmin = await call('alice', 'GET', '/api/admin/keys');
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body.error).toMatchObject({ type: 'permission_error' });
      // Role admin, but not in the admin group: RBAC refuses the cluster-wide list.
      const noRbac = await call('bob-as-admin', 'GET', '/api/admin/keys');
      expect(noRbac.status).toBe(403);
      expect(noRbac.body.error!.message).toContain(
        `User "${bob}" cannot list resource "virtualkeys"`,
      );
    });
  });

  describe('identities with odd characters cannot widen their groups', () => {
    it('keeps a group with a comma one group, exactly as sent', async () => {
      principals.add(
        'comma',
        person({ login: bob, groups: [tenantB.group, `x,${tenantA.group}`] }),
      );
      const me = await call('comma', 'GET', '/api/me');
      expect((me.body.kubernetes as { groups: string[] }).groups).toEqual(
        expect.arrayContaining([tenantB.group, `x,${tenantA.group}`]),
      );
      expect((me.body.kubernetes as { groups: string[] }).groups).not.toContain(tenantA.group);
      const created = await call('comma', 'POST', '/api/me/keys', {
        namespace: A,
        name: 'comma',
        models: [X],
      });
      expect(created.status).toBe(403);
    });

    it("takes '%' in a login literally", async () => {
      const login = `bob%2C${tenantA.group}%0A`;
      principals.add('percent', person({ login, userName: bob, groups: [tenantB.group] }));
      const me = await call('percent', 'GET', '/api/me');
      expect(me.status, me.text).toBe(200);
      expect(me.body.kubernetes).toMatchObject({ username: login });
    });

    it.each([
      ['a newline', `${tenantB.group}\nImpersonate-Group: ${ADMINS}`],
      ['leading white space', ` ${ADMINS}`],
      ['trailing white space', `${ADMINS} `],
    ])('refuses a group holding %s instead of sending it', async (_what, group) => {
      const id = principals.add(
        `odd-${_what}`,
        person({ login: bob, groups: [tenantB.group, group], role: 'admin' }),
      );
      const keys = await call(id, 'GET', '/api/admin/keys');
      expect(keys.status).toBe(403);
      expect(keys.body.error).toMatchObject({ type: 'permission_error' });
      expect(keys.body.error!.message).toContain('cannot be passed on to Kubernetes unchanged');
    });
  });

  describe('the gateway ServiceAccount', () => {
    it('with only the impersonate rights does everything above as the person', async () => {
      const gatewayNamespace = `ss-gw-${run}`;
      await objects.namespace(gatewayNamespace);
      const sa = await serviceAccountKubeConfig(kc, gatewayNamespace, 'gateway');
      const role = {
        apiVersion: `${rbacGroup}/v1`,
        kind: 'ClusterRole',
        metadata: { name: `llm-tenancy-gateway-${run}` },
        rules: [
          { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
          {
            apiGroups: ['authentication.k8s.io'],
            resources: [`userextras/${USER_NAME_EXTRA}`],
            verbs: ['impersonate'],
          },
        ],
      } as RbacObject;
      const binding = {
        apiVersion: `${rbacGroup}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name: `llm-tenancy-gateway-${run}` },
        subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: gatewayNamespace }],
        roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: role.metadata.name },
      } as RbacObject;
      rbac.push(role, binding);
      await createAll(kc, [role, binding]);
      const viaSa = await gatewayOn(sa.kubeConfig);
      await vi.waitFor(
        async () =>
          expect((await call('alice', 'GET', '/api/me', undefined, viaSa)).status).toBe(200),
        poll,
      );
      const created = await call(
        'alice',
        'POST',
        '/api/me/keys',
        { namespace: A, name: EXAMPLE_KEY_SECRET, models: [X] },
        viaSa,
      );
      expect(created.status, created.text).toBe(201);
      expect(created.body.value).toMatch(/^sk-/);
      const refused = await call(
        'bob',
        'POST',
        '/api/me/keys',
        { namespace: A, name: 'intruder-2', models: [X] },
        viaSa,
      );
      expect(refused.status).toBe(403);
      const deleted = await call(
        'alice',
        'DELETE',
        `/api/me/keys/${A}/${EXAMPLE_KEY_SECRET}`,
        undefined,
        viaSa,
      );
      expect(deleted.status, deleted.text).toBe(200);
    });

    it('without impersonate rights answers 503 with a clear message, and keeps serving', async () => {
      const gatewayNamespace = `ss-gw-none-${run}`;
      await objects.namespace(gatewayNamespace);
      const sa = await serviceAccountKubeConfig(kc, gatewayNamespace, 'gateway');
      const powerless = await gatewayOn(sa.kubeConfig);
      for (let i = 0; i < 2; i++) {
        const me = await call('alice', 'GET', '/api/me', undefined, powerless);
        expect(me.status).toBe(503);
        expect(me.body.error).toMatchObject({ type: 'service_unavailable_error', code: '503' });
        expect(me.body.error!.message).toContain('lacks the impersonate permission');
        expect(me.body.error!.message).toMatch(/ServiceAccount lacks .* cannot impersonate/);
        expect(me.body.error!.message).toContain(sa.username);
      }
    });

    it('answers 503 when the API server does not answer', async () => {
      const gone = new KubeConfig();
      gone.loadFromOptions({
        clusters: [{ name: 'gone', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
        users: [{ name: 'gone', token: 'x' }],
        contexts: [{ name: 'gone', cluster: 'gone', user: 'gone' }],
        currentContext: 'gone',
      });
      const me = await call('alice', 'GET', '/api/me', undefined, await gatewayOn(gone));
      expect(me.status).toBe(503);
      expect(me.body.error).toMatchObject({ type: 'service_unavailable_error' });
      expect(me.body.error!.message).toContain('the Kubernetes API server did not answer');
    });
  });
});
