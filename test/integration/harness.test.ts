// The test bed itself: every later suite trusts that these servers are real and behave like
// the ones in production (RBAC on, our CRDs served, Redis forgetting everything on restart,
// a real OIDC provider that logs in the users a test declares).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, CustomObjectsApi, VersionApi } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { installCRDs } from '../harness/crds.ts';
import { impersonating, kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { startOidcProvider, type OidcServer } from '../harness/oidc.ts';
import { authorizeAs } from '../harness/oidc-login.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';

const run = promisify(execFile);

describe('kube-apiserver', () => {
  it('reports version v1.37.x', async () => {
    const version = await kubeConfigFromInject().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.37\.\d+$/);
  });

  it('creates a namespace', async () => {
    const name = await uniqueNamespace('harness');
    const ns = await kubeConfigFromInject().makeApiClient(CoreV1Api).readNamespace({ name });
    expect(ns.metadata?.name).toBe(name);
    expect(ns.status?.phase).toBe('Active');
  });

  it("serves a user.openshift.io/v1 Group stand-in with OpenShift's layout (users at the top level)", async () => {
    const groups = kubeConfigFromInject().makeApiClient(CustomObjectsApi);
    const at = { group: 'user.openshift.io', version: 'v1', plural: 'groups' };
    const name = `ml-${Date.now()}`;
    await groups.createClusterCustomObject({
      ...at,
      body: {
        apiVersion: 'user.openshift.io/v1',
        kind: 'Group',
        metadata: { name },
        users: ['alice'],
      },
    });
    const read = await groups.getClusterCustomObject({ ...at, name });
    expect(read.users).toEqual(['alice']);
  });

  it('enforces RBAC: an impersonated user without bindings may not list secrets', async () => {
    const namespace = await uniqueNamespace('rbac');
    const asAlice = impersonating(kubeConfigFromInject(), 'alice').makeApiClient(CoreV1Api);
    const error = await asAlice.listNamespacedSecret({ namespace }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(403);
    expect(String((error as ApiException<unknown>).body)).toContain('cannot list resource');
  });

  it('serves our CRDs to kubectl (installed and in discovery before any test ran)', async () => {
    const args = [
      '--kubeconfig',
      inject('kubeconfigPath'),
      'api-resources',
      '--api-group=llmtenancy.dev',
      '-o',
      'name',
    ];
    const { stdout } = await run(inject('kubectlPath'), args);
    expect(stdout.trim().split('\n').sort()).toEqual([
      'modelsubscriptions.llmtenancy.dev',
      'teams.llmtenancy.dev',
      'users.llmtenancy.dev',
      'virtualkeys.llmtenancy.dev',
    ]);
  });
});

describe('installCRDs', () => {
  // A CRD of this test's own, so the shared ones are never touched while other files use them.
  const widgets = (shortNames: string[]) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.harness.llmtenancy.dev' },
    spec: {
      group: 'harness.llmtenancy.dev',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      ],
    },
  });
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-crds-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('installs the CRDs of a multi-document file, and replaces them on a second run', async () => {
    const file = join(dir, 'widgets.yaml');
    const notACrd = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignored' } };
    await writeFile(file, [notACrd, widgets(['wd'])].map((d) => stringify(d)).join('---\n'));
    const kc = kubeConfigFromInject();
    const first = await installCRDs(kc, [file]);
    expect(first.map((c) => c.metadata?.name)).toEqual(['widgets.harness.llmtenancy.dev']);

    await writeFile(file, stringify(widgets(['wd', 'wdg'])));
    await installCRDs(kc, [file]);
    // The replaced spec is stored at once; discovery may take a moment to show it.
    const discovery = kc.makeApiClient(CustomObjectsApi);
    const shortNames = async () => {
      const list = await discovery.getAPIResources({
        group: 'harness.llmtenancy.dev',
        version: 'v1',
      });
      return list.resources.find((r) => r.name === 'widgets')?.shortNames;
    };
    await expect.poll(shortNames, { timeout: 10_000 }).toEqual(['wd', 'wdg']);
  });
});

describe('redis-server', () => {
  it('answers PING on the provided URL', async () => {
    const client = new Redis(inject('redisUrl'), { lazyConnect: true });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  describe('restart', () => {
    // A server of its own: restarting the shared one would disturb other test files.
    let dir: string;
    let redis: RedisServer;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-redis-test-'));
      redis = await startRedis({ dir });
    });
    afterAll(async () => {
      await redis?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('comes back on the same port, empty, and clients reconnect', async () => {
      const client = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 20 });
      client.on('error', () => {}); // expected while the server is down
      try {
        await client.connect();
        await client.set('k', 'v');
        expect(await client.get('k')).toBe('v');

        await redis.restart();

        expect(await client.ping()).toBe('PONG');
        expect(await client.get('k')).toBeNull();
      } finally {
        client.disconnect();
      }
    });

    it('flushes without a restart', async () => {
      const client = new Redis(redis.url, { lazyConnect: true });
      try {
        await client.connect();
        await client.set('k', 'v');
        await redis.flush();
        expect(await client.dbsize()).toBe(0);
      } finally {
        client.disconnect();
      }
    });
  });
});

describe('OIDC provider', () => {
  it('serves a discovery document whose issuer is the provided one', async () => {
    const issuer = inject('oidcIssuer');
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(issuer);
    expect(doc.authorization_endpoint).toBe(`${issuer}/auth`);
    expect(doc.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'email', 'profile', 'groups']),
    );
    expect(doc.claims_supported).toEqual(
      expect.arrayContaining(['sub', 'email', 'name', 'groups']),
    );
  });

  it('knows the registered client and rejects others', async () => {
    const authorize = (clientId: string) => {
      const url = new URL(`${inject('oidcIssuer')}/auth`);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: inject('oidcRedirectUri'),
        response_type: 'code',
        scope: 'openid',
      }).toString();
      return fetch(url, { redirect: 'manual' });
    };
    const ok = await authorize(inject('oidcClientId'));
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toMatch(/^\/interaction\//);
    const unknown = await authorize('someone-else');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_client' });
  });

  describe('login with accounts from the in-memory user table', () => {
    // A provider of its own: the shared one lives in vitest's main process, where a test
    // file cannot reach its user table.
    let oidc: OidcServer;
    beforeAll(async () => {
      oidc = await startOidcProvider({
        users: [
          { sub: 'alice', email: 'alice@example.com', name: 'Alice', groups: ['ml-research'] },
        ],
      });
    });
    afterAll(() => oidc?.stop());

    const loginUrl = () => {
      const url = new URL(`${oidc.issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: oidc.client.clientId,
        redirect_uri: oidc.client.redirectUri,
        response_type: 'code',
        scope: 'openid email profile groups',
        state: 'xyz',
      }).toString();
      return url;
    };

    it('issues a code, tokens and userinfo with sub, email, name and groups', async () => {
      const callback = await authorizeAs(loginUrl(), 'alice');
      expect(callback.origin + callback.pathname).toBe(oidc.client.redirectUri);
      expect(callback.searchParams.get('state')).toBe('xyz');
      const code = callback.searchParams.get('code');
      expect(code).toBeTruthy();

      const token = await fetch(`${oidc.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa(`${oidc.client.clientId}:${oidc.client.clientSecret}`)}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: code!,
          redirect_uri: oidc.client.redirectUri,
        }),
      });
      expect(token.status).toBe(200);
      const tokens = (await token.json()) as { access_token: string; id_token: string };
      expect(tokens.id_token.split('.')).toHaveLength(3);

      const me = await fetch(`${oidc.issuer}/me`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(await me.json()).toEqual({
        sub: 'alice',
        email: 'alice@example.com',
        email_verified: true,
        name: 'Alice',
        groups: ['ml-research'],
      });
    });

    it('sees changes to the table at the next login, and refuses unknown users', async () => {
      oidc.users.set('bob', { sub: 'bob', groups: [] });
      await expect(authorizeAs(loginUrl(), 'bob')).resolves.toBeInstanceOf(URL);
      await expect(authorizeAs(loginUrl(), 'mallory')).rejects.toThrow(/mallory failed/);
    });
  });
});
