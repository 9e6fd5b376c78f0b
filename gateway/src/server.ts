// Starts a gateway: Redis connections, the routing view, the rate limiter, the upstream pool,
// the public app and the management app; and stops it gracefully: readiness goes false, new
// requests get 503, running ones (streams included) get SHUTDOWN_GRACE to finish, then the
// rest are cut and the connections closed.
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildGatewayApp } from './app.ts';
import { KeyReader } from './auth/key-from-request.ts';
import type { GatewayConfig } from './config.ts';
import { FallbackRateLimiter } from './limits/fallback-rate-limiter.ts';
import { LocalRateLimiter } from './limits/local-rate-limiter.ts';
import { RedisRateLimiter } from './limits/redis-rate-limiter.ts';
import { buildManagementApp } from './management.ts';
import { createGatewayMetrics, type GatewayMetrics } from './observability/gateway-metrics.ts';
import { createGatewayLogger, GATEWAY_COMPONENT } from './observability/logger.ts';
import { createUpstream } from './proxy/upstream.ts';
import { connectGatewayRedis } from './redis-connections.ts';
import { RoutingView } from './routing/routing-view.ts';
import type { IdentityProvider } from './signin/identity-provider.ts';
import { MasterKey } from './signin/master-key.ts';
import { OidcLogin } from './signin/oidc-login.ts';
import { OpenShiftLogin } from './signin/openshift-login.ts';
import type { PeopleSideOptions } from './signin/people-side.ts';
import { SessionStore } from './signin/session-store.ts';
import { FIELD_MANAGER, UserProvisioner } from './signin/user-provisioner.ts';
import { TeamCreator } from './signin/team-creator.ts';
import { PersonKube } from './kube/person-kube.ts';
import { pagePlugin } from './page/page-plugin.ts';
import { selfServicePlugin } from './self-service/self-service-plugin.ts';
import { LiteLLMActivity } from './usage/litellm-activity.ts';
import { openAuditTrail } from '../../contracts/audit/audit-trail.ts';
import type { AuditSink } from '../../contracts/audit/audit-record.ts';

export interface RunningGateway {
  /** http://host:port: the OpenAI base URL is `${url}/v1`. */
  url: string;
  managementUrl: string;
  app: FastifyInstance;
  view: RoutingView;
  metrics: GatewayMetrics;
  /** True once the routing config was read and Redis answers (false after timeoutMs). */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  logger?: Logger;
  /** How often the routing meta is compared with the announcements. Default 5 s. */
  routingCheckIntervalMs?: number;
  /** process metrics (off in tests running several gateways in one process). Default true. */
  defaultMetrics?: boolean;
  /** Where Users are provisioned at login. Default: in-cluster, else KUBECONFIG. */
  kubeConfig?: KubeConfig;
  /** Labels on the Users and Teams sign-in creates (tests scope their operators by one). */
  provisionedUserLabels?: Record<string, string>;
  /**
   * Plugins registered in the people side's scope besides the self-service API (/api) and its
   * page (/ui), which it serves whenever someone can sign in (SSO or the master key).
   */
  peopleRoutes?: readonly FastifyPluginAsync[];
  /** POST /api/me/keys: how long it waits for the new key. Default 20 s. */
  keyReadyTimeoutMs?: number;
  /** Labels on the VirtualKeys the self-service API creates (tests scope their operators by one). */
  selfServiceKeyLabels?: Record<string, string>;
  /** How often the master key file is checked for a rotation. Default 2 s. */
  masterKeyCheckIntervalMs?: number;
  /** Tests: the gateway's clock this far ahead when it validates ID tokens (seconds). */
  oidcClockSkewSeconds?: number;
  /** Tests: how long a `kubectl llm login` one-time code lives. Default 60 s. */
  cliCodeTtlMs?: number;
  /** Where people's actions are recorded. Default: the AUDIT_LOG stream (config.auditLog). */
  audit?: AuditSink;
}

export async function startGateway(
  config: GatewayConfig,
  options: StartGatewayOptions = {},
): Promise<RunningGateway> {
  const logger = options.logger ?? createGatewayLogger(config.logLevel);
  const redis = connectGatewayRedis(config.redisUrl, logger);
  let cacheSize = () => ({ found: 0, absent: 0 });
  const metrics = createGatewayMetrics({
    defaultMetrics: options.defaultMetrics ?? true,
    cacheSize: () => cacheSize(),
  });
  const view = new RoutingView({
    redis: redis.commands,
    subscriber: redis.subscriber,
    prefix: config.routingPrefix,
    negativeTtlMs: config.negativeCacheTtlMs,
    checkIntervalMs: options.routingCheckIntervalMs ?? 5_000,
    logger,
    metrics,
  });
  cacheSize = () => view.cache.size;
  // A parallel slot outlives no request: the longest a request may take upstream.
  const leaseMs = config.upstreamHeadersTimeoutMs + config.upstreamIdleTimeoutMs;
  const limiter = new FallbackRateLimiter({
    redis: new RedisRateLimiter({
      redis: redis.commands,
      prefix: config.routingPrefix,
      leaseMs,
      logger,
    }),
    local: new LocalRateLimiter({ leaseMs }),
    mode: config.limitsWhenRedisDown,
    isRedisReady: () => redis.commands.status === 'ready',
    logger,
  });
  const upstream = createUpstream({
    url: config.litellmUrl,
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
  });
  let closing = false;
  const ownAudit = options.audit
    ? undefined
    : openAuditTrail(config, GATEWAY_COMPONENT, {
        log: logger.child({ component: 'audit-webhook' }),
        registry: metrics.registry,
      });
  const audit = options.audit ?? ownAudit!;
  const { peopleSide, personKube } = await buildPeopleSide(
    config,
    options,
    redis.commands,
    logger,
    audit,
  );
  const app = buildGatewayApp({
    peopleSide,
    view,
    limiter,
    upstream,
    metrics,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    tpmReserveDefaultOutputTokens: config.tpmReserveDefaultOutputTokens,
    bodyTimeoutMs: config.bodyTimeoutMs,
    trustedProxies: config.trustedProxies,
    keyReader: new KeyReader(config.litellmKeyHeader),
    isClosing: () => closing,
  });
  const redisUp = () => redis.commands.status === 'ready';
  const management = buildManagementApp({
    registry: metrics.registry,
    checks: [
      { name: 'routing-config-loaded', ok: () => view.loaded },
      { name: 'not-stopping', ok: () => !closing },
    ],
    degradations: [
      { name: 'redis', ok: redisUp },
      { name: 'routing-config-current', ok: () => view.current },
    ],
  });
  metrics.redisUp.set(0);
  redis.commands.on('ready', () => metrics.redisUp.set(1));
  redis.commands.on('close', () => metrics.redisUp.set(0));

  await view.start();
  await app.listen({ port: config.port, host: config.host });
  await management.listen({ port: config.managementPort, host: config.host });
  const url = baseUrl(app, config.host);
  const managementUrl = baseUrl(management, config.host);
  logger.info({ url, managementUrl }, 'gateway listening');

  const close = async () => {
    if (closing) return;
    closing = true;
    logger.info({ graceMs: config.shutdownGraceMs }, 'stopping: draining running requests');
    const grace = setTimeout(() => {
      logger.warn('shutdown grace over: cutting the requests still running');
      app.server.closeAllConnections();
    }, config.shutdownGraceMs);
    grace.unref();
    await app.close();
    clearTimeout(grace);
    await limiter.flush();
    view.stop();
    await management.close();
    await upstream.close();
    await personKube?.close();
    await redis.close();
    await ownAudit?.shutdown();
    logger.info('gateway stopped');
  };

  return {
    url,
    managementUrl,
    app,
    view,
    metrics,
    async ready(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (view.loaded && view.current) return true;
        await view.check({ afterGap: false });
        if (view.loaded && view.current) return true;
        await new Promise((r) => setTimeout(r, 25));
      }
      return view.loaded && view.current;
    },
    close,
  };
}

async function buildPeopleSide(
  config: GatewayConfig,
  options: StartGatewayOptions,
  redis: Redis,
  logger: Logger,
  audit: AuditSink,
): Promise<{ peopleSide: PeopleSideOptions; personKube: PersonKube | undefined }> {
  const signin = config.signin;
  let masterKey: MasterKey | undefined;
  if (signin.masterKeyFile) {
    masterKey = new MasterKey({
      file: signin.masterKeyFile,
      logger,
      ...(options.masterKeyCheckIntervalMs !== undefined && {
        checkIntervalMs: options.masterKeyCheckIntervalMs,
      }),
    });
    await masterKey.load();
  }
  let identityProvider: IdentityProvider | undefined;
  let provisioner: UserProvisioner | undefined;
  // One KubeConfig, loaded once: provisioning and the people side then share its one
  // connection pool (a pool per KubeConfig object).
  let loaded: KubeConfig | undefined = options.kubeConfig;
  const kubeConfig = (): KubeConfig => {
    if (!loaded) {
      loaded = new KubeConfig();
      loaded.loadFromDefault();
    }
    return loaded;
  };
  if (signin.login) {
    identityProvider =
      signin.provider === 'openshift'
        ? new OpenShiftLogin(signin.login, logger)
        : new OidcLogin(signin.login, logger, {
            ...(options.oidcClockSkewSeconds !== undefined && {
              clockSkewSeconds: options.oidcClockSkewSeconds,
            }),
          });
    const teamCreator =
      signin.teamGroups &&
      new TeamCreator({
        kubeConfig: kubeConfig(),
        groups: signin.teamGroups,
        fieldManager: FIELD_MANAGER,
        logger,
        audit,
        labels: options.provisionedUserLabels,
      });
    provisioner = new UserProvisioner({
      kubeConfig: kubeConfig(),
      teamCreator,
      autoProvision: signin.autoProvision,
      readyTimeoutMs: signin.userReadyTimeoutMs,
      logger,
      audit,
      ...(options.provisionedUserLabels && { labels: options.provisionedUserLabels }),
    });
  }
  // Nobody can be a principal without a login or the master key: no API client is built then
  // (and the chart gives the gateway no ServiceAccount token).
  const routes: FastifyPluginAsync[] = [];
  let personKube: PersonKube | undefined;
  if (signin.login || masterKey) {
    const kube = new PersonKube(kubeConfig());
    personKube = kube;
    // Usage is read from LiteLLM with the master key: served only where the gateway has it.
    const activity =
      masterKey &&
      new LiteLLMActivity({ baseUrl: config.litellmUrl, masterKey: () => masterKey.current() });
    routes.push(
      (app) =>
        selfServicePlugin(app, {
          kube,
          ...(activity && { activity }),
          audit,
          ...(options.keyReadyTimeoutMs !== undefined && {
            keyReadyTimeoutMs: options.keyReadyTimeoutMs,
          }),
          ...(options.selfServiceKeyLabels && { keyLabels: options.selfServiceKeyLabels }),
        }),
      (app) => pagePlugin(app, {}),
    );
  }
  routes.push(...(options.peopleRoutes ?? []));
  const peopleSide: PeopleSideOptions = {
    config: signin,
    sessions: new SessionStore({
      redis,
      prefix: config.routingPrefix,
      idleLifetimeMs: signin.sessions.idleLifetimeMs,
      absoluteLifetimeMs: signin.sessions.absoluteLifetimeMs,
      ...(options.cliCodeTtlMs !== undefined && { cliCodeTtlMs: options.cliCodeTtlMs }),
    }),
    logger,
    identityProvider,
    provisioner,
    masterKey,
    routes,
    audit,
  };
  return { peopleSide, personKube };
}

function baseUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
}
