// The kinds the controllers watch and write, named once: informer targets (the manager shares
// one informer per target, so every controller naming the same target reads the same cache)
// and the resource types status writes need.
import { API_VERSION } from '../../../../crds/api/index.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { InformerTarget } from '../../runtime/informer-factory.ts';

export const TEAM_TARGET: InformerTarget = { apiVersion: API_VERSION, kind: 'Team' };
export const USER_TARGET: InformerTarget = { apiVersion: API_VERSION, kind: 'User' };
export const MODEL_SUBSCRIPTION_TARGET: InformerTarget = {
  apiVersion: API_VERSION,
  kind: 'ModelSubscription',
};
/** OpenShift's built-in Group; optional: not served on plain Kubernetes. */
export const OPENSHIFT_GROUP_TARGET: InformerTarget = {
  apiVersion: 'user.openshift.io/v1',
  kind: 'Group',
};

export const TEAM_RESOURCE: ResourceType = { ...TEAM_TARGET, plural: 'teams', namespaced: false };
export const MODEL_SUBSCRIPTION_RESOURCE: ResourceType = {
  ...MODEL_SUBSCRIPTION_TARGET,
  plural: 'modelsubscriptions',
  namespaced: true,
};
