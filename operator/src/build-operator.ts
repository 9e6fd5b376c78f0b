// The operator, wired once: a Manager with every controller and singleton loop the
// configuration turns on. main.ts runs it as deployed; the integration suites and benches run
// it in-process with what they inject (OperatorDeps): their LiteLLM client, logger, registry,
// clock, a label selector per kind so suites sharing an API server never reconcile each
// other's objects, and the parts of the operator a suite exercises.
//
//   users          User controller
//   teams          Team controller
//   group-sync     Team per OpenShift Group (also needs GROUP_SYNC_SELECTOR and Groups served)
//   subscriptions  ModelSubscription controller, with the model catalog's refresh
//   virtual-keys   VirtualKey controller, with the routing sync (and the catalog, for routes)
//   orphans        orphan collection (also needs ORPHAN_COLLECTION other than off)
//   spend          the spend sync: LiteLLM's spend and budgets into Team, User and VirtualKey
//                  status, every SPEND_SYNC_INTERVAL; budget alerts to Events, and to the
//                  webhook and e-mail through the alert outbox when configured
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { VirtualKey } from '../../crds/api/index.ts';
import { openAuditTrail, type AuditTrail } from '../../contracts/audit/audit-trail.ts';
import type { AuditSink } from '../../contracts/audit/audit-record.ts';
import { auditLiteLLMWrites } from './audit/litellm-audit.ts';
import type { OperatorConfig } from './config.ts';
import { groupSyncController } from './controllers/group-sync/controller.ts';
import { openShiftGroupsServed } from './controllers/group-sync/group-api.ts';
import { modelCatalogRefresher } from './controllers/model-subscription/catalog-refresh.ts';
import { modelSubscriptionController } from './controllers/model-subscription/controller.ts';
import { orphanCollection } from './controllers/orphans/controller.ts';
import type { AlertRetryPolicy } from './controllers/spend/alerts/alert-outbox.ts';
import { budgetAlertOutbox } from './controllers/spend/alerts/budget-alert-outbox.ts';
import { spendSync } from './controllers/spend/controller.ts';
import type { SpendCounterSink } from './controllers/spend/spend-counter-sink.ts';
import { selecting, VIRTUAL_KEY_TARGET, type KindSelectors } from './controllers/shared/kinds.ts';
import { teamController } from './controllers/team/controller.ts';
import { userController } from './controllers/user/controller.ts';
import { keyResyncSnapshot, virtualKeyController } from './controllers/virtual-key/controller.ts';
import { resolveInstallation } from './installation.ts';
import { LiteLLMClient } from './litellm/client.ts';
import type { MasterKeySource } from './litellm/config.ts';
import { ModelCatalog } from './litellm/model-catalog.ts';
import { KeyInventory } from './routing/key-inventory.ts';
import { catalogModelRoutes } from './routing/model-routes.ts';
import { RoutingPublisher } from './routing/routing-publisher.ts';
import { createRoutingRedis } from './routing/routing-redis.ts';
import { redisSpendCounters } from './controllers/spend/redis-spend-counters.ts';
import { routingSync } from './routing/routing-sync.ts';
import type { Clock } from './runtime/clock.ts';
import { EventRecorder } from './runtime/events.ts';
import type { Logger } from './runtime/logger.ts';
import { Manager } from './runtime/manager.ts';
import { SingletonLoop } from './runtime/singleton-loop.ts';

export const OPERATOR_NAME = 'llm-tenancy-operator';

export type OperatorPart =
  'users' | 'teams' | 'group-sync' | 'subscriptions' | 'virtual-keys' | 'orphans' | 'spend';

export const ALL_PARTS: readonly OperatorPart[] = [
  'users',
  'teams',
  'group-sync',
  'subscriptions',
  'virtual-keys',
  'orphans',
  'spend',
];

export interface OperatorDeps {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** The master key, when buildOperator makes the LiteLLM client (no `litellm`). */
  masterKey?: MasterKeySource;
  /** Default: a client for config.litellmUrl with `masterKey`, audited (below). */
  litellm?: LiteLLMClient;
  /**
   * Where the default client's writes are audited. Default: the AUDIT_LOG stream. An injected
   * `litellm` brings its own onWrite hook.
   */
  audit?: AuditSink;
  /** Default: a new one with Node's default process metrics. */
  registry?: Registry;
  /** The routing config's client. Default: one for config.redisUrl, closed by stop(). */
  redis?: Redis;
  /** The VirtualKey controller's clock (key expiry, rotation, resync). Default: the system's. */
  clock?: Clock;
  /** Default: every part the configuration turns on. */
  parts?: readonly OperatorPart[];
  /** Only objects of each kind with these labels. Default: all. */
  labelSelectors?: KindSelectors;
  /** Default: asked of the API server (discovery). */
  openShiftGroupsServed?: boolean;
  /** Overrides config.healthPort; false serves nothing. */
  healthPort?: number | false;
  /** Install SIGTERM/SIGINT handlers. Default true. */
  handleSignals?: boolean;
  /** Events' reportingInstance. Default: POD_NAME, else the host name. */
  reportingInstance?: string;
  /** How long stopping waits for in-flight reconciles. Default: each controller's (30 s). */
  stopGracePeriodMs?: number;
  /** Least time between prunes of routing records. Default: the routing sync's (60 s). */
  routingPruneIntervalMs?: number;
  /** VirtualKey resyncs from a /key/list snapshot (default true; false: a /key/info each). */
  keySnapshot?: boolean;
  /** Where the spend sync reconciles the gateway's spend counters. Default: nowhere. */
  spendCounters?: SpendCounterSink;
  /** Retries of budget alert deliveries. Default: the outbox's (8 attempts, 1 s to 5 min). */
  alertRetry?: AlertRetryPolicy;
}

export interface Operator {
  manager: Manager;
  installationId: string;
  /** Present with the subscriptions or virtual-keys part. */
  catalog: ModelCatalog | undefined;
  /** Present with the virtual-keys part. */
  routing: RoutingPublisher | undefined;
  /** Runs until stop() or SIGTERM/SIGINT (resolves) or a fatal error (rejects). */
  run(): Promise<void>;
  /** Stops the manager, then closes what buildOperator opened (the Redis client). */
  stop(): Promise<void>;
}

/**
 * Builds the operator. Throws ConfigError when the installation id cannot be resolved, and the
 * API server's error when it cannot be reached (OpenShift Group discovery).
 */
export async function buildOperator(config: OperatorConfig, deps: OperatorDeps): Promise<Operator> {
  const { logger } = deps;
  const parts = new Set(deps.parts ?? ALL_PARTS);
  const selectors = deps.labelSelectors ?? {};
  let registry = deps.registry;
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  let ownAudit: AuditTrail | undefined;
  const litellm =
    deps.litellm ??
    new LiteLLMClient({
      baseUrl: config.litellmUrl,
      masterKey: requiredMasterKey(deps),
      registry,
      logger,
      onWrite: auditLiteLLMWrites(
        deps.audit ??
          (ownAudit = openAuditTrail(config, OPERATOR_NAME, {
            log: logger.child({ component: 'audit-webhook' }),
            registry,
          })),
      ),
    });
  const election = config.leaderElection;
  const manager = new Manager({
    kubeConfig: deps.kubeConfig,
    name: OPERATOR_NAME,
    logger,
    registry,
    healthPort: deps.healthPort ?? config.healthPort,
    handleSignals: deps.handleSignals,
    leaderElection: election && {
      leaseName: election.leaseName,
      leaseNamespace: election.namespace,
      identity: election.identity,
      leaseDurationMs: election.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs,
    },
  });
  // Controllers read and write through the manager's client: one keep-alive pool, and it
  // refuses writes once the lease is lost.
  const kube = manager.kube;
  const recorder = new EventRecorder(kube, {
    reportingController: 'llmtenancy.dev/operator',
    reportingInstance: deps.reportingInstance ?? (process.env.POD_NAME || hostname()),
    logger,
  });
  const groupsServed =
    deps.openShiftGroupsServed ?? (await openShiftGroupsServed(deps.kubeConfig, logger));
  const installation = await resolveInstallation(config.installationId, deps.kubeConfig);
  logger.info({ installation }, 'installation id stamped into LiteLLM objects');
  const installationId = installation.id;
  const shared = {
    kube,
    informers: manager.informers,
    litellm,
    logger,
    recorder,
    installationId,
    stopGracePeriodMs: deps.stopGracePeriodMs,
  };
  const leaderOnly = { leaderOnly: true };

  if (parts.has('users')) {
    manager.addController(
      userController({
        ...shared,
        resyncIntervalMs: config.resyncIntervalMs,
        // Its Team cache too: a User's memberships are read from the Teams it sees.
        labelSelector: selectors.User,
      }),
    );
  }
  if (parts.has('teams')) {
    manager.addController(
      teamController({
        ...shared,
        resyncIntervalMs: config.resyncIntervalMs,
        groupGracePeriodMs: config.groupGracePeriodMs,
        openShiftGroupsAvailable: groupsServed,
        teamLabelSelector: selectors.Team,
      }),
    );
  }
  let catalog: ModelCatalog | undefined;
  if (parts.has('subscriptions') || parts.has('virtual-keys')) {
    catalog = new ModelCatalog({
      litellm,
      refreshIntervalMs: config.modelCatalogRefreshIntervalMs,
      logger,
    });
    manager.add(new SingletonLoop(manager, modelCatalogRefresher({ catalog })), leaderOnly);
  }
  if (parts.has('subscriptions')) {
    manager.addController(
      modelSubscriptionController({
        ...shared,
        catalog: catalog!,
        labelSelector: selectors.ModelSubscription,
        teamLabelSelector: selectors.Team,
      }),
    );
  }

  // Keys, and the gateway's routing config in Redis (written only by the leader): key records
  // from the VirtualKey controller, model routes from the catalog through the routing sync.
  let routing: RoutingPublisher | undefined;
  let ownRedis: Redis | undefined;
  /** The gateway's Redis (routing config, spend counters): one client for every part. */
  const gatewayRedis = (): Redis =>
    deps.redis ?? (ownRedis ??= createRoutingRedis(config.redisUrl, logger));
  // A resync reads LiteLLM's keys in pages, not one /key/info each (key-snapshot.ts); the
  // spend sync's listing of the same pages feeds it, so a resync lists nothing of its own.
  const keySnapshot =
    parts.has('virtual-keys') && (deps.keySnapshot ?? true)
      ? keyResyncSnapshot({
          litellm,
          installationId,
          resyncIntervalMs: config.resyncIntervalMs,
          clock: deps.clock,
        })
      : undefined;
  if (parts.has('virtual-keys')) {
    const redis = gatewayRedis();
    const virtualKeys = manager.informers.informerFor<VirtualKey>(
      selecting(VIRTUAL_KEY_TARGET, selectors.VirtualKey),
    ).store;
    const inventory = new KeyInventory(virtualKeys, () => manager.informers.hasSynced());
    routing = new RoutingPublisher({
      redis,
      prefix: config.routingPrefix,
      logger,
      registry,
      knowsEveryKey: () => inventory.complete,
    });
    manager.addController(
      virtualKeyController({
        ...shared,
        routing,
        gatewayUrl: config.gatewayUrl,
        resyncIntervalMs: config.resyncIntervalMs,
        labelSelector: selectors.VirtualKey,
        teamLabelSelector: selectors.Team,
        clock: deps.clock,
        inventory,
        keySnapshot,
      }),
    );
    const sync = routingSync({
      informers: manager.informers,
      publisher: routing,
      redis,
      virtualKeys,
      inventory,
      models: catalogModelRoutes(catalog!),
      checkIntervalMs: config.routingCheckIntervalMs,
      pruneIntervalMs: deps.routingPruneIntervalMs,
    });
    manager.add(new SingletonLoop(manager, sync), leaderOnly);
  }
  if (parts.has('group-sync') && config.groupSyncSelector !== undefined) {
    if (groupsServed) {
      manager.addController(
        groupSyncController({
          ...shared,
          labelSelector: config.groupSyncSelector,
          groupGracePeriodMs: config.groupGracePeriodMs,
        }),
      );
    } else {
      logger.warn('GROUP_SYNC_SELECTOR is set, but this cluster has no OpenShift Groups: ignored');
    }
  }
  if (parts.has('orphans') && config.orphanCollection !== 'off') {
    const collection = orphanCollection({
      manager,
      litellm,
      mode: config.orphanCollection,
      installationId,
      intervalMs: config.orphanCollectionIntervalMs,
      labelSelectors: selectors,
    });
    manager.add(new SingletonLoop(manager, collection), leaderOnly);
  }

  if (parts.has('spend')) {
    const alerts = budgetAlertOutbox(config.budgetAlerts, {
      manager,
      labelSelectors: selectors,
      retry: deps.alertRetry,
    });
    // On every replica: a former leader still delivers what it decided.
    if (alerts) manager.add(alerts, { leaderOnly: false });
    const sync = spendSync({
      manager,
      litellm,
      intervalMs: config.spendSyncIntervalMs,
      labelSelectors: selectors,
      // The gateway's counters follow LiteLLM's figures; Redis is in every install (routing).
      counters: deps.spendCounters ?? redisSpendCounters(gatewayRedis(), config.routingPrefix),
      recorder,
      alertThresholds: config.budgetAlertThresholds,
      alerts,
      keySnapshot,
    });
    manager.add(new SingletonLoop(manager, sync), leaderOnly);
  }

  return {
    manager,
    installationId,
    catalog,
    routing,
    run: () => manager.start(),
    async stop() {
      await manager.stop();
      ownRedis?.disconnect();
      await ownAudit?.shutdown();
    },
  };
}

function requiredMasterKey(deps: OperatorDeps): MasterKeySource {
  if (deps.masterKey === undefined)
    throw new Error('buildOperator: masterKey or litellm is needed');
  return deps.masterKey;
}
