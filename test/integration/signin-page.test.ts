// The whole sign-in → page → key flow in a real browser (Debian's chromium, playwright-core):
// the page's "Sign in" link, the test OpenID provider's login form, back on the page signed
// in, a key created and shown once, the key working at the gateway's /v1, listed, revoked, and
// sign-out ending the session. The gateway is started from environment variables as in a
// Deployment (the sign-in bed), acting for the person through impersonation under the chart's
// RBAC and examples/tenant-rbac.yaml; the User and Team controllers are the bed's, the
// ModelSubscription and VirtualKey controllers (and the routing they publish to the gateway's
// Redis prefix) are this file's, scoped to the bed's objects by its test-run label.
import { createServer } from 'node:net';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import type { BrowserContext, Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelSubscription, VirtualKey } from '../../crds/api/index.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { launchChromium, type Chromium } from './support/chromium.ts';
import { GATEWAY_URL, KeyObjects, secretKey } from './support/key-operator.ts';
import {
  startInProcessOperator,
  testOperatorConfig,
  type InProcessOperator,
} from './support/in-process-operator.ts';
import { createAll } from './support/principals.ts';
import { startSigninBed, type SigninBed } from './support/signin-bed.ts';
import { stateOf } from './support/subscription-operator.ts';
import {
  GROUP,
  poll,
  TEST_RUN_LABEL,
  testLiteLLMClient,
  VERSION,
} from './support/team-operator.ts';
import {
  EXAMPLE_KEY_SECRET,
  rbacInEffect,
  tenantRbac,
  type RbacObject,
  type Tenant,
} from './support/tenant-rbac.ts';

/** The bed's LiteLLM serves this model. */
const MODEL = 'granite';
/** A free loopback port: the provider must know the callback URL before the gateway starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('sign-in, the page and a key, end to end in chromium', () => {
  let bed: SigninBed;
  let tenant: Tenant;
  let outsider: string;
  let objects: KeyObjects;
  let rbac: RbacObject[];
  let keyOperator: InProcessOperator;
  let gateway: RunningGateway;
  let base: string;
  let browser: Chromium | undefined;
  let context: BrowserContext;
  /** Console errors and CSP violations the gateway's page caused. */
  const problems: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const client = {
      clientId: 'llm-tenancy-page',
      clientSecret: 'llm-tenancy-page-secret',
      redirectUri: `${base}/auth/callback`,
    };
    bed = await startSigninBed({ extraClients: [client], impersonate: true });
    const { run } = bed;
    tenant = { namespace: `login-${run}`, group: `login-devs-${run}`, user: `pia-${run}` };
    outsider = `oscar-${run}`;
    bed.oidc.users.set(tenant.user, {
      sub: tenant.user,
      email: `${tenant.user}@example.com`,
      name: 'Pia',
      groups: [tenant.group],
    });
    bed.oidc.users.set(outsider, {
      sub: outsider,
      email: `${outsider}@example.com`,
      name: 'Oscar',
      groups: [`outsiders-${run}`],
    });

    const labels = { [TEST_RUN_LABEL]: run };
    const selector = `${TEST_RUN_LABEL}=${run}`;
    // Subscriptions and keys only: the bed already runs the Team controller on these Teams.
    keyOperator = await startInProcessOperator(
      testOperatorConfig({
        resyncIntervalMs: 2_000,
        modelCatalogRefreshIntervalMs: 1_000,
        redisUrl: bed.redisUrl,
        routingPrefix: bed.prefix,
        routingCheckIntervalMs: 500,
        gatewayUrl: GATEWAY_URL,
      }),
      {
        kubeConfig: bed.admin,
        litellm: testLiteLLMClient(bed.litellm),
        registry: new Registry(),
        parts: ['subscriptions', 'virtual-keys'],
        labelSelectors: { Team: selector, ModelSubscription: selector, VirtualKey: selector },
        keySnapshot: false,
      },
    );

    objects = new KeyObjects(bed.admin, labels);
    await objects.namespace(tenant.namespace);
    rbac = await tenantRbac(run, [tenant]);
    await createAll(bed.admin, rbac);
    // The person's team by group, as sign-in provisions it.
    await objects.teams.create(tenant.namespace, {
      namespaces: [tenant.namespace],
      models: [MODEL],
      groups: [tenant.group],
    });
    await objects.subscription(tenant.namespace, 'granite', { model: MODEL });
    await vi.waitFor(async () => {
      const sub = (await objects.api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'modelsubscriptions',
        namespace: tenant.namespace,
        name: 'granite',
      })) as ModelSubscription;
      expect(stateOf(sub)).toBe('Active True/Active');
    }, poll);
    await vi.waitFor(async () => {
      const team = await objects.teams.get(tenant.namespace);
      expect(team?.status?.models).toEqual([MODEL]);
    }, poll);
    // USERNAME_PREFIX and GROUPS_PREFIX are empty: the login and groups are impersonated as is.
    await rbacInEffect(bed.admin, { user: tenant.user, groups: [tenant.group] }, tenant.namespace);

    gateway = await bed.startGateway(
      {
        PORT: String(port),
        PUBLIC_URL: base,
        OIDC_CLIENT_ID: client.clientId,
        OIDC_CLIENT_SECRET_FILE: bed.file('page-client-secret', client.clientSecret),
        OIDC_REDIRECT_URL: client.redirectUri,
      },
      { selfServiceKeyLabels: labels, keyReadyTimeoutMs: 30_000 },
    );
    expect(gateway.url).toBe(base);

    browser = await launchChromium();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await keyOperator?.stop();
    await bed?.stop();
    const api = bed && KubernetesObjectApi.makeApiClient(bed.admin);
    for (const object of rbac?.filter((o) => !o.metadata.namespace) ?? []) {
      await api.delete(object).catch(() => {});
    }
  });

  async function freshPage(): Promise<Page> {
    await context.clearCookies();
    return context.newPage();
  }

  /** From here on, console errors and CSP violations count (signed out, /api/me's 401 is one). */
  function watch(page: Page): void {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
  }

  /** From the page's "Sign in" link through the provider's form, back to the page. */
  async function signInFromPage(page: Page, login: string): Promise<void> {
    await page.goto(`${base}/ui/`);
    await page.getByRole('link', { name: 'Sign in' }).click();
    // oidc-provider's development login form (oidc-login.ts posts the same fields).
    await page.waitForURL((url) => url.href.startsWith(`${bed.oidc.issuer}/interaction/`));
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    // Then its consent prompt, if it asks.
    const consent = page.locator('input[name="prompt"][value="consent"]');
    const back = page.waitForURL(`${base}/ui/`);
    const asked = consent.waitFor({ state: 'attached' }).then(() => true);
    back.catch(() => {});
    asked.catch(() => {});
    if (await Promise.race([back.then(() => false), asked])) {
      await page.locator('button[type="submit"]').click();
    }
    await back;
  }

  it('signs in at the provider, creates a key that works, lists and revokes it, and signs out', async () => {
    const page = await freshPage();
    await signInFromPage(page, tenant.user);
    watch(page);
    await expect
      .poll(() => page.getByText(`Signed in as ${tenant.user} (user)`).isVisible(), poll)
      .toBe(true);
    // The login provisioned the User; the team came from the group.
    expect(
      (await objects.users.get(tenant.user)) as { status?: { teams?: string[] } },
    ).toMatchObject({ status: { teams: [tenant.namespace] } });
    const models = page.getByRole('table', { name: `Models of team ${tenant.namespace}` });
    await models.waitFor();
    expect(await models.getByRole('row', { name: new RegExp(`${MODEL} yes`) }).count()).toBe(1);

    await page.getByLabel('Namespace').selectOption(tenant.namespace);
    await page.getByLabel('Name (optional)').fill(EXAMPLE_KEY_SECRET);
    await page.getByRole('checkbox', { name: MODEL }).check();
    await page.getByRole('button', { name: 'Create key' }).click();

    const dialog = page.getByRole('dialog', { name: 'Your new key' });
    await dialog.waitFor();
    const value = await dialog.getByLabel('Key').inputValue();
    expect(value).toMatch(/^sk-/);
    expect(value).toBe(secretKey(await objects.secret(tenant.namespace, EXAMPLE_KEY_SECRET)));
    // The key is the person's, made through impersonation (the admission policy's user).
    expect((await objects.getKey(tenant.namespace, EXAMPLE_KEY_SECRET))?.spec).toMatchObject({
      user: tenant.user,
    });
    // It works at this gateway's /v1 (the routing the key operator published to its prefix).
    await vi.waitFor(async () => {
      const res = await fetch(`${base}/v1/models`, {
        headers: { authorization: `Bearer ${value}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { id: string }[] };
      expect(body.data.map((m) => m.id)).toEqual([MODEL]);
    }, poll);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.content()).not.toContain(value);

    const row = page.getByRole('table', { name: /Your personal API keys/ }).getByRole('row', {
      name: new RegExp(EXAMPLE_KEY_SECRET),
    });
    await row.waitFor();
    await row
      .getByRole('button', { name: `Revoke key ${tenant.namespace}/${EXAMPLE_KEY_SECRET}` })
      .click();
    await row.waitFor({ state: 'detached' });
    await page.getByText('You have no keys yet.').waitFor();
    await vi.waitFor(
      async () =>
        expect(await objects.getKey(tenant.namespace, EXAMPLE_KEY_SECRET)).toBeUndefined(),
      poll,
    );
    // Revoked is revoked at the gateway too.
    await vi.waitFor(async () => {
      const res = await fetch(`${base}/v1/models`, {
        headers: { authorization: `Bearer ${value}` },
      });
      expect(res.status).toBe(401);
    }, poll);

    expect(problems).toEqual([]);
    expect(await context.request.get(`${base}/api/me`).then((r) => r.status())).toBe(200);
    await page.getByRole('link', { name: 'Sign out' }).click();
    // The gateway's session is over, then the provider's (its logout page asks), then the page.
    await page.waitForURL((url) => url.href.startsWith(`${bed.oidc.issuer}/session/end`));
    expect(await context.request.get(`${base}/api/me`).then((r) => r.status())).toBe(401);
    await page.getByRole('button', { name: /sign me out/i }).click();
    await page.waitForURL(`${base}/ui/`);
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    expect(await page.getByText(/Signed in as/).count()).toBe(0);
    await page.close();
  });

  it('shows the refusal to a signed-in person who is not in the team', async () => {
    const page = await freshPage();
    await signInFromPage(page, outsider);
    await page.getByText(`Signed in as ${outsider} (user)`).waitFor();
    await page.getByText('You are in no team yet.').waitFor();
    // The form offers no namespace of a team the person is not in; a stale or hand-edited
    // form still sends one, and RBAC (through impersonation) refuses it.
    const select = page.getByLabel('Namespace');
    expect(await select.locator('option').count()).toBe(0);
    await page.evaluate(
      `document.getElementById('create-namespace').add(new Option('x', ${JSON.stringify(tenant.namespace)}, true, true))`,
    );
    await page.getByRole('button', { name: 'Create key' }).click();
    // RBAC's own words (who, what, where), after what the gateway could not do.
    await expect
      .poll(() => page.getByRole('alert').textContent(), poll)
      .toMatch(
        new RegExp(
          `^Kubernetes refused to .* as you: .*User "${outsider}" cannot create resource "virtualkeys" .*"${tenant.namespace}"`,
        ),
      );
    expect(await page.getByRole('dialog', { name: 'Your new key' }).isVisible()).toBe(false);
    const keys = (await objects.api.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'virtualkeys',
      namespace: tenant.namespace,
    })) as { items: VirtualKey[] };
    expect(keys.items.filter((k) => k.spec.user === outsider)).toEqual([]);
    await page.close();
  });
});
