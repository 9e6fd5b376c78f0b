// Tenant isolation, end to end on the real kube-apiserver (RBAC on) with an operator running.
// The RBAC is examples/tenant-rbac.yaml itself, parsed and rewritten for two tenants A and B
// of this run (namespaces, groups, names), so the test checks the example a user copies.
// A tenant is an impersonated user in the group of A. First what RBAC lets that user do: write
// ModelSubscriptions and VirtualKeys in A only, read Teams and Users, never write a Team, a
// User or any /status, never read B's Secrets. Then what the operator lets through what RBAC
// allows: a key in A never reaches a model only B subscribed to, a personal key for a member
// of B only is refused, and a subscription to a model Team A does not allow stays Pending.
// Every expectation that waits polls.
import {
  AuthorizationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ModelSubscription, Team, User } from '../../crds/api/index.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
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
import { stateOf } from './support/subscription-operator.ts';
import { GROUP, poll, suffix, TEST_RUN_LABEL, VERSION } from './support/team-operator.ts';
import {
  adaptExample,
  asTenant,
  EXAMPLE_GROUP,
  EXAMPLE_KEY_SECRET,
  EXAMPLE_NAMESPACE,
  exampleObjects,
  outcome,
  type RbacObject,
  type Tenant,
} from './support/tenant-rbac.ts';

const X = 'granite-3-8b'; // Team A's model
const Y = 'llama-3-8b'; // Team B's model
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('tenant isolation', () => {
  const run = suffix();
  const prefix = `test-${run}:`;
  const labels = { [TEST_RUN_LABEL]: run };
  const tenantA: Tenant = {
    namespace: `iso-a-${run}`,
    group: `iso-a-devs-${run}`,
    user: `dev-a-${run}`,
  };
  const tenantB: Tenant = {
    namespace: `iso-b-${run}`,
    group: `iso-b-devs-${run}`,
    user: `dev-b-${run}`,
  };
  const A = tenantA.namespace;
  const B = tenantB.namespace;
  const alice = `alice-${run}`; // a member of Team A
  const bob = `bob-${run}`; // a member of Team B only
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let redis: Redis;
  let operator: KeyOperator;
  let admin: KeyObjects;
  let rbac: RbacObject[];
  /** Tenants A and B; KeyObjects label what they create for this suite's operator. */
  let asA: KeyObjects;
  let asB: KeyObjects;

  /** Whether the API server's authorizer lets `subject` do `attributes` (a SubjectAccessReview). */
  async function allowed(
    subject: { user: string; groups?: string[] },
    attributes: V1ResourceAttributes,
  ): Promise<boolean> {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: { spec: { ...subject, resourceAttributes: attributes } },
    });
    return review.status?.allowed ?? false;
  }

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-isolation', models: [X, Y, 'mistral-7b'] });
    redis = new Redis(inject('redisUrl'));
    admin = new KeyObjects(kc, labels);
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
    });

    await admin.namespace(A);
    await admin.namespace(B);
    rbac = adaptExample(await exampleObjects(), run, [tenantA, tenantB]);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac) await objects.create(object);

    await admin.readyUser(alice);
    await admin.readyUser(bob);
    await admin.teams.create(A, { namespaces: [A], models: [X], members: [{ user: alice }] });
    await admin.teams.create(B, { namespaces: [B], models: [Y], members: [{ user: bob }] });

    asA = new KeyObjects(asTenant(kc, tenantA), labels);
    asB = new KeyObjects(asTenant(kc, tenantB), labels);
    // RBAC objects take effect once the authorizer's caches have them.
    for (const tenant of [tenantA, tenantB]) {
      const subject = { user: tenant.user, groups: [tenant.group] };
      await vi.waitFor(async () => {
        const granted =
          (await allowed(subject, {
            namespace: tenant.namespace,
            verb: 'create',
            group: GROUP,
            resource: 'virtualkeys',
          })) && (await allowed(subject, { verb: 'list', group: GROUP, resource: 'teams' }));
        if (!granted) throw new Error(`RBAC for ${tenant.user} not in effect yet`);
      }, poll);
    }
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
    redis?.disconnect();
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await objects.delete(object).catch(() => {});
    }
  });

  describe('RBAC from examples/tenant-rbac.yaml', () => {
    it('is what the test rewrites: shared ClusterRoles, per-team objects for one namespace and group', async () => {
      const example = await exampleObjects();
      expect(example.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
        'ClusterRole/llm-tenancy-edit',
        'ClusterRole/llm-tenancy-view',
        'ClusterRole/llm-tenant-view',
        'ClusterRoleBinding/llm-tenant-view-ml-research',
        'Role/llm-tenant',
        'RoleBinding/llm-tenant',
      ]);
      // Nothing names another namespace or subject the rewrite would leave behind.
      for (const o of example) {
        if (o.metadata.namespace) expect(o.metadata.namespace).toBe(EXAMPLE_NAMESPACE);
        for (const subject of o.subjects ?? []) {
          expect(subject).toEqual({
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Group',
            name: EXAMPLE_GROUP,
          });
        }
      }
      expect(rbac).toHaveLength(3 + 2 * 3);
    });

    it('lets a tenant write ModelSubscriptions and VirtualKeys in its own namespace', async () => {
      const subscription = await asA.subscription(A, 'x', { model: X });
      expect(subscription.metadata.namespace).toBe(A);
      // Tenant B, bound by its own copy of the example, subscribes B to Y.
      expect((await asB.subscription(B, 'y', { model: Y })).metadata.namespace).toBe(B);

      const created = await asA.key(A, 'scratch', { models: [X] });
      expect(created.metadata.uid).toBeDefined();
      expect(await outcome(asA.patchKey(A, 'scratch', { spec: { suspended: true } }))).toBe(
        'allowed',
      );
      expect(
        await outcome(
          asA.api.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'virtualkeys',
            namespace: A,
          }),
        ),
      ).toBe('allowed');
      expect(await outcome(asA.deleteKey(A, 'scratch'))).toBe('allowed');
      // And the operator's Events on them.
      expect(await outcome(asA.core.listNamespacedEvent({ namespace: A }))).toBe('allowed');
    });

    it("denies a tenant every write and read in another team's namespace", async () => {
      expect(await outcome(asA.key(B, 'intruder', { models: [Y] }))).toBe(403);
      expect(await outcome(asA.subscription(B, 'intruder', { model: Y }))).toBe(403);
      expect(await outcome(asA.deleteSubscription(B, 'y'))).toBe(403);
      expect(
        await outcome(
          asA.api.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'virtualkeys',
            namespace: B,
          }),
        ),
      ).toBe(403);
      expect(await outcome(asA.core.listNamespacedEvent({ namespace: B }))).toBe(403);
      expect(await admin.getKey(B, 'intruder')).toBeUndefined();
    });

    it('denies Secrets of another namespace, and in its own all but the named key Secrets', async () => {
      for (const [namespace, name] of [
        [A, EXAMPLE_KEY_SECRET],
        [A, 'database-password'],
        [B, EXAMPLE_KEY_SECRET],
      ] as const) {
        await admin.core.createNamespacedSecret({
          namespace,
          body: { metadata: { name }, stringData: { value: 'secret' } },
        });
      }
      const secrets = asA.core;
      expect(
        await outcome(secrets.readNamespacedSecret({ namespace: B, name: EXAMPLE_KEY_SECRET })),
      ).toBe(403);
      expect(await outcome(secrets.listNamespacedSecret({ namespace: B }))).toBe(403);
      // In A: the key Secret the Role names, by name, and nothing else.
      expect(
        await outcome(secrets.readNamespacedSecret({ namespace: A, name: EXAMPLE_KEY_SECRET })),
      ).toBe('allowed');
      expect(
        await outcome(secrets.readNamespacedSecret({ namespace: A, name: 'database-password' })),
      ).toBe(403);
      expect(await outcome(secrets.listNamespacedSecret({ namespace: A }))).toBe(403);
      expect(
        await outcome(secrets.deleteNamespacedSecret({ namespace: A, name: EXAMPLE_KEY_SECRET })),
      ).toBe(403);
    });

    it('lets a tenant read Teams and Users, but never create, change or delete one', async () => {
      expect((await asA.teams.get(A))?.spec.models).toEqual([X]);
      expect((await asA.teams.get(B))?.spec.namespaces).toEqual([B]);
      expect(
        await outcome(
          asA.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'teams' }),
        ),
      ).toBe('allowed');
      expect(((await asA.users.get(alice)) as User | undefined)?.metadata.name).toBe(alice);

      expect(
        await outcome(asA.teams.create(`own-${run}`, { namespaces: [B], models: ['*'] })),
      ).toBe(403);
      // Approving its own subscription, or claiming B's namespace, is a change to the Team.
      expect(await outcome(asA.teams.patch(A, { spec: { models: [X, Y] } }))).toBe(403);
      expect(await outcome(asA.teams.patch(A, { spec: { namespaces: [A, B] } }))).toBe(403);
      expect(await outcome(asA.teams.patch(B, { spec: { members: [{ user: alice }] } }))).toBe(403);
      expect(await outcome(asA.teams.delete(B))).toBe(403);
      expect(await outcome(asA.users.patch(alice, { spec: { role: 'admin' } }))).toBe(403);

      expect(await admin.teams.get(`own-${run}`)).toBeUndefined();
      const teamA = (await admin.teams.get(A))!;
      expect(teamA.spec.models).toEqual([X]);
      expect(teamA.spec.namespaces).toEqual([A]);
      expect((await admin.teams.get(B))?.spec.members).toEqual([{ user: bob }]);
    });

    it('denies a tenant the /status subresource: what the operator decided cannot be forged', async () => {
      await asA.key(A, 'forger', { models: [X] });
      const status = (plural: string, name: string, body: object) =>
        asA.api.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, plural, namespace: A, name, body },
          mergePatch,
        );
      expect(await outcome(status('virtualkeys', 'forger', { status: { models: [X, Y] } }))).toBe(
        403,
      );
      const current = (await asA.getKey(A, 'forger'))!;
      expect(
        await outcome(
          asA.api.replaceNamespacedCustomObjectStatus({
            group: GROUP,
            version: VERSION,
            plural: 'virtualkeys',
            namespace: A,
            name: 'forger',
            body: { ...current, status: { models: [X, Y] } },
          }),
        ),
      ).toBe(403);
      expect(
        await outcome(status('modelsubscriptions', 'x', { status: { phase: 'Active' } })),
      ).toBe(403);
      // Status sent with the object itself is dropped by the API server.
      const patched = await asA.patchKey(A, 'forger', { status: { models: [X, Y] } });
      expect(patched.status?.models ?? []).not.toContain(Y);
      expect((await admin.getKey(A, 'forger'))?.status?.models ?? []).not.toContain(Y);
    });

    it('aggregates our kinds into the built-in edit and view roles, without status or Teams', async () => {
      const byName = (name: string) => rbac.find((o) => o.metadata.name === `${name}-${run}`)!;
      expect(byName('llm-tenancy-edit').metadata.labels).toMatchObject({
        'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
        'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      });
      expect(byName('llm-tenancy-view').metadata.labels).toMatchObject({
        'rbac.authorization.k8s.io/aggregate-to-view': 'true',
      });
      // No controller-manager runs here to aggregate them, so bind them the way aggregation
      // would reach a namespace editor and viewer: a RoleBinding in one namespace.
      const editor = { user: `editor-${run}` };
      const viewer = { user: `viewer-${run}` };
      const rbacApi = KubernetesObjectApi.makeApiClient(kc);
      for (const [subject, role] of [
        [editor, 'llm-tenancy-edit'],
        [viewer, 'llm-tenancy-view'],
      ] as const) {
        await rbacApi.create({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: `${role}-${subject.user}`, namespace: A },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: subject.user }],
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: `${role}-${run}`,
          },
        } as RbacObject);
      }
      const can = (subject: { user: string }, verb: string, resource: string, namespace = A) =>
        allowed(subject, { namespace, verb, group: GROUP, resource });
      await expect.poll(() => can(editor, 'create', 'virtualkeys'), poll).toBe(true);
      await expect.poll(() => can(viewer, 'list', 'modelsubscriptions'), poll).toBe(true);
      expect(await can(editor, 'delete', 'modelsubscriptions')).toBe(true);
      expect(await can(editor, 'create', 'virtualkeys', B)).toBe(false);
      expect(
        await allowed(editor, {
          namespace: A,
          verb: 'update',
          group: GROUP,
          resource: 'virtualkeys',
          subresource: 'status',
        }),
      ).toBe(false);
      expect(await can(editor, 'create', 'teams', '')).toBe(false);
      expect(await can(viewer, 'create', 'virtualkeys')).toBe(false);
      expect(await can(viewer, 'get', 'teams', '')).toBe(false);
    });
  });

  describe('cross-team access, with the operator running', () => {
    /** Team A allows and has subscribed X; Team B Y; both in LiteLLM. */
    async function teamsSynced(): Promise<void> {
      await expect.poll(async () => (await admin.teams.get(A))?.status?.models, poll).toEqual([X]);
      await expect.poll(async () => (await admin.teams.get(B))?.status?.models, poll).toEqual([Y]);
    }

    it('never gives a key in A a model only Team B subscribed to', async () => {
      await teamsSynced();
      await asA.key(A, 'only-y', { models: [Y], requireAllModels: false });
      await asA.key(A, 'x-and-y', { models: [X, Y], requireAllModels: false });

      await expect
        .poll(async () => (await admin.getKey(A, 'x-and-y'))?.status?.models, poll)
        .toEqual([X]);
      const both = (await admin.getKey(A, 'x-and-y'))!;
      expect(both.status?.missingModels).toEqual([Y]);
      expect(condition(both)).toBe('True/KeyReady');
      expect(condition(both, 'ModelsAvailable')).toBe('False/ModelsNotSubscribed');
      const [registered] = litellmKeysOf(litellm, A, 'x-and-y');
      expect(registered?.models).toEqual([X]);
      expect(registered?.team_id).toBe(A);
      const value = secretKey(await admin.secret(A, both.status!.secretName!));
      expect(registered?.token).toBe(hashKey(value));
      await expect
        .poll(async () => (await routingRecord(redis, prefix, value))?.models, poll)
        .toEqual([X]);

      await expect
        .poll(async () => condition(await admin.getKey(A, 'only-y')), poll)
        .toBe('False/NoSubscribedModels');
      const onlyY = (await admin.getKey(A, 'only-y'))!;
      // A key that was never made reports why in Ready only (not status.missingModels).
      expect(onlyY.status?.conditions?.find((c) => c.type === 'Ready')?.message).toBe(
        `none of the requested models is usable by Team ${A} yet`,
      );
      expect(onlyY.status?.models).toBeUndefined();
      expect(litellmKeysOf(litellm, A, 'only-y')).toHaveLength(0);
      expect(await admin.secret(A, 'only-y')).toBeUndefined();

      // Nothing of Team A in LiteLLM reaches Y: not its keys, not the team.
      const teamAKeys = [...litellm.store.keys.values()].filter((k) => k.team_id === A);
      expect(teamAKeys.length).toBeGreaterThan(0);
      expect(teamAKeys.flatMap((k) => k.models)).not.toContain(Y);
      expect(litellm.store.teams.get(A)?.models).toEqual([X]);
    });

    it('refuses a personal key in A for a user who is a member of Team B only', async () => {
      await teamsSynced();
      await expect
        .poll(async () => (await admin.teams.get(B))?.status?.members?.map((m) => m.user), poll)
        .toEqual([bob]);
      // A tenant may not name another person at all (key-user-admission.test.ts); a platform
      // admin may, and then it is the operator that refuses a non-member.
      await admin.key(A, 'bobs', { user: bob });
      await expect
        .poll(async () => condition(await admin.getKey(A, 'bobs')), poll)
        .toBe('False/UserNotMember');
      expect(litellmKeysOf(litellm, A, 'bobs')).toHaveLength(0);
      expect(await admin.secret(A, 'bobs')).toBeUndefined();

      // The same request for a member of A works: it is the team that decides, not the user.
      await admin.key(A, 'alices', { user: alice });
      await expect
        .poll(async () => condition(await admin.getKey(A, 'alices')), poll)
        .toBe('True/KeyReady');
      const [key] = litellmKeysOf(litellm, A, 'alices');
      expect(key?.user_id).toBe(alice);
      expect(key?.team_id).toBe(A);
      // Still refused once the other key exists: nothing about bob changed.
      expect(condition(await admin.getKey(A, 'bobs'))).toBe('False/UserNotMember');
      expect(litellmKeysOf(litellm, A, 'bobs')).toHaveLength(0);
    });

    it("keeps a tenant's subscription to a model its Team does not allow Pending", async () => {
      await teamsSynced();
      await asA.subscription(A, 'y', { model: Y });
      const get = async () =>
        (await admin.api.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'modelsubscriptions',
          namespace: A,
          name: 'y',
        })) as ModelSubscription;
      await expect.poll(async () => stateOf(await get()), poll).toBe('Pending False/NotApproved');
      expect((await get()).status?.team).toBe(A);
      // Team A, in Kubernetes and LiteLLM, still has X only.
      const teamA = (await admin.teams.get(A)) as Team;
      expect(teamA.status?.models).toEqual([X]);
      expect(litellm.store.teams.get(A)?.models).toEqual([X]);
      // While Team B's own subscription to Y is Active.
      const inB = (await admin.api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'modelsubscriptions',
        namespace: B,
        name: 'y',
      })) as ModelSubscription;
      expect(stateOf(inB)).toBe('Active True/Active');
    });
  });
});
