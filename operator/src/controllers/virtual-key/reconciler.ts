// The VirtualKey reconciler: a key value in a Secret, the same key in LiteLLM with the models
// the key may reach now, and the gateway's record of it in Redis.
//
// The managed reconciler (../shared/managed/managed-reconciler.ts) does the part every kind
// shares: finalizer, failures as conditions and Events, the jittered resync. What is a
// VirtualKey's own is here and in key-client.ts:
//
//   access    key-access.ts, from the caches: team, user, models, or why not (wait / deny)
//   record    status is the record of the key values (keyId, lastRotatedAt, previousKey):
//             tenants may write the Secret, never status, so only a Secret value whose hash
//             status recorded is the key (key-material.ts); every new value is recorded
//             BEFORE it is written to the Secret
//   client    key-client.ts: the Secret, /key/info (or the resync's /key/list snapshot:
//             key-snapshot.ts), mint and rotate, /key/generate, the smallest /key/update,
//             /key/block or /key/unblock; the gateway's records (key-budget.ts gives the
//             spend LiteLLM reported, with no extra call)
//   ownership row by row: no key whose metadata names another object (or another uid) is
//             ever updated, blocked or deleted (owned-keys.ts); the current key being
//             someone else's → LiteLLMKeyConflict
//   failures  LiteLLM's (litellm-failure.ts) and Redis's (RoutingUnavailable) become
//             Ready=False with their reason, and are retried with backoff
//   events    one Event per type per reconcile (the notes of every change joined)
//   deleting  finalizer llmtenancy.dev/cleanup: every key status records is deleted in
//             LiteLLM and from the routing config, from status alone (a namespace's deletion
//             may have removed the Secret first); Kubernetes deletes the Secret through its
//             owner reference. VirtualKeys have no deletionPolicy.
//
// A converged key costs the Secret from the cache, one /key/info (with the key snapshot, a
// share of one /key/list page) and nothing else: the routing publisher and the status writer
// skip writes that change nothing.
import type { VirtualKey } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { VIRTUAL_KEY_RESOURCE } from '../shared/kinds.ts';
import { ManagedReconciler, type ManagedKind } from '../shared/managed/managed-reconciler.ts';
import type { KeyAccess } from './key-access.ts';
import {
  KeyClient,
  KEY_CONFLICT_MESSAGE,
  type KeyClientDeps,
  type KeyObserved,
} from './key-client.ts';
import { isRoutingUnavailable, type KeyRouting } from './key-routing.ts';
import type { KeySnapshot } from './key-snapshot.ts';
import { notReadyStatus } from './key-status.ts';
import { OwnSecretWrites, TrackedKeyValues } from './own-secret-writes.ts';
import { OwnedKeys } from './owned-keys.ts';
import type { VirtualKeyStores } from './watches.ts';

export const VIRTUAL_KEY_FINALIZER = 'llmtenancy.dev/cleanup';
export const VIRTUAL_KEY_FIELD_MANAGER = 'llm-tenancy-virtualkey';

export interface VirtualKeyReconcilerOptions {
  kube: KubeClient;
  litellm: LiteLLMClient;
  stores: VirtualKeyStores;
  routing: KeyRouting;
  recorder: Pick<EventRecorder, 'record'>;
  /** Written to every Secret next to the key (OPENAI_BASE_URL). */
  gatewayUrl: string;
  resyncIntervalMs: number;
  /** Stamped into every LiteLLM key this installation makes (shared/ownership.ts). */
  installationId: string;
  /** This installation's keys as of the last resync's /key/list (key-snapshot.ts). */
  snapshot?: KeySnapshot;
  /** Told of every Secret write, so its watch event does not reconcile again. */
  secretWrites?: OwnSecretWrites;
  clock?: Clock;
  random?: () => number;
}

export class VirtualKeyReconciler implements Reconciler {
  readonly #managed: ManagedReconciler<VirtualKey, KeyObserved>;

  constructor(options: VirtualKeyReconcilerOptions) {
    const clock = options.clock ?? systemClock;
    const status = new StatusWriter(options.kube, { fieldManager: VIRTUAL_KEY_FIELD_MANAGER });
    const values = new TrackedKeyValues(
      options.secretWrites ?? new OwnSecretWrites(),
      options.kube,
      { status, gatewayUrl: options.gatewayUrl },
    );
    this.#managed = new ManagedReconciler({
      kind: virtualKeyKind({
        keys: new OwnedKeys(options.litellm, options.snapshot),
        stores: options.stores,
        routing: options.routing,
        values,
        installationId: options.installationId,
      }),
      lookup: (request) => options.stores.keys.getByName(request.name, request.namespace),
      finalizers: new Finalizers(options.kube, {
        fieldManager: VIRTUAL_KEY_FIELD_MANAGER,
        recorder: options.recorder,
      }),
      status,
      recorder: options.recorder,
      installationId: options.installationId,
      resyncIntervalMs: options.resyncIntervalMs,
      now: () => new Date(clock.now()),
      random: options.random,
    });
  }

  reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    return this.#managed.reconcile(request, context);
  }
}

/** What makes a VirtualKey's reconcile a VirtualKey's. */
export function virtualKeyKind(deps: KeyClientDeps): ManagedKind<VirtualKey, KeyObserved> {
  return {
    kind: 'VirtualKey',
    resource: VIRTUAL_KEY_RESOURCE,
    finalizer: VIRTUAL_KEY_FINALIZER,
    connect: (key, context) => new KeyClient(key, context, deps),
    notReadyStatus: (current, { reason, message, detail }, now) => {
      const access = detail as KeyAccess | undefined;
      return notReadyStatus(
        current,
        reason,
        message,
        now,
        access && { team: access.team?.name, missing: access.missing },
      );
    },
    conflictReason: 'LiteLLMKeyConflict',
    conflictMessage: () => KEY_CONFLICT_MESSAGE,
    // The client judges each key itself (ownership by row); it never adopts.
    cleansUp: new Set(['ours']),
    adopted: (id) => ({ reason: 'Adopted', note: `adopted the key of ${id}` }),
    orphaned: (id) => ({ reason: 'Orphaned', note: `left the key of ${id} in place` }),
    failure: (err) =>
      isRoutingUnavailable(err)
        ? { reason: 'RoutingUnavailable', message: (err as Error).message }
        : undefined,
    coalesceEvents: true,
  };
}
