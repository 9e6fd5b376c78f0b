// `npm run operator` (node operator/src/main.ts): the operator process. Reads its
// configuration from the environment (config.ts), connects to Kubernetes (KUBECONFIG or the
// pod's service account) and LiteLLM, registers the controllers on a Manager and runs until
// SIGTERM/SIGINT (exit 0) or a fatal error: bad configuration, a CRD that is not installed,
// leadership lost (exit 1, and Kubernetes restarts the pod clean). On a lost lease the
// manager has already refused further writes and aborted every reconcile; the exit does not
// wait for them, as controller-runtime's does not.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError, describeConfig, parseConfig, type OperatorConfig } from './config.ts';
import { groupSyncController } from './controllers/group-sync/controller.ts';
import { openShiftGroupsServed } from './controllers/group-sync/group-api.ts';
import { modelCatalogRefresher } from './controllers/model-subscription/catalog-refresh.ts';
import { modelSubscriptionController } from './controllers/model-subscription/controller.ts';
import { orphanCollector } from './controllers/orphans/controller.ts';
import { teamController } from './controllers/team/controller.ts';
import { userController } from './controllers/user/controller.ts';
import { virtualKeyController } from './controllers/virtual-key/controller.ts';
import { VIRTUAL_KEY_TARGET } from './controllers/virtual-key/targets.ts';
import { KeyInventory } from './routing/key-inventory.ts';
import { catalogModelRoutes } from './routing/model-routes.ts';
import { createRoutingRedis } from './routing/routing-redis.ts';
import { RoutingPublisher } from './routing/routing-publisher.ts';
import { routingSync } from './routing/routing-sync.ts';
import type { VirtualKey } from '../../crds/api/index.ts';
import { resolveInstallation } from './installation.ts';
import { loadKubeConfig, podNamespace } from './kube-config.ts';
import { LiteLLMClient } from './litellm/client.ts';
import { masterKeyFromFile, type MasterKeySource } from './litellm/config.ts';
import { ModelCatalog } from './litellm/model-catalog.ts';
import { EventRecorder } from './runtime/events.ts';
import { createLogger } from './runtime/logger.ts';
import { Manager } from './runtime/manager.ts';

const NAME = 'llm-tenancy-operator';

/** Start-up problems are for a human reading `kubectl logs`: one plain line each. */
function fail(message: string): number {
  process.stderr.write(`${NAME}: ${message}\n`);
  return 1;
}

function masterKeyOf(config: OperatorConfig): MasterKeySource {
  const key = config.masterKey;
  if (key.from === 'env') return key.value;
  try {
    return masterKeyFromFile(key.path);
  } catch (err) {
    throw new ConfigError([
      `LITELLM_MASTER_KEY_FILE: cannot read the master key from ${key.path}: ${(err as Error).message}`,
    ]);
  }
}

async function main(): Promise<number> {
  let config: OperatorConfig;
  let masterKey: MasterKeySource;
  let kube: ReturnType<typeof loadKubeConfig>;
  try {
    config = parseConfig(process.env, {
      hostname: hostname(),
      podNamespace: podNamespace(),
      identitySuffix: randomBytes(3).toString('hex'),
    });
    masterKey = masterKeyOf(config);
    kube = loadKubeConfig();
  } catch (err) {
    return fail((err as Error).message);
  }

  const logger = createLogger({ level: config.logLevel });
  logger.info(
    { config: { ...describeConfig(config), kubeconfig: kube.source } },
    'operator configuration',
  );
  const { kubeConfig } = kube;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const litellm = new LiteLLMClient({ baseUrl: config.litellmUrl, masterKey, registry, logger });
  const election = config.leaderElection;
  const manager = new Manager({
    kubeConfig,
    name: NAME,
    logger,
    registry,
    healthPort: config.healthPort,
    leaderElection: election && {
      leaseName: election.leaseName,
      leaseNamespace: election.namespace,
      identity: election.identity,
      leaseDurationMs: election.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs,
    },
  });
  // Controllers write through the manager's KubeConfig: it refuses writes once the lease is lost.
  const writer = manager.kubeConfig;
  const recorder = new EventRecorder(writer, {
    reportingController: 'llmtenancy.dev/operator',
    reportingInstance: process.env.POD_NAME || hostname(),
    logger,
  });

  let groupsServed: boolean;
  let installationId: string;
  try {
    groupsServed = await openShiftGroupsServed(kubeConfig, logger);
    const installation = await resolveInstallation(config.installationId, kubeConfig);
    installationId = installation.id;
    logger.info({ installation }, 'installation id stamped into LiteLLM objects');
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    logger.error({ err }, 'cannot reach the Kubernetes API server');
    return 1;
  }
  const shared = {
    kubeConfig: writer,
    informers: manager.informers,
    litellm,
    logger,
    recorder,
    installationId,
  };
  manager.addController(userController({ ...shared, resyncIntervalMs: config.resyncIntervalMs }));
  manager.addController(
    teamController({
      ...shared,
      resyncIntervalMs: config.resyncIntervalMs,
      groupGracePeriodMs: config.groupGracePeriodMs,
      openShiftGroupsAvailable: groupsServed,
    }),
  );
  const catalog = new ModelCatalog({
    litellm,
    refreshIntervalMs: config.modelCatalogRefreshIntervalMs,
    logger,
  });
  manager.addController(modelCatalogRefresher({ catalog }));
  manager.addController(modelSubscriptionController({ ...shared, catalog }));

  // Keys, and the gateway's routing config in Redis (written only by the leader): key records
  // from the VirtualKey controller, model routes from the catalog through the routing sync.
  const redis = createRoutingRedis(config.redisUrl, logger);
  const virtualKeys = manager.informers.informerFor<VirtualKey>(VIRTUAL_KEY_TARGET).store;
  const inventory = new KeyInventory(virtualKeys, () => manager.informers.hasSynced());
  const routing = new RoutingPublisher({
    redis,
    prefix: config.routingPrefix,
    logger,
    registry,
    knowsEveryKey: () => inventory.complete,
  });
  const keys = virtualKeyController({
    ...shared,
    routing,
    gatewayUrl: config.gatewayUrl,
    resyncIntervalMs: config.resyncIntervalMs,
    inventory,
    keySnapshot: true, // a resync reads LiteLLM's keys in pages, not one /key/info each
  });
  manager.addController(keys);
  routingSync({
    manager,
    publisher: routing,
    redis,
    virtualKeys,
    inventory,
    models: catalogModelRoutes(catalog),
    checkIntervalMs: config.routingCheckIntervalMs,
  });
  if (config.groupSyncSelector !== undefined) {
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
  if (config.orphanCollection !== 'off') {
    orphanCollector({
      manager,
      litellm,
      mode: config.orphanCollection,
      installationId,
      intervalMs: config.orphanCollectionIntervalMs,
    });
  }

  try {
    await manager.start(); // resolves after SIGTERM/SIGINT, once everything has stopped
    return 0;
  } catch {
    return 1; // the manager has logged why
  } finally {
    redis.disconnect();
  }
}

// Exit explicitly: idle keep-alive sockets (LiteLLM, the API server) must not hold the
// process open after a clean stop.
process.exit(await main());
