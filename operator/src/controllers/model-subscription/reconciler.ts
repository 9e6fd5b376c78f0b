// The ModelSubscription reconciler: writes the status that grants (or withholds) a model.
//
// A request is a subscription's namespace and name. Everything comes from memory: the Team
// cache (who claims the namespace, what it approves) and the model catalog (what LiteLLM
// serves); no LiteLLM call, no finalizer (the subscription has no LiteLLM object of its own).
// The Team controller turns the result into LiteLLM: it gives a Team the models of its
// Active subscriptions (team/active-models.ts) and re-reconciles when a phase changes, also
// when a subscription is deleted.
//
//   decide   subscription-decision.ts (phase, Ready, team, modelInfo)
//   status   /status, field manager llm-tenancy-modelsubscription; nothing when unchanged
//   event    when the phase or Ready's reason changes
//
// A converged subscription costs one cache read and no write; nothing is requeued: Team
// edits, catalog changes and the subscription's own edits are what re-check it.
import type { ModelSubscription } from '../../../../crds/api/index.ts';
import type { ModelCatalog } from '../../litellm/model-catalog.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder, EventSpec } from '../../runtime/events.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { MODEL_SUBSCRIPTION_RESOURCE } from '../shared/kinds.ts';
import { litellmFailure } from '../shared/litellm-failure.ts';
import {
  decideSubscription,
  type CatalogView,
  type SubscriptionDecision,
} from './subscription-decision.ts';
import { READY, subscriptionStatus } from './subscription-status.ts';
import { claimingTeams, type SubscriptionStores } from './watches.ts';

export const MODEL_SUBSCRIPTION_FIELD_MANAGER = 'llm-tenancy-modelsubscription';

/**
 * Thrown after recording ModelCatalogUnavailable, so the subscription is retried with
 * backoff; the catalog's first answer re-checks it anyway.
 */
export class ModelCatalogUnavailableError extends Error {
  override readonly name = 'ModelCatalogUnavailableError';
}

export interface ModelSubscriptionReconcilerOptions {
  kube: KubeClient;
  stores: SubscriptionStores;
  catalog: Pick<ModelCatalog, 'state' | 'get' | 'lastError'>;
  recorder: Pick<EventRecorder, 'record'>;
  clock?: Clock;
}

export class ModelSubscriptionReconciler implements Reconciler {
  readonly #stores: SubscriptionStores;
  readonly #catalog: Pick<ModelCatalog, 'state' | 'get' | 'lastError'>;
  readonly #recorder: Pick<EventRecorder, 'record'>;
  readonly #status: StatusWriter;
  readonly #clock: Clock;

  constructor(options: ModelSubscriptionReconcilerOptions) {
    this.#stores = options.stores;
    this.#catalog = options.catalog;
    this.#recorder = options.recorder;
    this.#status = new StatusWriter(options.kube, {
      fieldManager: MODEL_SUBSCRIPTION_FIELD_MANAGER,
    });
    this.#clock = options.clock ?? systemClock;
  }

  async reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    const subscription = this.#stores.subscriptions.getByName(request.name, request.namespace);
    if (!subscription) return {}; // deleted: the Team controller drops the model
    const first = this.#decide(subscription);
    if (!first) {
      context.log.debug('waiting for the model catalog to load');
      return {};
    }
    const now = new Date(this.#clock.now());
    let decision = first;
    const written = await this.#status.update(
      MODEL_SUBSCRIPTION_RESOURCE,
      subscription,
      (current) => {
        // After a 409, decide again from the fresh object (its spec may have moved on).
        decision = this.#decide(current) ?? first;
        return subscriptionStatus(current, decision, now);
      },
    );
    context.log.debug({ outcome: written.outcome, phase: decision.phase }, 'status');
    if (written.outcome === 'updated') this.#recordChange(subscription, decision);

    if (decision.ready.reason === 'ModelCatalogUnavailable') {
      throw new ModelCatalogUnavailableError(decision.ready.message, {
        cause: this.#catalog.lastError,
      });
    }
    return {};
  }

  #decide(subscription: ModelSubscription): SubscriptionDecision | undefined {
    const namespace = subscription.metadata.namespace!;
    return decideSubscription({
      namespace,
      model: subscription.spec.model,
      suspended: subscription.spec.suspended ?? false,
      teams: claimingTeams(this.#stores, namespace).map((team) => ({
        name: team.metadata.name!,
        models: team.spec.models,
      })),
      catalog: this.#catalogView(subscription.spec.model),
      currentPhase: subscription.status?.phase,
    });
  }

  #catalogView(model: string): CatalogView {
    switch (this.#catalog.state) {
      case 'loading':
        return { state: 'loading' };
      case 'unavailable': {
        const err = this.#catalog.lastError;
        const message =
          litellmFailure(err)?.message ?? (err instanceof Error ? err.message : String(err));
        return { state: 'unavailable', message };
      }
      case 'loaded':
        return { state: 'loaded', facts: this.#catalog.get(model) };
    }
  }

  /** One Event per change of phase or of Ready's reason. */
  #recordChange(before: ModelSubscription, decision: SubscriptionDecision): void {
    const reasonBefore = getCondition(before.status?.conditions, READY)?.reason;
    if (before.status?.phase === decision.phase && reasonBefore === decision.ready.reason) return;
    void this.#recorder.record(before, eventFor(decision));
  }
}

function eventFor(decision: SubscriptionDecision): EventSpec {
  const note = decision.ready.message;
  switch (decision.ready.reason) {
    case 'Active':
      return { type: 'Normal', reason: 'Activated', note };
    case 'Suspended':
      return { type: 'Normal', reason: 'Suspended', note };
    default:
      return { type: 'Warning', reason: decision.ready.reason, note };
  }
}
