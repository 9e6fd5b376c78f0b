// What the ModelSubscription suites share: an operator running the Team controller, the model
// catalog refresh and the ModelSubscription controller against the shared API server and a
// LiteLLM test server of the suite's own, scoped by the suite's run label (Teams and
// subscriptions alike) so suites running side by side never reconcile each other's objects;
// and typed helpers for namespaces and subscriptions.
import {
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { API_VERSION, GROUP, VERSION, type ModelSubscription } from '../../../crds/api/index.ts';
import { modelCatalogRefresher } from '../../../operator/src/controllers/model-subscription/catalog-refresh.ts';
import {
  MODEL_SUBSCRIPTION_CONTROLLER,
  modelSubscriptionController,
} from '../../../operator/src/controllers/model-subscription/controller.ts';
import { teamController } from '../../../operator/src/controllers/team/controller.ts';
import { ModelCatalog } from '../../../operator/src/litellm/model-catalog.ts';
import type { Controller } from '../../../operator/src/runtime/controller.ts';
import { EventRecorder } from '../../../operator/src/runtime/events.ts';
import { Manager } from '../../../operator/src/runtime/manager.ts';
import type { LiteLLMTestServer } from '../../litellm-server/server.ts';
import { testLiteLLMClient } from './team-operator.ts';
import { TEST_INSTALLATION_ID } from './installation.ts';

export interface SubscriptionOperatorOptions {
  kc: KubeConfig;
  litellm: LiteLLMTestServer;
  /** Label selector of the suite's Teams and ModelSubscriptions. */
  labelSelector: string;
  catalogRefreshIntervalMs: number;
  resyncIntervalMs?: number;
}

export interface SubscriptionOperator {
  manager: Manager;
  catalog: ModelCatalog;
  /** The ModelSubscription controller. */
  controller: Controller;
  stop(): Promise<void>;
}

export async function startSubscriptionOperator(
  options: SubscriptionOperatorOptions,
): Promise<SubscriptionOperator> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const manager = new Manager({
    kubeConfig: options.kc,
    leaderElection: false,
    healthPort: false,
    handleSignals: false,
    logger,
  });
  const recorder = new EventRecorder(manager.kube, {
    reportingController: 'llmtenancy.dev/operator',
    logger,
  });
  const litellm = testLiteLLMClient(options.litellm);
  const shared = {
    kube: manager.kube,
    informers: manager.informers,
    litellm,
    logger,
    recorder,
    installationId: TEST_INSTALLATION_ID,
  };
  manager.addController(
    teamController({
      ...shared,
      resyncIntervalMs: options.resyncIntervalMs ?? 2_000,
      groupGracePeriodMs: 60_000,
      openShiftGroupsAvailable: false,
      teamLabelSelector: options.labelSelector,
    }),
  );
  const catalog = new ModelCatalog({
    litellm,
    refreshIntervalMs: options.catalogRefreshIntervalMs,
    logger,
  });
  manager.addController(modelCatalogRefresher({ catalog }));
  const controller = manager.addController(
    modelSubscriptionController({
      ...shared,
      catalog,
      labelSelector: options.labelSelector,
      teamLabelSelector: options.labelSelector,
    }),
  );
  const running = manager.start();
  running.catch(() => {});
  const deadline = Date.now() + 30_000;
  while (!manager.readiness().ready) {
    if (Date.now() > deadline)
      throw new Error(`operator not ready: ${manager.readiness().reasons.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { manager, catalog, controller, stop: () => manager.stop() };
}

/** True when the controller has nothing queued, waiting or running. */
export function idle(controller: Controller): boolean {
  const { queue } = controller;
  return queue.len() === 0 && queue.waitingLen() === 0 && queue.processingLen() === 0;
}

/** controller_runtime_reconcile_total of one controller, all results summed. */
export async function reconcileCount(
  manager: Manager,
  controller = MODEL_SUBSCRIPTION_CONTROLLER,
): Promise<number> {
  const metric = manager.metrics.registry.getSingleMetric('controller_runtime_reconcile_total');
  const { values } = await metric!.get();
  return values
    .filter((v) => v.labels.controller === controller)
    .reduce((sum, v) => sum + v.value, 0);
}

/** "Active True/Active": phase and Ready as one short string for polling. */
export function stateOf(subscription: ModelSubscription | undefined): string | undefined {
  if (!subscription) return undefined;
  const ready = subscription.status?.conditions?.find((c) => c.type === 'Ready');
  return `${subscription.status?.phase} ${ready ? `${ready.status}/${ready.reason}` : '-'}`;
}

/** Namespaces and ModelSubscriptions in the shared API server, labelled for the suite. */
export class Subscriptions {
  readonly #api: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #events: EventsV1Api;
  readonly #labels: Record<string, string>;

  constructor(kc: KubeConfig, labels: Record<string, string>) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#events = kc.makeApiClient(EventsV1Api);
    this.#labels = labels;
  }

  async namespace(name: string): Promise<void> {
    await this.#core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }

  async create(
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
  ): Promise<ModelSubscription> {
    await this.namespace(namespace);
    return (await this.#api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'modelsubscriptions',
      namespace,
      body: {
        apiVersion: API_VERSION,
        kind: 'ModelSubscription',
        metadata: { name, namespace, labels: this.#labels },
        spec,
      },
    })) as ModelSubscription;
  }

  async get(namespace: string, name: string): Promise<ModelSubscription | undefined> {
    try {
      return (await this.#api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'modelsubscriptions',
        namespace,
        name,
      })) as ModelSubscription;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** A JSON merge patch (null deletes a field). */
  async patch(
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
  ): Promise<ModelSubscription> {
    return (await this.#api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: 'modelsubscriptions',
        namespace,
        name,
        body: patch,
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as ModelSubscription;
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.#api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'modelsubscriptions',
      namespace,
      name,
    });
  }

  /** "Type Reason: note" of the Events about a subscription, oldest first. */
  async events(namespace: string, name: string): Promise<string[]> {
    const events = await this.#events.listNamespacedEvent({ namespace });
    return events.items
      .filter((e) => e.regarding?.kind === 'ModelSubscription' && e.regarding.name === name)
      .sort((a, b) => new Date(a.eventTime).getTime() - new Date(b.eventTime).getTime())
      .map((e) => `${e.type} ${e.reason}: ${e.note}`);
  }
}
