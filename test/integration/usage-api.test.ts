// GET /api/usage (issue 15 item 4) against the real API server with RBAC on (the tenant RBAC
// of examples/tenant-rbac.yaml), the key operator, a real gateway in front of the
// LiteLLM-compatible test server, and that server's daily spend analytics. Costs of calls made
// through the gateway show up per day and model, for the key, its Team and its User; a person
// outside the Team is refused by the cluster before LiteLLM is asked.
import { AuthorizationV1Api, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DEFAULT_ADMIN_GROUPS } from '../../crds/admission/virtual-key-user.ts';
import { PersonKube } from '../../gateway/src/kube/person-kube.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { selfServicePlugin } from '../../gateway/src/self-service/self-service-plugin.ts';
import { LiteLLMActivity } from '../../gateway/src/usage/litellm-activity.ts';
import type { UsageReport } from '../../contracts/usage/usage-answer.ts';
import { CSV_COLUMNS } from '../../gateway/src/usage/usage-report.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { chat, startTestGateway } from './support/gateway-bed.ts';
import {
  condition,
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { createAll } from './support/principals.ts';
import { GROUP, poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';
import { rbacInEffect, tenantRbac, type RbacObject, type Tenant } from './support/tenant-rbac.ts';
import {
  masterKey,
  person,
  TEST_PRINCIPAL_HEADER,
  TestPrincipals,
} from './support/test-principal.ts';

const X = 'granite-3-8b';
const Z = 'mistral-7b';
const ADMINS = DEFAULT_ADMIN_GROUPS[0];
const rbacGroup = 'rbac.authorization.k8s.io';

type Usage = UsageReport & {
  scope: string;
  name: string;
  budget: Record<string, string> | null;
  error?: { type: string; message: string };
};

describe('usage API', () => {
  const run = suffix();
  const prefix = `usage-${run}:`;
  const labels = { [TEST_RUN_LABEL]: run };
  const tenantA: Tenant = { namespace: `use-a-${run}`, group: `use-a-${run}`, user: `ana-${run}` };
  const tenantB: Tenant = { namespace: `use-b-${run}`, group: `use-b-${run}`, user: `ben-${run}` };
  const A = tenantA.namespace;
  const ana = tenantA.user;
  const ben = tenantB.user;
  const today = new Date().toISOString().slice(0, 10);
  const principals = new TestPrincipals();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let gateway: RunningGateway;
  let rbac: RbacObject[];
  let app: FastifyInstance;
  const kube: PersonKube[] = [];
  /** What the gateway's x-litellm-response-cost headers said, per model. */
  const reported: Record<string, number> = { [X]: 0, [Z]: 0 };
  const values: Record<string, string> = {};
  const keyIds: Record<string, string> = {};

  async function usageApp(activity: LiteLLMActivity): Promise<FastifyInstance> {
    const personKube = new PersonKube(kc);
    kube.push(personKube);
    const instance = Fastify();
    principals.install(instance);
    await instance.register(selfServicePlugin, { kube: personKube, activity });
    return instance;
  }

  async function usage(as: string, query: string, on = app) {
    const response = await on.inject({
      method: 'GET',
      url: `/api/usage?${query}`,
      headers: { [TEST_PRINCIPAL_HEADER]: as },
    });
    const csv = response.headers['content-type']?.toString().startsWith('text/csv');
    return {
      status: response.statusCode,
      headers: response.headers,
      text: response.body,
      body: (csv ? {} : response.json()) as Usage,
    };
  }

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-usage', models: [X, Z] });
    objects = new KeyObjects(kc, labels);
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
    });
    gateway = await startTestGateway({
      LITELLM_URL: litellm.url,
      REDIS_URL: inject('redisUrl'),
      ROUTING_PREFIX: prefix,
    });
    await objects.namespace(A);
    await objects.namespace(tenantB.namespace);
    rbac = await tenantRbac(run, [tenantA, tenantB]);
    rbac.push({
      apiVersion: `${rbacGroup}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: `llm-tenancy-usage-admins-${run}` },
      subjects: [{ apiGroup: rbacGroup, kind: 'Group', name: ADMINS }],
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: `llm-tenancy-view-${run}` },
    });
    rbac.push({
      apiVersion: `${rbacGroup}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: `llm-tenancy-usage-admins-teams-${run}` },
      subjects: [{ apiGroup: rbacGroup, kind: 'Group', name: ADMINS }],
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: `llm-tenant-view-${run}` },
    });
    await createAll(kc, rbac);
    for (const user of [ana, ben]) await objects.readyUser(user);
    await objects.teams.create(A, { namespaces: [A], models: [X, Z], members: [{ user: ana }] });
    await objects.teams.create(tenantB.namespace, {
      namespaces: [tenantB.namespace],
      models: [X],
      members: [{ user: ben }],
    });
    await objects.subscription(A, 'x', { model: X });
    await objects.subscription(A, 'z', { model: Z });
    await rbacInEffect(kc, { user: ana, groups: [tenantA.group] }, A);
    await rbacInEffect(kc, { user: ben, groups: [tenantB.group] }, tenantB.namespace);
    principals.add('ana', person({ login: ana, groups: [tenantA.group] }));
    principals.add('ben', person({ login: ben, groups: [tenantB.group] }));
    principals.add('master', masterKey(ADMINS));
    app = await usageApp(
      new LiteLLMActivity({ baseUrl: litellm.url, masterKey: async () => litellm.masterKey }),
    );

    // Two keys of Team A, one of them Ana's: calls through the gateway, costs as LiteLLM
    // reports them to the gateway.
    await objects.key(A, 'app', { models: [X, Z], user: ana });
    await objects.key(A, 'batch', { models: [X] });
    for (const name of ['app', 'batch']) {
      await vi.waitFor(
        async () => expect(condition(await objects.getKey(A, name))).toBe('True/KeyReady'),
        poll,
      );
      const key = (await objects.getKey(A, name))!;
      values[name] = secretKey(await objects.secret(A, key.status!.secretName!));
      keyIds[name] = key.status!.keyId!;
    }
    await vi.waitFor(
      async () => expect((await chat(gateway, values.app!, { model: X })).status).toBe(200),
      poll,
    );
    const calls: [string, string][] = [
      ['app', Z],
      ['app', Z],
      ['batch', X],
    ];
    reported[X] = litellm.store.teams.get(A)!.spend; // the polled call(s) above
    for (const [name, model] of calls) {
      const response = await chat(gateway, values[name]!, { model });
      expect(response.status).toBe(200);
      reported[model]! += Number(response.headers.get('x-litellm-response-cost'));
    }
  });

  afterAll(async () => {
    await app?.close();
    for (const k of kube) await k.close();
    await gateway?.close();
    await operator?.stop();
    await litellm?.stop();
    const api = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await api.delete(object).catch(() => {});
    }
  });

  const micros = (usd: number | string) => Math.round(Number(usd) * 1e6);

  it("shows a team member the Team's spend per day and model, as the gateway saw it charged", async () => {
    const answer = await usage('ana', `scope=team&name=${A}&since=7d`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body).toMatchObject({ scope: 'team', name: A, until: today });
    expect(answer.body.days).toHaveLength(7);
    const day = answer.body.days.at(-1)!;
    expect(day.date).toBe(today);
    const byModel = Object.fromEntries(day.models.map((m) => [m.model, m]));
    expect(micros(byModel[X]!.spend)).toBe(micros(reported[X]!));
    expect(micros(byModel[Z]!.spend)).toBe(micros(reported[Z]!));
    expect(byModel[Z]!.requests).toBe(2);
    expect(byModel[Z]!.promptTokens).toBeGreaterThan(0);
    expect(byModel[Z]!.totalTokens).toBe(byModel[Z]!.promptTokens + byModel[Z]!.completionTokens);
    expect(micros(answer.body.totals.spend)).toBe(micros(litellm.store.teams.get(A)!.spend));
    expect(answer.body.days.slice(0, -1).every((d) => d.spend === '0')).toBe(true);
  });

  it('adds up a day that LiteLLM splits over several pages', async () => {
    const paged = await usageApp(
      new LiteLLMActivity({
        baseUrl: litellm.url,
        masterKey: async () => litellm.masterKey,
        pageSize: 1,
      }),
    );
    const before = litellm.calls.count('GET', '/team/daily/activity');
    const answer = await usage('ana', `scope=team&name=${A}&since=1d`, paged);
    await paged.close();
    expect(answer.status, answer.text).toBe(200);
    // one row per (key, model): app×X, app×Z, batch×X
    expect(litellm.calls.count('GET', '/team/daily/activity') - before).toBe(3);
    expect(micros(answer.body.totals.spend)).toBe(micros(litellm.store.teams.get(A)!.spend));
    expect(answer.body.totals.requests).toBe(
      (await usage('ana', `scope=team&name=${A}&since=1d`)).body.totals.requests,
    );
  });

  it("shows a key's own usage, and its budget", async () => {
    const answer = await usage('ana', `scope=key&namespace=${A}&name=batch&since=1d`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.models.map((m) => [m.model, m.requests])).toEqual([[X, 1]]);
    expect(micros(answer.body.totals.spend)).toBe(
      micros(litellm.store.keys.get(keyIds.batch!)!.spend),
    );
  });

  it("shows a person their own usage, and an admin anyone's; not another person's", async () => {
    const own = await usage('ana', 'scope=user&since=1d');
    expect(own.status, own.text).toBe(200);
    expect(own.body.name).toBe(ana);
    expect(own.body.totals.requests).toBe(3); // app's calls: the polled one and 2 × Z
    const admin = await usage('master', `scope=user&name=${ana}&since=1d`);
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body.totals).toEqual(own.body.totals);
    const other = await usage('ben', `scope=user&name=${ana}`);
    expect(other.status).toBe(403);
    expect(other.body.error?.type).toBe('permission_error');
  });

  it('exports CSV with a header row', async () => {
    const answer = await usage('ana', `scope=team&name=${A}&since=1d&format=csv`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.headers['content-disposition']).toBe(
      `attachment; filename="usage-team-${A}-${today}-${today}.csv"`,
    );
    const rows = answer.text
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const z = rows.find((r) => r[1] === Z)!;
    expect(z[0]).toBe(today);
    expect(micros(z[2]!)).toBe(micros(reported[Z]!));
    expect(z[6]).toBe('2');
  });

  it('refuses a person outside the Team before LiteLLM is asked, though RBAC lets them read Teams', async () => {
    const before = litellm.calls.snapshot().total;
    const team = await usage('ben', `scope=team&name=${A}`);
    expect(team.status, team.text).toBe(403);
    expect(team.body.error).toMatchObject({ type: 'permission_error' });
    expect(team.body.error?.message).toContain(`list the VirtualKeys of Team ${A}`);
    const key = await usage('ben', `scope=key&namespace=${A}&name=batch`);
    expect(key.status, key.text).toBe(403);
    expect(key.body.error?.message).toContain('Kubernetes refused');
    expect(litellm.calls.snapshot().total).toBe(before);
    // The tenant view role does let Ben read Team A: the refusal is the usage rule's.
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: ben,
          groups: [tenantB.group],
          resourceAttributes: { verb: 'get', group: GROUP, resource: 'teams', name: A },
        },
      },
    });
    expect(review.status?.allowed).toBe(true);
    // An admin sees every Team.
    expect((await usage('master', `scope=team&name=${A}`)).status).toBe(200);
  });

  it('answers 502 when LiteLLM fails, and 503 when it cannot be reached', async () => {
    const fault = litellm.faults.add({ route: '/team/daily/activity', status: 500, times: 1 });
    const failed = await usage('ana', `scope=team&name=${A}`);
    litellm.faults.clear(fault.id);
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({
      type: 'upstream_error',
      message: 'LiteLLM answered /team/daily/activity with HTTP 500',
    });
    const down = await usageApp(
      new LiteLLMActivity({ baseUrl: 'http://127.0.0.1:1', masterKey: async () => 'sk-x' }),
    );
    const unreachable = await usage('ana', `scope=team&name=${A}`, down);
    await down.close();
    expect(unreachable.status).toBe(503);
    expect(unreachable.headers['retry-after']).toBe('5');
    const keyless = await usageApp(
      new LiteLLMActivity({ baseUrl: litellm.url, masterKey: async () => undefined }),
    );
    const noKey = await usage('ana', `scope=team&name=${A}`, keyless);
    await keyless.close();
    expect(noKey.status).toBe(503);
    expect(noKey.body.error?.message).toContain('LITELLM_MASTER_KEY_FILE');
  });
});
