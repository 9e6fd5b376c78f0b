// What the sign-in integration tests share: a real OpenID provider (test/harness/oidc.ts) with
// the test's people, the shared API server and Redis, an operator running the User and Team
// controllers against a LiteLLM test server of the file's own (scoped by a test-run label),
// the gateway's ServiceAccount with the chart's RBAC for Users (a real token: what the
// gateway may do is RBAC's decision), gateways started from environment variables as in a
// Deployment, and a browser's side of the login (cookies, redirects, the provider's form).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { USER_NAME_EXTRA } from '../../../crds/admission/virtual-key-user.ts';
import type { AuditRecord } from '../../../contracts/audit/audit-record.ts';
import { parseGatewayConfig } from '../../../gateway/src/config.ts';
import { createGatewayLogger } from '../../../gateway/src/observability/logger.ts';
import {
  startGateway,
  type RunningGateway,
  type StartGatewayOptions,
} from '../../../gateway/src/server.ts';
import { authorizeAs } from '../../harness/oidc-login.ts';
import {
  startOidcProvider,
  type OidcClient,
  type OidcServer,
  type OidcUser,
} from '../../harness/oidc.ts';
import { uniqueNamespace, kubeConfigFromInject } from '../../harness/kube.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../../litellm-server/server.ts';
import {
  startInProcessOperator,
  testOperatorConfig,
  type InProcessOperator,
} from './in-process-operator.ts';
import { serviceAccountKubeConfig } from './principals.ts';
import { fastLiteLLMClient, TEST_RUN_LABEL } from './user-operator.ts';

export const SESSION_COOKIE = 'llmt_session';
export const LOGIN_COOKIE = 'llmt_login';

export interface SigninBed {
  run: string;
  admin: KubeConfig;
  /** The gateway ServiceAccount's own credentials. */
  gatewayKc: KubeConfig;
  oidc: OidcServer;
  litellm: LiteLLMTestServer;
  operator: InProcessOperator;
  redisUrl: string;
  prefix: string;
  dir: string;
  logs: string[];
  /** The audit records of every gateway the bed started. */
  audit: AuditRecord[];
  /** A file with `content` (a secret) in the bed's directory. */
  file(name: string, content: string): string;
  /** The env of a gateway signing in with the bed's provider (`env` overrides). */
  env(env?: Record<string, string>): Record<string, string>;
  startGateway(
    env?: Record<string, string>,
    options?: StartGatewayOptions,
  ): Promise<RunningGateway>;
  stop(): Promise<void>;
}

export async function startSigninBed(
  options: {
    users?: OidcUser[];
    groupGracePeriodMs?: number;
    extraClients?: OidcClient[];
    /** Also the chart's impersonation rules, so the self-service API can act as people. */
    impersonate?: boolean;
    /** Also the chart's `create` on Teams (gateway.signin.autoCreateTeams). */
    createTeams?: boolean;
  } = {},
): Promise<SigninBed> {
  const run = randomBytes(3).toString('hex');
  const admin = kubeConfigFromInject();
  const dir = mkdtempSync(join(tmpdir(), 'signin-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const oidc = await startOidcProvider({
    users: options.users ?? [],
    ...(options.extraClients && { extraClients: options.extraClients }),
  });
  const litellm = await startLiteLLMServer({ masterKey: `sk-master-${run}`, models: ['granite'] });
  const selector = `${TEST_RUN_LABEL}=${run}`;
  const operator = await startInProcessOperator(
    testOperatorConfig({
      resyncIntervalMs: 60_000,
      groupGracePeriodMs: options.groupGracePeriodMs ?? 0,
    }),
    {
      kubeConfig: admin,
      litellm: fastLiteLLMClient(litellm),
      parts: ['users', 'teams'],
      labelSelectors: { User: selector, Team: selector },
    },
  );
  const gatewayKc = await gatewayServiceAccount(admin, run, {
    impersonate: options.impersonate ?? false,
    createTeams: options.createTeams ?? false,
  });
  const redisUrl = inject('redisUrl');
  const prefix = `signin-${run}:`;
  const logs: string[] = [];
  const audit: AuditRecord[] = [];
  const sessionSecret = file('session-secret', randomBytes(48).toString('base64'));
  const clientSecret = file('client-secret', oidc.client.clientSecret);
  const gateways: RunningGateway[] = [];
  const env = (extra: Record<string, string> = {}) => ({
    HOST: '127.0.0.1',
    PORT: '0',
    MANAGEMENT_PORT: '0',
    LOG_LEVEL: 'debug',
    SHUTDOWN_GRACE: '2s',
    LITELLM_URL: litellm.url,
    REDIS_URL: redisUrl,
    ROUTING_PREFIX: prefix,
    SIGNIN_PROVIDER: 'oidc',
    SIGNIN_ALLOW_HTTP: 'true',
    PUBLIC_URL: 'http://127.0.0.1',
    OIDC_REDIRECT_URL: oidc.client.redirectUri,
    OIDC_ISSUER_URL: oidc.issuer,
    OIDC_CLIENT_ID: oidc.client.clientId,
    OIDC_CLIENT_SECRET_FILE: clientSecret,
    OIDC_USERNAME_CLAIM: 'sub',
    SESSION_SECRET_FILE: sessionSecret,
    SESSION_COOKIE_SECURE: 'false',
    USER_READY_TIMEOUT: '20s',
    ...extra,
  });
  return {
    run,
    admin,
    gatewayKc,
    oidc,
    litellm,
    operator,
    redisUrl,
    prefix,
    dir,
    logs,
    audit,
    file,
    env,
    async startGateway(extra = {}, startOptions = {}) {
      const config = parseGatewayConfig(env(extra));
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString('utf8'));
          done();
        },
      });
      const gateway = await startGateway(config, {
        logger: createGatewayLogger(config.logLevel, sink),
        defaultMetrics: false,
        kubeConfig: gatewayKc,
        provisionedUserLabels: { [TEST_RUN_LABEL]: run },
        audit: { write: (record) => audit.push(record) },
        ...startOptions,
      });
      gateways.push(gateway);
      return gateway;
    },
    async stop() {
      await Promise.allSettled(gateways.map((g) => g.close()));
      await operator.stop();
      await Promise.allSettled([oidc.stop(), litellm.stop()]);
    },
  };
}

/**
 * The gateway's ServiceAccount with the chart's rules (charts/llm-tenancy/templates/gateway-rbac.yaml)
 * on Users and Teams, with `impersonate` its impersonation rules too, with `createTeams` its
 * `create` on Teams (a real token).
 */
async function gatewayServiceAccount(
  admin: KubeConfig,
  run: string,
  { impersonate, createTeams }: { impersonate: boolean; createTeams: boolean },
): Promise<KubeConfig> {
  const namespace = await uniqueNamespace(`signin-gw-${run}`, admin);
  const { kubeConfig, username } = await serviceAccountKubeConfig(admin, namespace, 'gateway');
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const name = `llm-tenancy-gateway-${run}`;
  await rbac.createClusterRole({
    body: {
      metadata: { name },
      rules: [
        {
          apiGroups: ['llmtenancy.dev'],
          resources: ['users'],
          verbs: ['get', 'list', 'watch', 'create', 'patch'],
        },
        { apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['get', 'list'] },
        ...(createTeams
          ? [{ apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['create'] }]
          : []),
        ...(impersonate
          ? [
              { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
              {
                apiGroups: ['authentication.k8s.io'],
                resources: [`userextras/${USER_NAME_EXTRA}`],
                verbs: ['impersonate'],
              },
            ]
          : []),
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'User', name: username }],
    },
  });
  return kubeConfig;
}

/** A browser: cookies by name, for the gateway's origin. */
export class Browser {
  readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(cookie))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, {
      redirect: 'manual',
      ...init,
      headers: { cookie: this.header(), ...(init.headers as Record<string, string>) },
    });
    this.store(res);
    return res;
  }
}

/** Starts a login at the gateway and signs in at the provider; returns the callback URL it sends back. */
export async function startLogin(
  gateway: RunningGateway,
  browser: Browser,
  login: string,
  returnTo = '/ui/',
): Promise<URL> {
  const res = await browser.fetch(
    `${gateway.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
  );
  if (res.status !== 302)
    throw new Error(`/auth/login answered ${res.status}: ${await res.text()}`);
  return authorizeAs(res.headers.get('location')!, login);
}

/** The gateway's answer to the browser coming back with `callback`. */
export function finishLogin(
  gateway: RunningGateway,
  browser: Browser,
  callback: URL,
  init: RequestInit = {},
): Promise<Response> {
  return browser.fetch(`${gateway.url}/auth/callback${callback.search}`, init);
}

/** A full login; throws unless the gateway signs the person in. */
export async function signIn(
  gateway: RunningGateway,
  login: string,
  browser = new Browser(),
): Promise<Browser> {
  const res = await finishLogin(gateway, browser, await startLogin(gateway, browser, login));
  if (res.status !== 303)
    throw new Error(`the callback answered ${res.status}: ${await res.text()}`);
  return browser;
}

export async function sessionOf(gateway: RunningGateway, browser: Browser) {
  const res = await browser.fetch(`${gateway.url}/auth/session`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function customObjects(kc: KubeConfig): CustomObjectsApi {
  return kc.makeApiClient(CustomObjectsApi);
}

export const silentLogger = pino({ level: 'silent' });
