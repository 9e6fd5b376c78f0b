// What the VirtualKey suites share: an operator running the Team, ModelSubscription and
// VirtualKey controllers and the routing sync against the shared API server, a LiteLLM test
// server of the suite's own, and the real Redis under a prefix of the suite's own; objects
// are labelled with the suite's run label so suites running side by side never reconcile
// each other's objects. Plus small typed helpers to make and read the objects involved.
import type { AlertRetryPolicy } from '../../../operator/src/controllers/spend/alerts/alert-outbox.ts';
import type { OperatorConfig } from '../../../operator/src/config.ts';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { ModelSubscription, Team, VirtualKey } from '../../../crds/api/index.ts';
import { routingKeys } from '../../../contracts/routing/redis-layout.ts';
import { KeyPolicy } from '../../../contracts/routing/schema.ts';
import type { LiteLLMClientOptions } from '../../../operator/src/litellm/client.ts';
import type { ModelCatalog } from '../../../operator/src/litellm/model-catalog.ts';
import type { Logger } from '../../../operator/src/runtime/logger.ts';
import { hashKey } from '../../../operator/src/litellm/hash.ts';
import type { RoutingPublisher } from '../../../operator/src/routing/routing-publisher.ts';
import { systemClock, type Clock } from '../../../operator/src/runtime/clock.ts';
import { setCondition } from '../../../operator/src/runtime/conditions.ts';
import type { Manager } from '../../../operator/src/runtime/manager.ts';
import type { LiteLLMTestServer } from '../../litellm-server/server.ts';
import { ClusterObjects } from './cluster-objects.ts';
import { startInProcessOperator, testOperatorConfig } from './in-process-operator.ts';
import { TEST_INSTALLATION_ID } from './installation.ts';
import { GROUP, testLiteLLMClient, VERSION } from './team-operator.ts';

export const GATEWAY_URL = 'http://gateway.test/v1';

export interface KeyOperatorOptions {
  kc: KubeConfig;
  litellm: LiteLLMTestServer;
  redisUrl: string;
  /** Routing records go under this Redis prefix. */
  prefix: string;
  /** Label selector of this suite's Teams, ModelSubscriptions and VirtualKeys. */
  labelSelector: string;
  resyncIntervalMs?: number;
  routingCheckIntervalMs?: number;
  clock?: Clock;
  /** Stamped into LiteLLM objects. Default TEST_INSTALLATION_ID. */
  installationId?: string;
  /**
   * Resyncs read LiteLLM's keys in pages (key-snapshot.ts), as main.ts has them. Default
   * false: the suites written before it count a /key/info per key and resync.
   */
  keySnapshot?: boolean;
  /** Also run the spend sync, a pass this often. Default: no spend sync. */
  spendSyncIntervalMs?: number;
  /** Webhook and e-mail delivery of budget alerts (with the spend sync). Default: none. */
  budgetAlerts?: OperatorConfig['budgetAlerts'];
  alertRetry?: AlertRetryPolicy;
  /** Told of every LiteLLM write (the audit trail's hook). Default: nothing. */
  onWrite?: LiteLLMClientOptions['onWrite'];
  /** The operator's logger and metrics registry. Default: silent, a registry of its own. */
  logger?: Logger;
  registry?: Registry;
}

export interface KeyOperator {
  manager: Manager;
  publisher: RoutingPublisher;
  catalog: ModelCatalog;
  stop(): Promise<void>;
}

export async function startKeyOperator(options: KeyOperatorOptions): Promise<KeyOperator> {
  const config = testOperatorConfig({
    resyncIntervalMs: options.resyncIntervalMs ?? 2_000,
    installationId: options.installationId ?? TEST_INSTALLATION_ID,
    modelCatalogRefreshIntervalMs: 1_000,
    redisUrl: options.redisUrl,
    routingPrefix: options.prefix,
    routingCheckIntervalMs: options.routingCheckIntervalMs ?? 500,
    gatewayUrl: GATEWAY_URL,
    ...(options.spendSyncIntervalMs ? { spendSyncIntervalMs: options.spendSyncIntervalMs } : {}),
    ...(options.budgetAlerts ? { budgetAlerts: options.budgetAlerts } : {}),
  });
  const selector = options.labelSelector;
  const operator = await startInProcessOperator(config, {
    kubeConfig: options.kc,
    litellm: testLiteLLMClient(options.litellm, options.onWrite),
    registry: options.registry ?? new Registry(),
    ...(options.logger && { logger: options.logger }),
    clock: options.clock,
    parts: [
      'teams',
      'subscriptions',
      'virtual-keys',
      ...(options.spendSyncIntervalMs ? (['spend'] as const) : []),
    ],
    labelSelectors: { Team: selector, ModelSubscription: selector, VirtualKey: selector },
    routingPruneIntervalMs: 5_000,
    keySnapshot: options.keySnapshot ?? false,
    alertRetry: options.alertRetry,
  });
  return {
    manager: operator.manager,
    publisher: operator.routing!,
    catalog: operator.catalog!,
    stop: () => operator.stop(),
  };
}

/** A clock whose time can be moved forward (timers still run in real time). */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  setTimer(fn: () => void, ms: number) {
    return systemClock.setTimer(fn, ms);
  }
}

/** Typed access to the objects a key suite makes, all labelled for its operator. */
export class KeyObjects {
  readonly api: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly labels: Record<string, string>;
  readonly teams: ClusterObjects<Team>;
  readonly users: ClusterObjects<unknown>;

  constructor(kc: KubeConfig, labels: Record<string, string>) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.labels = labels;
    this.teams = new ClusterObjects<Team>(this.api, 'Team', 'teams', labels);
    this.users = new ClusterObjects(this.api, 'User', 'users', labels);
  }

  async namespace(name: string): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }

  /** A User marked Ready, as the User controller would once it is in LiteLLM. */
  async readyUser(name: string): Promise<void> {
    const user = (await this.users.create(name, { email: `${name}@example.com` })) as {
      status?: { conditions?: never[] };
    };
    await this.api.replaceClusterCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      name,
      body: {
        ...user,
        status: {
          conditions: setCondition(undefined, {
            type: 'Ready',
            status: 'True',
            reason: 'Synced',
            message: '',
          }),
        },
      },
    });
  }

  async subscription(namespace: string, name: string, spec: Record<string, unknown>) {
    return (await this.api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'modelsubscriptions',
      namespace,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'ModelSubscription',
        metadata: { name, namespace, labels: this.labels },
        spec,
      },
    })) as ModelSubscription;
  }

  async deleteSubscription(namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'modelsubscriptions',
      namespace,
      name,
    });
  }

  async key(namespace: string, name: string, spec: Record<string, unknown>): Promise<VirtualKey> {
    return (await this.api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'virtualkeys',
      namespace,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VirtualKey',
        metadata: { name, namespace, labels: this.labels },
        spec,
      },
    })) as VirtualKey;
  }

  async getKey(namespace: string, name: string): Promise<VirtualKey | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'virtualkeys',
        namespace,
        name,
      })) as VirtualKey;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async patchKey(namespace: string, name: string, patch: Record<string, unknown>) {
    return (await this.api.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: 'virtualkeys', namespace, name, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as VirtualKey;
  }

  async deleteKey(namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'virtualkeys',
      namespace,
      name,
    });
  }

  async secret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }
}

/** The API key in a key Secret. */
export function secretKey(secret: V1Secret | undefined, dataKey = 'OPENAI_API_KEY'): string {
  const data = secret?.data?.[dataKey];
  if (!data) throw new Error(`no ${dataKey} in Secret ${secret?.metadata?.name}`);
  return Buffer.from(data, 'base64').toString('utf8');
}

/** "True/KeyReady": the condition as a short string for polling. */
export function condition(
  object:
    { status?: { conditions?: { type: string; status: string; reason: string }[] } } | undefined,
  type = 'Ready',
): string | undefined {
  const c = object?.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : undefined;
}

/** The LiteLLM keys whose metadata names this VirtualKey, live (not deleted). */
export function litellmKeysOf(server: LiteLLMTestServer, namespace: string, name: string) {
  return [...server.store.keys.values()].filter(
    (k) =>
      (k.metadata as Record<string, unknown>)['llmtenancy.dev/owner'] ===
      `VirtualKey/${namespace}/${name}`,
  );
}

/** The routing record of a key value (or hash), parsed; undefined when absent. */
export async function routingRecord(
  redis: Redis,
  prefix: string,
  keyOrHash: string,
): Promise<KeyPolicy | undefined> {
  const hash = keyOrHash.startsWith('sk-') ? hashKey(keyOrHash) : keyOrHash;
  const json = await redis.hget(routingKeys(prefix).keys, hash);
  return json === null ? undefined : KeyPolicy.parse(JSON.parse(json));
}
