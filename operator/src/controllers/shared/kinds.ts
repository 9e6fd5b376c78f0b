// The kinds the controllers watch and write, derived from the API's kind definitions
// (crds/api: kind, plural, scope), so nothing restates them: informer targets (the manager
// shares one informer per target, so every controller naming the same target reads the same
// cache, indexed with the target's indexes) and the resource types status writes need.
import {
  API_VERSION,
  modelSubscriptionKind,
  teamKind,
  userKind,
  virtualKeyKind,
  type KindDefinition,
} from '../../../../crds/api/index.ts';
import type { StoreIndex } from '../../runtime/cache.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { InformerTarget } from '../../runtime/informer-factory.ts';
import { GROUP_INDEXES, KEY_INDEXES, SUBSCRIPTION_INDEXES, TEAM_INDEXES } from './indexes.ts';

/** An API kind's informer target, with the indexes every store of it carries. */
export function targetOf(
  kind: KindDefinition,
  indexes: readonly StoreIndex<never>[] = [],
): InformerTarget {
  return { apiVersion: API_VERSION, kind: kind.kind, indexes };
}

/** An API kind's resource type, for writes. */
export function resourceOf(kind: KindDefinition): ResourceType {
  return {
    apiVersion: API_VERSION,
    kind: kind.kind,
    plural: kind.plural,
    namespaced: kind.scope === 'Namespaced',
  };
}

export const TEAM_TARGET: InformerTarget = targetOf(teamKind, TEAM_INDEXES);
export const USER_TARGET: InformerTarget = targetOf(userKind);
export const MODEL_SUBSCRIPTION_TARGET: InformerTarget = targetOf(
  modelSubscriptionKind,
  SUBSCRIPTION_INDEXES,
);
export const VIRTUAL_KEY_TARGET: InformerTarget = targetOf(virtualKeyKind, KEY_INDEXES);
/** OpenShift's built-in Group; optional: not served on plain Kubernetes. */
export const OPENSHIFT_GROUP_TARGET: InformerTarget = {
  apiVersion: 'user.openshift.io/v1',
  kind: 'Group',
  indexes: GROUP_INDEXES,
};

export const TEAM_RESOURCE = resourceOf(teamKind);
export const USER_RESOURCE = resourceOf(userKind);
export const MODEL_SUBSCRIPTION_RESOURCE = resourceOf(modelSubscriptionKind);
export const VIRTUAL_KEY_RESOURCE = resourceOf(virtualKeyKind);

/** The label selector an installation (or a test) limits each of our kinds to; unset: all. */
export type KindSelectors = {
  readonly [kind in 'Team' | 'User' | 'ModelSubscription' | 'VirtualKey']?: string;
};

/** `target` limited to `selector`, when there is one. */
export function selecting(target: InformerTarget, selector: string | undefined): InformerTarget {
  return selector ? { ...target, labelSelector: selector } : target;
}
