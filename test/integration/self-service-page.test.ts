// The self-service page in a real browser: Debian's chromium driven by playwright-core, against
// the page and the self-service API on the real API server (tenant RBAC from
// examples/tenant-rbac.yaml, the admission policy, the key operator). Until the sign-in
// plugin is merged, the browser is signed in with the test hook's cookie, which also checks
// the CSRF token the page must send (from GET /auth/session) on every state-changing call.
import { KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { launchChromium, type Chromium } from './support/chromium.ts';
import { DEFAULT_ADMIN_GROUPS } from '../../crds/admission/virtual-key-user.ts';
import type { ModelSubscription } from '../../crds/api/index.ts';
import { PersonKube } from '../../gateway/src/kube/person-kube.ts';
import { CONTENT_SECURITY_POLICY, pagePlugin } from '../../gateway/src/page/page-plugin.ts';
import { selfServicePlugin } from '../../gateway/src/self-service/self-service-plugin.ts';
import { LiteLLMActivity } from '../../gateway/src/usage/litellm-activity.ts';
import { CSV_COLUMNS } from '../../gateway/src/usage/usage-report.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { createAll } from './support/principals.ts';
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
  TEST_PRINCIPAL_COOKIE,
  TestPrincipals,
} from './support/test-principal.ts';

const X = 'granite-3-8b';
const rbacGroup = 'rbac.authorization.k8s.io';
const ADMINS = DEFAULT_ADMIN_GROUPS[0];
describe('self-service page in chromium', () => {
  const run = suffix();
  const labels = { [TEST_RUN_LABEL]: run };
  const tenant: Tenant = {
    namespace: `page-${run}`,
    group: `page-devs-${run}`,
    user: `pat-${run}`,
  };
  const A = tenant.namespace;
  const principals = new TestPrincipals();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let rbac: RbacObject[];
  let app: FastifyInstance;
  let kube: PersonKube;
  let base: string;
  let browser: Chromium | undefined;
  let context: BrowserContext;
  /** Console errors and CSP violations the page caused. */
  const problems: string[] = [];

  async function signedInPage(principal: string): Promise<Page> {
    await context.clearCookies();
    const url = new URL(base);
    await context.addCookies([
      { name: TEST_PRINCIPAL_COOKIE, value: principal, domain: url.hostname, path: '/' },
    ]);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    return page;
  }

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-page', models: [X] });
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
    rbac = await tenantRbac(run, [tenant]);
    rbac.push(
      ...[`llm-tenancy-view-${run}`, `llm-tenant-view-${run}`].map(
        (role) =>
          ({
            apiVersion: `${rbacGroup}/v1`,
            kind: 'ClusterRoleBinding',
            metadata: { name: `${role}-admins` },
            subjects: [{ apiGroup: rbacGroup, kind: 'Group', name: ADMINS }],
            roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: role },
          }) as RbacObject,
      ),
    );
    await createAll(kc, rbac);
    await objects.readyUser(tenant.user);
    await objects.teams.create(A, {
      namespaces: [A],
      models: [X],
      members: [{ user: tenant.user }],
    });
    await objects.subscription(A, 'x', { model: X });
    await vi.waitFor(async () => {
      const sub = (await objects.api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'modelsubscriptions',
        namespace: A,
        name: 'x',
      })) as ModelSubscription;
      expect(stateOf(sub)).toBe('Active True/Active');
    }, poll);
    await vi.waitFor(async () => {
      const team = await objects.teams.get(A);
      expect(team?.status?.models).toEqual([X]);
    }, poll);
    await rbacInEffect(kc, { user: tenant.user, groups: [tenant.group] }, A);
    principals.add('pat', person({ login: tenant.user, groups: [tenant.group] }));
    principals.add('master', masterKey(ADMINS));

    kube = new PersonKube(kc);
    app = Fastify();
    principals.install(app);
    await app.register(selfServicePlugin, {
      kube,
      keyLabels: labels,
      keyReadyTimeoutMs: 30_000,
      activity: new LiteLLMActivity({
        baseUrl: litellm.url,
        masterKey: async () => litellm.masterKey,
      }),
    });
    await app.register(pagePlugin, {});
    base = await app.listen({ host: '127.0.0.1', port: 0 });

    browser = await launchChromium();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await kube?.close();
    await operator?.stop();
    await litellm?.stop();
    const api = KubernetesObjectApi.makeApiClient(kc);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await api.delete(object).catch(() => {});
    }
  });

  it('creates a key, shows it once in a dialog, lists it with its spend, and revokes it', async () => {
    const page = await signedInPage('pat');
    const response = await page.goto(`${base}/ui/`);
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await expect
      .poll(() => page.getByText(`Signed in as ${tenant.user} (user)`).isVisible(), poll)
      .toBe(true);
    expect(await page.getByRole('link', { name: 'Sign out' }).getAttribute('href')).toBe(
      '/auth/logout',
    );
    // My teams and models.
    const models = page.getByRole('table', { name: `Models of team ${A}` });
    await models.waitFor();
    expect(await models.getByRole('row', { name: new RegExp(`${X} yes`) }).count()).toBe(1);

    // Create: the form is labelled; the team's usable model is a checkbox.
    await page.getByLabel('Namespace').selectOption(A);
    await page.getByLabel('Name (optional)').fill(EXAMPLE_KEY_SECRET);
    await page.getByRole('checkbox', { name: X }).check();
    await page.getByLabel('Budget in US dollars (optional)').fill('10');
    await page.getByRole('button', { name: 'Create key' }).click();

    const dialog = page.getByRole('dialog', { name: 'Your new key' });
    await dialog.waitFor();
    const value = await dialog.getByLabel('Key').inputValue();
    expect(value).toMatch(/^sk-/);
    expect(value).toBe(secretKey(await objects.secret(A, EXAMPLE_KEY_SECRET)));
    // Focus is in the dialog, on the key, so it can be copied at once.
    expect(await page.evaluate('document.activeElement?.id')).toBe('key-value');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement?.id')).toBe('create-submit');
    // Shown once: the value has left the page.
    expect(await page.locator('#key-value').inputValue()).toBe('');
    expect(await page.content()).not.toContain(value);

    const row = page.getByRole('table', { name: /Your personal API keys/ }).getByRole('row', {
      name: new RegExp(EXAMPLE_KEY_SECRET),
    });
    await row.waitFor();
    expect(await row.getByText('Ready').count()).toBe(1);
    const meter = row.getByRole('meter');
    expect(await meter.getAttribute('max')).toBe('10');
    expect(await meter.getAttribute('aria-label')).toBe('Spend: $0.00 of $10.00');

    await row.getByRole('button', { name: `Revoke key ${A}/${EXAMPLE_KEY_SECRET}` }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByText('You have no keys yet.').waitFor();
    await vi.waitFor(
      async () => expect(await objects.getKey(A, EXAMPLE_KEY_SECRET)).toBeUndefined(),
      poll,
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it("charts the team's and the key's spend, with the figures as a table and CSV and JSON downloads", async () => {
    await objects.key(A, 'usage-chart', { models: [X], user: tenant.user });
    await vi.waitFor(
      async () => expect(condition(await objects.getKey(A, 'usage-chart'))).toBe('True/KeyReady'),
      poll,
    );
    const key = (await objects.getKey(A, 'usage-chart'))!;
    const value = secretKey(await objects.secret(A, key.status!.secretName!));
    const call = await fetch(`${litellm.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${value}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: X, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(call.status).toBe(200);

    const page = await signedInPage('pat');
    await page.goto(`${base}/ui/`);
    const team = page.getByRole('region', { name: `Team ${A}` });
    const chart = team.getByRole('img', { name: new RegExp(`Spend of team ${A}`) });
    await chart.waitFor();
    expect(await chart.getAttribute('aria-labelledby')).toMatch(/-title .*-desc$/);
    expect(await team.locator('p').filter({ hasText: 'spent from' }).textContent()).toMatch(
      /^\$0\.00 spent from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d; no budget\.$/,
    );
    await team.getByText('Figures per day and model').click();
    const figures = team.getByRole('table', { name: `Usage of team ${A}, per day and model` });
    const today = new Date().toISOString().slice(0, 10);
    expect(
      await figures
        .getByRole('row', { name: new RegExp(`${today} ${X} \\$0\\.00 \\d+ \\d+ 1`) })
        .count(),
    ).toBe(1);
    await page
      .getByRole('region', { name: `Key ${A}/usage-chart` })
      .getByRole('img', { name: /Spend of key usage-chart/ })
      .waitFor();

    const csv = team.getByRole('link', { name: `Download the usage of Team ${A} as CSV` });
    const download = await context.request.get(
      new URL((await csv.getAttribute('href'))!, base).href,
    );
    expect(download.headers()['content-type']).toBe('text/csv; charset=utf-8');
    expect((await download.text()).split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const json = team.getByRole('link', { name: `The usage of Team ${A} as JSON` });
    const answer = await context.request.get(
      new URL((await json.getAttribute('href'))!, base).href,
    );
    expect(((await answer.json()) as { totals: { requests: number } }).totals.requests).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
    await objects.deleteKey(A, 'usage-chart');
    await vi.waitFor(
      async () => expect(await objects.getKey(A, 'usage-chart')).toBeUndefined(),
      poll,
    );
  });

  it('refuses a state-changing call without the CSRF token the page sends', async () => {
    const page = await signedInPage('pat');
    await page.goto(`${base}/ui/`);
    const status = await page.evaluate(async (namespace) => {
      const r = await fetch('/api/me/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ namespace }),
      });
      return r.status;
    }, A);
    expect(status).toBe(403);
    expect(
      await objects.api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'virtualkeys',
        namespace: A,
      }),
    ).toMatchObject({ items: [] });
    await page.close();
  });

  it('refuses inline script by its Content-Security-Policy', async () => {
    const page = await signedInPage('pat');
    await page.goto(`${base}/ui/`);
    // Evaluated in the page (a string: the test's TypeScript has no DOM types).
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
      return window.inlineRan === true;
    })()`);
    expect(ran).toBe(false);
    problems.length = 0;
    await page.close();
  });

  it('shows the admin overview to the master key', async () => {
    const page = await signedInPage('master');
    await page.goto(`${base}/ui/`);
    const teams = page.getByRole('table', { name: 'Teams' });
    await teams.waitFor();
    expect(await teams.getByRole('row', { name: new RegExp(A) }).count()).toBe(1);
    await page
      .getByRole('table', { name: 'Users' })
      .getByRole('row', { name: new RegExp(tenant.user) })
      .waitFor();
    expect(await page.getByRole('heading', { name: 'My keys', exact: true }).isVisible()).toBe(
      false,
    );
    await page.close();
  });

  it('offers sign-in when nobody is signed in', async () => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(`${base}/ui/`);
    const login = page.getByRole('link', { name: 'Sign in' });
    await login.waitFor();
    expect(await login.getAttribute('href')).toBe('/auth/login?returnTo=%2Fui%2F');
    await page.close();
  });
});
