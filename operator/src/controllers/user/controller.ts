// The User controller as the Manager takes it:
//
//   manager.addController(userController({ kube, informers: manager.informers, litellm, … }))
//
// Reconciles each User on spec changes, deletion, finalizer and annotation changes (its own
// status writes are ignored), and the Users a Team's member list names whenever that list
// changes, so status.teams follows the Teams.
import type { Team, User } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import { litellmErrorPolicy } from '../../litellm/errors.ts';
import { generationChanged, type UpdatePredicate } from '../../runtime/event-handlers.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { InformerFactory } from '../../runtime/informer-factory.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ManagedControllerOptions } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { TEAM_TARGET, USER_RESOURCE, USER_TARGET } from '../shared/kinds.ts';
import { USER_FIELD_MANAGER, UserReconciler } from './reconciler.ts';
import { memberRequests, membersChanged } from './user-teams.ts';

export const USER_CONTROLLER = 'user';

export interface UserControllerDeps {
  /** The manager's client (manager.kube): cached reads, fenced writes. */
  kube: KubeClient;
  /** The manager's informers (manager.informers): caches shared with the other controllers. */
  informers: InformerFactory;
  litellm: LiteLLMClient;
  logger: Logger;
  recorder: Pick<EventRecorder, 'record'>;
  /** How often a converged User is compared with LiteLLM again (jittered by +10 %). */
  resyncIntervalMs: number;
  /** This installation's id (operator/src/installation.ts), stamped into LiteLLM objects. */
  installationId: string;
  /** Users reconciled at once. Default 4. */
  workers?: number;
  /**
   * Only Users and Teams with these labels (tests sharing one API server; several operators
   * on one cluster). Default: all.
   */
  labelSelector?: string;
}

export function userController(deps: UserControllerDeps): ManagedControllerOptions {
  const userTarget = { ...USER_TARGET, labelSelector: deps.labelSelector };
  const teamTarget = { ...TEAM_TARGET, labelSelector: deps.labelSelector };
  const users = deps.informers.informerFor<User>(userTarget).store;
  const teams = deps.informers.informerFor<Team>(teamTarget).store;
  const reconciler = new UserReconciler({
    users,
    teams,
    litellm: deps.litellm,
    statusWriter: new StatusWriter(deps.kube, {
      fieldManager: USER_FIELD_MANAGER,
      logger: deps.logger,
    }),
    finalizers: new Finalizers(deps.kube, {
      fieldManager: USER_FIELD_MANAGER,
      recorder: deps.recorder,
    }),
    events: deps.recorder,
    userResource: USER_RESOURCE,
    resyncIntervalMs: deps.resyncIntervalMs,
    installationId: deps.installationId,
  });
  return {
    name: USER_CONTROLLER,
    workers: deps.workers ?? 4,
    reconciler,
    errorPolicy: litellmErrorPolicy,
    for: { target: userTarget, updatePredicate: generationChanged },
    watches: [
      {
        target: teamTarget,
        map: (team: KubeObject): readonly Request[] => memberRequests(team as Team),
        updatePredicate: membersChanged as unknown as UpdatePredicate<KubeObject>,
      },
    ],
  };
}
